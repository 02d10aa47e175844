import type { Construct } from 'constructs';
import { promptTraffic } from '../../declarations/prompt.ts';
import type { Environment } from '../../declarations/environment.ts';
import type { FleetDeployment } from '../../fleet/fleet.ts';
import { MODEL_REGISTRY_NAME, promptConfigMapName, serviceNames } from '../../fleet/naming.ts';
import { stableJson } from '../../fleet/stable-json.ts';
import { MANAGED_BY, syncWave, SyncWave, VLLM_PORT } from './labels.ts';
import { kplus } from './plus.ts';
import { modelRoutePrefix } from './route.ts';

/** The registry's key in the ConfigMap (what src/client/prompt-client.ts reads). */
export const MODEL_REGISTRY_KEY = 'models.json';

/**
 * The model registry of an environment: each model's in-cluster endpoint,
 * gateway route, GPU and prompts, with every prompt version's text and A/B
 * weight, so a caller (src/client/prompt-client.ts) can choose and render the
 * version it sends.
 */
export function addModelRegistry(scope: Construct, environment: Environment, deployments: readonly FleetDeployment[]): void {
  const models = deployments.map((deployment) => ({
    name: deployment.model.name,
    servedModelName: deployment.model.name,
    endpoint: `http://${serviceNames(deployment.model.name).root}.${environment.namespace}.svc.cluster.local:${VLLM_PORT}/v1`,
    gatewayPathPrefix: modelRoutePrefix(deployment.model.name),
    gpu: deployment.spec.gpu,
    maxModelLen: deployment.engineArgs['max-model-len'] ?? deployment.model.contextLengthTokens,
    prompts: Object.fromEntries(
      deployment.prompts.map((prompt) => [
        prompt.name,
        {
          traffic: promptTraffic(prompt),
          versions: Object.fromEntries(
            Object.entries(prompt.versions).map(([version, body]) => [
              version,
              { configMap: promptConfigMapName(prompt, version), system: body.system, template: body.template, temperature: body.temperature, maxOutputTokens: body.maxOutputTokens },
            ]),
          ),
        },
      ]),
    ),
  }));
  new kplus.ConfigMap(scope, 'model-registry', {
    metadata: { name: MODEL_REGISTRY_NAME, labels: { ...MANAGED_BY, 'llmops.dev/environment': environment.name }, annotations: syncWave(SyncWave.configuration) },
    data: { [MODEL_REGISTRY_KEY]: stableJson({ environment: environment.name, models }) },
  });
}
