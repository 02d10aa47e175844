/** Names shared by the Kubernetes and Terraform outputs, so the two always refer to the same things. */
import type { Environment } from '../declarations/environment.ts';

/** Kubernetes ServiceAccount of a model's servers (one per deployment, so each reads only its model). */
export function modelServerServiceAccount(modelName: string): string {
  return `${modelName}-server`;
}

/** Object prefix of a model's artifacts in the environment's model bucket. */
export function modelArtifactPrefix(modelName: string): string {
  return `models/${modelName}/`;
}

/** Labels (tags) every cloud resource carries. */
export function resourceLabels(environment: Environment, extra: Record<string, string> = {}): Record<string, string> {
  return { environment: environment.name, 'managed-by': 'llmops-gitops', ...extra };
}

/** The Kubernetes workload-identity subject of a model's servers. */
export function serviceAccountSubject(environment: Environment, modelName: string): string {
  return `system:serviceaccount:${environment.namespace}:${modelServerServiceAccount(modelName)}`;
}
