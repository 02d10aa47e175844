import { ApiObject } from 'cdk8s';
import type { Construct } from 'constructs';
import { promptTraffic, type PromptVersion } from '../../declarations/prompt.ts';
import type { FleetDeployment } from '../../fleet/fleet.ts';
import { promptConfigMapName, serviceNames } from '../../fleet/naming.ts';
import { stableJson } from '../serialize.ts';
import { deploymentLabels, syncWave, SyncWave, VLLM_PORT } from './labels.ts';
import { kplus } from './plus.ts';

/** Request header naming the prompt a caller uses; the gateway answers with the version it picked. */
export const PROMPT_HEADER = 'x-llmops-prompt';
export const PROMPT_VERSION_HEADER = 'x-llmops-prompt-version';

/** One ConfigMap per prompt version, immutable (a change is a new name). */
export function addPromptConfigMaps(scope: Construct, deployment: FleetDeployment): void {
  for (const prompt of deployment.prompts) {
    for (const [version, body] of Object.entries(prompt.versions) as [string, PromptVersion][]) {
      new kplus.ConfigMap(scope, `prompt-${prompt.name}-${version}`, {
        metadata: {
          name: promptConfigMapName(prompt, version),
          labels: { ...deploymentLabels(deployment), 'llmops.dev/prompt': prompt.name, 'llmops.dev/prompt-version': version },
          annotations: syncWave(SyncWave.configuration),
        },
        immutable: true,
        data: {
          system: body.system,
          template: body.template,
          'sampling.json': stableJson({ temperature: body.temperature, max_tokens: body.maxOutputTokens }),
        },
      });
    }
  }
}

/** Path prefix of a model behind the gateway: `/<model>/v1/chat/completions` reaches the server's `/v1/chat/completions`. */
export function modelRoutePrefix(modelName: string): string {
  return `/${modelName}/v1`;
}

/**
 * A Gateway API HTTPRoute on the environment's existing Gateway: requests under
 * the model's prefix go to the root Service (every pod, so a replica-weighted
 * canary gets its share); a request naming a prompt gets a version picked by the
 * prompt's A/B weights, stamped in a header for the caller's prompt renderer.
 */
export function addRoute(scope: Construct, deployment: FleetDeployment): void {
  const { environment, model } = deployment;
  const service = serviceNames(model.name).root;
  const path = { type: 'PathPrefix', value: modelRoutePrefix(model.name) };
  const rewrite = { type: 'URLRewrite', urlRewrite: { path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/v1' } } };
  const backend = { name: service, port: VLLM_PORT };
  const promptRules = deployment.prompts.map((prompt) => ({
    matches: [{ path, headers: [{ type: 'Exact', name: PROMPT_HEADER, value: prompt.name }] }],
    filters: [rewrite],
    backendRefs: Object.entries(promptTraffic(prompt))
      .filter(([, weight]) => weight > 0)
      .map(([version, weight]) => ({
        ...backend,
        weight,
        filters: [{ type: 'RequestHeaderModifier', requestHeaderModifier: { set: [{ name: PROMPT_VERSION_HEADER, value: version }] } }],
      })),
  }));
  new ApiObject(scope, 'route', {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: { name: model.name, labels: deploymentLabels(deployment), annotations: syncWave(SyncWave.observers) },
    spec: {
      parentRefs: [{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: environment.gateway.name, namespace: environment.gateway.namespace }],
      rules: [...promptRules, { matches: [{ path }], filters: [rewrite], backendRefs: [backend] }],
    },
  });
}
