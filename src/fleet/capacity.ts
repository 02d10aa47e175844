/**
 * Capacity: whether the node pools can hold every replica the deployments may
 * run, including one canary surge replica each — the one function the loader
 * uses to reject a declaration and the optimizer uses to keep (or grow) its
 * proposals within the pools.
 *
 * A deployment lands only on the pools of its *shape*: its GPU type, on the
 * pools with the fewest GPUs per node that hold one replica (node labels
 * `llmops.dev/gpu-type` and `llmops.dev/gpus-per-node`, see
 * {@link deploymentNodeSelector}). So a 1-GPU 8B never takes a node of the
 * 4-GPU pool meant for a tensor-parallel 70B. Pools of one shape (spot and
 * on-demand, say) share the shape's demand. Node pools carry only the shape's
 * labels, so environments that share a cluster share its pools of a shape:
 * another environment's model counts against them too. Node counts are the
 * whole pool's, as the cloud plug-in provisions them (on GKE with total_*
 * counts across the pool's zones).
 */
import { poolShapeLabels, type GpuType } from '../catalogue/gpus.ts';
import { isCloudIssue } from '../clouds/cloud-plugin.ts';
import { cloudPlugin } from '../clouds/registry.ts';
import type { Deployment, Environment, NodePool } from '../declarations/environment.ts';

/** GPU type and GPUs per node: which pools a deployment may land on. */
export interface PoolShape {
  readonly gpuType: GpuType;
  readonly gpusPerNode: number;
}

/**
 * Every replica beyond the maximum that can exist at once: Argo Rollouts'
 * canary `maxSurge: 1`, or a Deployment's rolling update (25 % rounds up to 1).
 */
export const SURGE_REPLICAS = 1;

/** What one deployment asks of its shape. */
export interface DeploymentDemand {
  /** The model, as `<environment>/<model>` when it is another environment's of the cluster. */
  readonly model: string;
  readonly maxReplicas: number;
  readonly gpusPerReplica: number;
  /**
   * GPUs a replica takes from its node, counting those it strands: on 4-GPU
   * nodes a 3-GPU replica leaves one GPU no other 3-GPU replica can use.
   */
  readonly nodeGpusPerReplica: number;
  /** (maximum replicas + surge) × node GPUs per replica. */
  readonly gpus: number;
}

/** One pool of a shape, as the Terraform output provisions it. */
export interface ShapePool {
  /** The environment that declares it. */
  readonly environment: string;
  /** Index in its environment's `nodePools`. */
  readonly index: number;
  readonly name: string;
  readonly minNodes: number;
  readonly maxNodes: number;
}

/** A shape's pools against the deployments that land on them. */
export interface ShapeCapacity extends PoolShape {
  readonly pools: readonly ShapePool[];
  readonly demands: readonly DeploymentDemand[];
  /** GPUs the deployments may need at once. */
  readonly demandGpus: number;
  /** GPUs the pools hold at their maxima. */
  readonly maxGpus: number;
  readonly fits: boolean;
  /** Nodes to add to the shape's maxima so that it fits (0 when it does). */
  readonly missingNodes: number;
}

/** A change to a node pool's maximum that makes a configuration fit. */
export interface PoolChange {
  readonly environment: string;
  readonly poolIndex: number;
  readonly poolName: string;
  readonly maxNodes: number;
}

export interface CapacityVerdict {
  readonly fits: boolean;
  readonly shapes: readonly ShapeCapacity[];
  /** For each shape that does not fit: raise the maximum of its first pool (the environment's own, where it has one) to this. */
  readonly poolChanges: readonly PoolChange[];
}

/** The environments that share `environment`'s cluster (itself included), in the order given: they share its node pools. */
export function clusterPeers(environment: Environment, environments: readonly Environment[]): Environment[] {
  const peers = environments.filter((candidate) => candidate.cloud === environment.cloud && candidate.cluster === environment.cluster);
  return peers.some((peer) => peer.name === environment.name) ? peers : [environment, ...peers];
}

/** The shape a deployment of `count` GPUs of `gpuType` lands on, or undefined when no pool can hold a replica. */
export function poolShape(environment: Environment, gpu: { readonly type: GpuType; readonly count: number }): PoolShape | undefined {
  const sizes = environment.nodePools.filter((pool) => pool.gpuType === gpu.type && pool.gpusPerNode >= gpu.count).map((pool) => pool.gpusPerNode);
  return sizes.length === 0 ? undefined : { gpuType: gpu.type, gpusPerNode: Math.min(...sizes) };
}

/** Node labels a deployment's pods select: its shape's (the same labels the Terraform node pools carry). */
export function deploymentNodeSelector(environment: Environment, spec: Deployment): Record<string, string> {
  const shape = poolShape(environment, spec.gpu);
  return shape ? poolShapeLabels(shape.gpuType, shape.gpusPerNode) : poolShapeLabels(spec.gpu.type, spec.gpu.count);
}

/** The node pools of a shape. */
export function shapePools(environment: Environment, shape: PoolShape): NodePool[] {
  return environment.nodePools.filter((pool) => pool.gpuType === shape.gpuType && pool.gpusPerNode === shape.gpusPerNode);
}

