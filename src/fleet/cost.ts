/** Cost estimates of a deployment from the dated price catalogue. */
import { machineFor } from '../catalogue/gpus.ts';
import { HOURS_PER_MONTH, hourlyUsd, quotePrice, type QuotedPrice } from '../catalogue/prices.ts';
import type { Capacity, Deployment, Environment } from '../declarations/environment.ts';

/** What one replica of a deployment costs, and on which machines. */
export interface DeploymentCost {
  /** Machine type of the node pool the replica lands on. */
  readonly machineType: string;
  readonly capacity: Capacity;
  /** Replica's share of the machine (its GPUs ÷ the machine's), USD/hour. */
  readonly usdPerHourPerReplica: number;
  /** At the fewest replicas, USD/month. */
  readonly minUsdPerMonth: number;
  /** At the most replicas, USD/month. */
  readonly maxUsdPerMonth: number;
  readonly price: QuotedPrice;
}

/**
 * Prices a deployment on the cheapest node pool of its GPU type that can host a
 * replica, charging each replica its share of the machine (bin-packed nodes).
 * `allowSpot: false` leaves spot pools out. Default: spot allowed.
 */
export function estimateDeploymentCost(environment: Environment, deployment: Deployment, options: { allowSpot?: boolean } = {}): DeploymentCost | undefined {
  const candidates = environment.nodePools
    .filter((pool) => pool.gpuType === deployment.gpu.type && pool.gpusPerNode >= deployment.gpu.count && (options.allowSpot ?? true ? true : pool.capacity !== 'spot'))
    .flatMap((pool) => {
      const machine = machineFor(environment.cloud, pool.gpuType, pool.gpusPerNode);
      const price = machine && quotePrice(environment.cloud, environment.region, machine.machineType, environment.prices);
      if (!machine || !price) return [];
      const usdPerHourPerReplica = (hourlyUsd(price, pool.capacity) / machine.gpus) * deployment.gpu.count;
      return [{ machineType: machine.machineType, capacity: pool.capacity, usdPerHourPerReplica, price }];
    })
    .sort((a, b) => a.usdPerHourPerReplica - b.usdPerHourPerReplica);
  const cheapest = candidates[0];
  if (!cheapest) return undefined;
  return {
    ...cheapest,
    minUsdPerMonth: cheapest.usdPerHourPerReplica * deployment.replicas.min * HOURS_PER_MONTH,
    maxUsdPerMonth: cheapest.usdPerHourPerReplica * deployment.replicas.max * HOURS_PER_MONTH,
  };
}
