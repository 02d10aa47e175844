import type { Construct } from 'constructs';
import { promptTraffic } from '../../declarations/prompt.ts';
import type { Environment } from '../../declarations/environment.ts';
import type { FleetDeployment } from '../../fleet/fleet.ts';
import { MODEL_REGISTRY_NAME, promptConfigMapName, serviceNames } from '../../fleet/naming.ts';
import { stableJson } from '../serialize.ts';
import { MANAGED_BY, syncWave, SyncWave, VLLM_PORT } from './labels.ts';
import { kplus } from './plus.ts';
import { modelRoutePrefix } from './prompts.ts';

/** The model registry of an environment: each model's in-cluster endpoint, gateway route, GPU and prompts. */
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
          versions: Object.fromEntries(Object.keys(prompt.versions).map((version) => [version, promptConfigMapName(prompt, version)])),
        },
      ]),
    ),
  }));
  new kplus.ConfigMap(scope, 'model-registry', {
    metadata: { name: MODEL_REGISTRY_NAME, labels: { ...MANAGED_BY, 'llmops.dev/environment': environment.name }, annotations: syncWave(SyncWave.configuration) },
    data: { 'models.json': stableJson({ environment: environment.name, models }) },
  });
}
