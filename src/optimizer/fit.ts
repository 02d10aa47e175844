/**
 * Proposals that fit the cluster. A configuration's maximum replicas, plus one
 * canary surge replica, must fit the node pools its shape lands on — shared
 * with the other deployments of its environment and of every environment in
 * the same cluster (src/fleet/capacity.ts, the loader's own check). Where they
 * do not, the proposal grows the environment's own pool in the same pull
 * request, if the environment's budget still holds with the proposal running at
 * its maximum replicas; otherwise it is not made. Pure.
 */
import { HOURS_PER_MONTH } from '../catalogue/prices.ts';
import type { Environment } from '../declarations/environment.ts';
import { wouldFit, type PoolChange } from '../fleet/capacity.ts';
import { estimateDeploymentCost } from '../fleet/cost.ts';
import type { FleetDeployment } from '../fleet/fleet.ts';
import type { Configuration } from './predict.ts';

/** What the planner knows about the deployment's cluster and budget. */
export interface ClusterRoom {
  /** The environments sharing the deployment's cluster, its own first (src/fleet/capacity.ts `clusterPeers`). */
  readonly peers: readonly Environment[];
  /** Projected monthly spend of the environment's other deployments, USD (absent: the budget is not checked). */
  readonly otherDeploymentsMonthlyUsd?: number;
}

export interface PoolFit {
  /** Pool maxima the proposal raises in the same pull request (always the environment's own pool of the shape: a cluster's pools of one shape are shared). */
  readonly poolChanges: readonly PoolChange[];
  /** Why the configuration cannot be proposed, when it cannot. */
  readonly violation?: string;
}

/** The deployment block a configuration declares. */
const specOf = (deployment: FleetDeployment, configuration: Configuration) => ({
  ...deployment.spec,
  gpu: { type: configuration.gpuType, count: configuration.gpuCount },
  replicas: { min: configuration.replicasMin, max: configuration.replicasMax },
});

/** Whether `configuration` fits the deployment's node pools, or the pool changes (within the budget) that make it fit. */
export function fitToPools(deployment: FleetDeployment, configuration: Configuration, room: ClusterRoom): PoolFit {
  const { environment, model } = deployment;
  const spec = specOf(deployment, configuration);
  const verdict = wouldFit(environment, model.name, spec, room.peers);
  if (verdict.fits) return { poolChanges: [] };
  const needs = verdict.shapes
    .filter((shape) => !shape.fits)
    .map(
      (shape) =>
        `${shape.demandGpus} GPUs on the ${shape.gpusPerNode} × ${shape.gpuType} nodes of ${shape.pools.map((pool) => `${pool.environment}/${pool.name}`).join(' + ')} (at most ${shape.maxGpus}; ${shape.demands.map((demand) => `${demand.model} (${demand.maxReplicas} + 1 surge) × ${demand.nodeGpusPerReplica}`).join(' + ')})`,
    )
    .join('; ');
  if (room.otherDeploymentsMonthlyUsd !== undefined) {
    const atMax = (estimateDeploymentCost(environment, spec)?.usdPerHourPerReplica ?? Infinity) * configuration.replicasMax * HOURS_PER_MONTH;
    const projected = room.otherDeploymentsMonthlyUsd + atMax;
    if (projected > environment.budget.monthlyUsd) {
      return {
        poolChanges: [],
        violation: `does not fit the node pools: needs ${needs}; growing ${verdict.poolChanges.map((change) => change.poolName).join(', ')} would let ${environment.name} spend ${Math.round(projected)} USD/month at the maximum replicas, over its ${environment.budget.monthlyUsd} USD budget`,
      };
    }
  }
  return { poolChanges: verdict.poolChanges };
}
