/**
 * What a cloud builds in an environment's Terraform stack, behind one
 * interface: each plug-in's `terraform.ts` implements it with its cdktf
 * provider (imported by submodule path). Kept apart from the plug-in itself so
 * that loading and validating declarations never imports cdktf.
 */
import type { TerraformStack } from 'cdktf';
import type { Environment, NodePool } from '../declarations/environment.ts';
import type { GpuMachine, NodeStorage, NodeTaint, PoolPlacement } from './cloud-plugin.ts';

/** A node pool with everything the shared catalogue and the capacity rules decided for it. */
export interface PlannedPool {
  readonly pool: NodePool;
  /** Index in `nodePools`. */
  readonly index: number;
  readonly machine: GpuMachine;
  readonly placement: PoolPlacement;
  /** The nodes' disks, sized by the cloud plug-in for the replicas that may land on the pool. */
  readonly storage: NodeStorage;
  /** Labels the nodes carry: the pool shape a deployment selects. */
  readonly labels: Readonly<Record<string, string>>;
  /** Taints the nodes carry (the GPU taint). */
  readonly taints: readonly NodeTaint[];
}

export interface CloudTerraform<Cluster = unknown, Bucket = unknown> {
  /** The pinned provider block and the environment's remote state backend. */
  configure(stack: TerraformStack, environment: Environment): void;
  /** A data source reading the environment's existing cluster. */
  lookUpCluster(stack: TerraformStack, environment: Environment): Cluster;
  /**
   * What the cluster itself needs once, whichever environment's stack creates
   * it (EKS: the cluster-autoscaler's IRSA role); only the stack of the
   * cluster's first environment (by name) calls it.
   */
  addClusterResources?(stack: TerraformStack, environment: Environment, cluster: Cluster): void;
  /** One autoscaled GPU node pool. */
  addGpuNodePool(stack: TerraformStack, environment: Environment, pool: PlannedPool, cluster: Cluster): void;
  /** The model-artifact bucket: versioned, encrypted, private, in the layout the cloud's model URIs read. */
  addModelBucket(stack: TerraformStack, environment: Environment, modelNames: readonly string[], cluster: Cluster): Bucket;
  /**
   * An identity for one model's servers that can read that model's artifacts and
   * nothing else; returns the id the Kubernetes side needs (role ARN, service
   * account email, client id, access key id) as a Terraform expression.
   */
  addModelReader(stack: TerraformStack, environment: Environment, modelName: string, cluster: Cluster, bucket: Bucket): string;
}

/** Construct ids derived from declaration names. */
export const constructId = (...parts: string[]): string => parts.join('-');

/** Kubernetes taint effects as the EKS and GKE Terraform resources spell them. */
export const TERRAFORM_TAINT_EFFECT = { NoSchedule: 'NO_SCHEDULE', NoExecute: 'NO_EXECUTE', PreferNoSchedule: 'PREFER_NO_SCHEDULE' } as const;
