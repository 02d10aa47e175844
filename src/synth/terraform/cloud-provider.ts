/**
 * The provider abstraction layer: what every cloud must build for an
 * environment. Each cloud implements it in its own folder; nothing else in the
 * code base branches on the cloud name. All cdktf provider imports live behind
 * this interface (by submodule path), so a move to a maintained CDKTF fork is a
 * change inside src/synth/terraform/ only.
 */
import type { TerraformStack } from 'cdktf';
import type { Cloud } from '../../catalogue/clouds.ts';
import type { Environment, NodePool } from '../../declarations/environment.ts';

export interface CloudProvider<Cluster = unknown, Bucket = unknown> {
  readonly cloud: Cloud;
  /** The pinned provider block and the environment's remote state backend. */
  configure(stack: TerraformStack, environment: Environment): void;
  /** A data source reading the environment's existing cluster. */
  lookUpCluster(stack: TerraformStack, environment: Environment): Cluster;
  /** One autoscaled GPU node pool: machine type, capacity, taint and labels from the GPU catalogue. */
  addGpuNodePool(stack: TerraformStack, environment: Environment, pool: NodePool, cluster: Cluster): void;
  /** The model-artifact bucket: versioned, encrypted, private, old versions moved to a colder tier. */
  addModelBucket(stack: TerraformStack, environment: Environment, modelNames: readonly string[]): Bucket;
  /** An identity for one model's servers that can read that model's artifacts and nothing else. */
  addModelReader(stack: TerraformStack, environment: Environment, modelName: string, cluster: Cluster, bucket: Bucket): void;
}

/** Construct ids and cloud names derived from declaration names, kept in one place. */
export const constructId = (...parts: string[]): string => parts.join('-');

/** Kubernetes taint effects as the EKS and GKE Terraform resources spell them. */
export const TERRAFORM_TAINT_EFFECT = { NoSchedule: 'NO_SCHEDULE', NoExecute: 'NO_EXECUTE', PreferNoSchedule: 'PREFER_NO_SCHEDULE' } as const;