function demandOf(model: string, spec: Deployment, gpusPerNode: number): DeploymentDemand {
  const nodeGpusPerReplica = gpusPerNode / Math.floor(gpusPerNode / spec.gpu.count);
  return { model, maxReplicas: spec.replicas.max, gpusPerReplica: spec.gpu.count, nodeGpusPerReplica, gpus: (spec.replicas.max + SURGE_REPLICAS) * nodeGpusPerReplica };
}

/**
 * Every shape the pools of the cluster form, with the deployments that land on it. `peers`: the environments of the
 * cluster in the fleet's order ({@link clusterPeers}; default: `environment` alone), `environment` standing for its own.
 */
export function environmentCapacity(environment: Environment, peers: readonly Environment[] = [environment]): ShapeCapacity[] {
  const cluster = peers.some((peer) => peer.name === environment.name) ? peers.map((peer) => (peer.name === environment.name ? environment : peer)) : [environment, ...peers];
  const shapes = new Map(cluster.flatMap((member) => member.nodePools.map((pool) => [`${pool.gpuType}/${pool.gpusPerNode}`, { gpuType: pool.gpuType, gpusPerNode: pool.gpusPerNode }] as const)));
  return [...shapes.values()].map(({ gpuType, gpusPerNode }) => {
    const pools: ShapePool[] = cluster.flatMap((member) => {
      const plugin = cloudPlugin(member.cloud);
      return member.nodePools.flatMap((pool, index) => {
        if (pool.gpuType !== gpuType || pool.gpusPerNode !== gpusPerNode) return [];
        const placement = plugin.placement(member, pool);
        const counts = isCloudIssue(placement) ? pool : placement;
        return [{ environment: member.name, index, name: pool.name, minNodes: counts.minNodes, maxNodes: counts.maxNodes }];
      });
    });
    const demands = cluster.flatMap((member) =>
      Object.entries(member.deployments)
        .filter(([, spec]) => {
          const shape = poolShape(member, spec.gpu);
          return shape?.gpuType === gpuType && shape.gpusPerNode === gpusPerNode;
        })
        .map(([model, spec]) => demandOf(member === environment ? model : `${member.name}/${model}`, spec, gpusPerNode)),
    );
    const demandGpus = demands.reduce((sum, demand) => sum + demand.gpus, 0);
    const maxGpus = pools.reduce((sum, pool) => sum + pool.maxNodes, 0) * gpusPerNode;
    const missingNodes = Math.max(0, Math.ceil((demandGpus - maxGpus) / gpusPerNode));
    return { gpuType, gpusPerNode, pools, demands, demandGpus, maxGpus, fits: missingNodes === 0, missingNodes };
  });
}

/** Whether the deployments of the environment (and of the `peers` sharing its cluster) fit the pools, and the pool maxima that would make them fit. */
export function checkCapacity(environment: Environment, peers: readonly Environment[] = [environment]): CapacityVerdict {
  const shapes = environmentCapacity(environment, peers);
  const poolChanges = shapes
    .filter((shape) => !shape.fits)
    .map((shape) => {
      const pool = shape.pools.find((candidate) => candidate.environment === environment.name) ?? shape.pools[0];
      return { environment: pool.environment, poolIndex: pool.index, poolName: pool.name, maxNodes: pool.maxNodes + shape.missingNodes };
    });
  return { fits: poolChanges.length === 0, shapes, poolChanges };
}

/**
 * Would the environment's cluster still fit with one deployment changed (or added)? The optimizer's question
 * before it proposes: the verdict says which pool maxima would have to grow, for a proposal that changes the pools
 * in the same pull request.
 */
export function wouldFit(environment: Environment, modelName: string, spec: Deployment, peers: readonly Environment[] = [environment]): CapacityVerdict {
  return checkCapacity({ ...environment, deployments: { ...environment.deployments, [modelName]: spec } }, peers);
}

/**
 * The loader's report: one problem per shape of the cluster that cannot hold its deployments, at the maxNodes of
 * the shape's first pool when `environment` declares it (so a shape two environments share is reported once).
 */
export function capacityIssues(environment: Environment, peers: readonly Environment[] = [environment]): { path: string; message: string }[] {
  return environmentCapacity(environment, peers)
    .filter((shape) => !shape.fits && shape.pools[0].environment === environment.name)
    .map((shape) => {
      const first = shape.pools[0];
      const needs = shape.demands.map((demand) => `${demand.model} (${demand.maxReplicas} + ${SURGE_REPLICAS} surge) × ${demand.nodeGpusPerReplica} GPU(s)`).join(' + ');
      const holds = shape.pools.map((pool) => `${pool.environment === environment.name ? '' : `${pool.environment}/`}${pool.name} ${pool.maxNodes}`).join(' + ');
      const shared =
        shape.pools.some((pool) => pool.environment !== environment.name) || shape.demands.some((demand) => demand.model.includes('/'))
          ? ` (shared with the other environments of cluster ${environment.cluster})`
          : '';
      return {
        path: `nodePools[${first.index}].maxNodes`,
        message:
          `expected room for every replica on the ${shape.gpusPerNode} × ${shape.gpuType} nodes${shared}, plus one canary surge replica per deployment: ` +
          `${needs} = ${shape.demandGpus} GPUs, but the pools hold ${holds} node(s) × ${shape.gpusPerNode} = ${shape.maxGpus} GPUs (got maxNodes ${first.maxNodes}); ` +
          `raise maxNodes to ${first.maxNodes + shape.missingNodes} or lower replicas.max`,
      };
    });
}
