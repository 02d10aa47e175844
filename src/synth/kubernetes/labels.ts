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
 * Argo CD sync waves: namespace first, then configuration and services, then
 * the workloads, then what watches them.
 */
export const SyncWave = {
  namespace: -2,
  configuration: -1,
  workload: 0,
  observers: 1,
} as const;

export function syncWave(wave: number): Record<string, string> {
  return { 'argocd.argoproj.io/sync-wave': String(wave) };
}

/** The model server's HTTP port (OpenAI API, /health, /metrics). */
export const VLLM_PORT = 8000;
