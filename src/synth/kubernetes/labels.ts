/** Labels, selectors and Argo CD sync waves shared by every object of a deployment. */
import type { FleetDeployment } from '../../fleet/fleet.ts';

export const MANAGED_BY = { 'app.kubernetes.io/managed-by': 'llmops-gitops', 'app.kubernetes.io/part-of': 'llmops' } as const;

/** Labels that select a deployment's pods (stable across releases: a selector is immutable). */
export function selectorLabels(deployment: FleetDeployment): Record<string, string> {
  return { 'app.kubernetes.io/name': 'vllm', 'app.kubernetes.io/instance': deployment.model.name };
}

/** Labels on every object of a deployment. */
export function deploymentLabels(deployment: FleetDeployment): Record<string, string> {
  return {
    ...selectorLabels(deployment),
    'app.kubernetes.io/component': 'model-server',
    ...MANAGED_BY,
    'llmops.dev/environment': deployment.environment.name,
    'llmops.dev/model': deployment.model.name,
  };
}

/**
 * Argo CD sync waves within an environment's Application. Argo CD waits for a
 * wave to be healthy before it applies the next, and the sync ends once the last
 * wave is applied: so the workload (and the autoscaler that targets it) comes
 * last, and a sync never waits on a canary that takes hours of analysis and
 * pauses. Configuration first, then the services, routes and observers.
 */
export const SyncWave = {
  configuration: -1,
  routing: 0,
  workload: 1,
} as const;

export function syncWave(wave: number): Record<string, string> {
  return { 'argocd.argoproj.io/sync-wave': String(wave) };
}

/** `app.kubernetes.io/version` of a deployment's workload and pods: the vLLM release it runs. */
export function versionLabel(deployment: FleetDeployment): Record<string, string> {
  return { 'app.kubernetes.io/version': deployment.model.vllmImageTag };
}

/** The model server's HTTP port (OpenAI API, /health, /metrics). */
export const VLLM_PORT = 8000;
