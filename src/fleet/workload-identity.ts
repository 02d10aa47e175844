/**
 * How a model server's Kubernetes ServiceAccount is bound to its cloud identity
 * (the one the Terraform output creates), per cloud.
 */
import { createHash } from 'node:crypto';
import type { Cloud } from '../catalogue/clouds.ts';
import type { Environment } from '../declarations/environment.ts';

/** IAM role name of a model's servers (AWS IRSA). */
export function awsReaderRoleName(environment: Environment, modelName: string): string {
  return `${environment.cluster}-${environment.name}-${modelName}`.slice(0, 64);
}

/** Google service account id of a model's servers (6–30 characters; long names keep a hash so they stay unique). */
export function gcpReaderAccountId(environment: Environment, modelName: string): string {
  const full = `${environment.name}-${modelName}`;
  if (full.length <= 30) return full;
  const hash = createHash('sha256').update(full).digest('hex').slice(0, 6);
  return `${full.slice(0, 23).replace(/-+$/, '')}-${hash}`;
}

/** What the ServiceAccount and the pods carry so the cloud hands them the identity. */
export interface WorkloadIdentityBinding {
  readonly serviceAccountAnnotations: Record<string, string>;
  readonly podLabels: Record<string, string>;
}

export const WORKLOAD_IDENTITY: Readonly<Record<Cloud, (environment: Environment, modelName: string) => WorkloadIdentityBinding>> = {
  aws: (environment, modelName) => ({
    serviceAccountAnnotations: { 'eks.amazonaws.com/role-arn': `arn:aws:iam::${environment.accountId}:role/${awsReaderRoleName(environment, modelName)}` },
    podLabels: {},
  }),
  gcp: (environment, modelName) => ({
    serviceAccountAnnotations: { 'iam.gke.io/gcp-service-account': `${gcpReaderAccountId(environment, modelName)}@${environment.project}.iam.gserviceaccount.com` },
    podLabels: {},
  }),
  // The client id is known once the stack is applied; until it is declared, pods run without cloud credentials.
  azure: (environment) => ({
    serviceAccountAnnotations: Object.fromEntries(
      environment.workloadIdentityClientId ? [['azure.workload.identity/client-id', environment.workloadIdentityClientId]] : [],
    ),
    podLabels: { 'azure.workload.identity/use': 'true' },
  }),
};
