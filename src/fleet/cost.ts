/** Cost estimates of deployments and node pools from the clouds' dated price catalogues. */
import { HOURS_PER_MONTH, hourlyUsd, quotePrice, type QuotedPrice } from '../catalogue/prices.ts';
import { isCloudIssue } from '../clouds/cloud-plugin.ts';
import { cloudPlugin, machineFor } from '../clouds/registry.ts';
import type { Capacity, Deployment, Environment, NodePool } from '../declarations/environment.ts';
import { poolShape, shapePools } from './capacity.ts';

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

/** The price of one node of a pool, or undefined when the catalogue has none. */
export function poolNodePrice(environment: Environment, pool: NodePool): { machineType: string; gpus: number; usdPerHour: number; price: QuotedPrice } | undefined {
  const machine = machineFor(environment.cloud, pool.gpuType, pool.gpusPerNode);
  const price = machine && quotePrice(cloudPlugin(environment.cloud).prices, environment.region, machine.machineType, environment.prices);
  if (!machine || !price) return undefined;
  return { machineType: machine.machineType, gpus: machine.gpus, usdPerHour: hourlyUsd(price, pool.capacity), price };
}

/**
 * Prices a deployment on the cheapest pool of its shape (the pools it can land
 * on), charging each replica its share of the machine (bin-packed nodes).
 * `allowSpot: false` leaves spot pools out. Default: spot allowed.
 */
export function estimateDeploymentCost(environment: Environment, deployment: Deployment, options: { allowSpot?: boolean } = {}): DeploymentCost | undefined {
  const shape = poolShape(environment, deployment.gpu);
  if (!shape) return undefined;
  const candidates = shapePools(environment, shape)
    .filter((pool) => (options.allowSpot ?? true) || pool.capacity !== 'spot')
    .flatMap((pool) => {
      const node = poolNodePrice(environment, pool);
      if (!node) return [];
      return [{ machineType: node.machineType, capacity: pool.capacity, usdPerHourPerReplica: (node.usdPerHour / node.gpus) * deployment.gpu.count, price: node.price }];
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

/** What a node pool costs at the node counts the Terraform output provisions. */
export interface PoolCost {
  readonly pool: NodePool;
  readonly machineType: string;
  /** Zones the nodes run in (empty: the cloud places them). */
  readonly zones: readonly string[];
  readonly zonesSource: string;
  /** Fewest and most nodes of the whole pool. */
  readonly minNodes: number;
  readonly maxNodes: number;
  readonly usdPerHourPerNode: number;
  readonly minUsdPerMonth: number;
  readonly maxUsdPerMonth: number;
  readonly price: QuotedPrice;
}

/** A pool's node range and monthly cost as provisioned, or undefined when it is not priced or not placeable. */
export function poolCost(environment: Environment, pool: NodePool): PoolCost | undefined {
  const node = poolNodePrice(environment, pool);
  const placement = cloudPlugin(environment.cloud).placement(environment, pool);
  if (!node || isCloudIssue(placement)) return undefined;
  return {
    pool,
    machineType: node.machineType,
    zones: placement.zones,
    zonesSource: placement.zonesSource,
    minNodes: placement.minNodes,
    maxNodes: placement.maxNodes,
    usdPerHourPerNode: node.usdPerHour,
    minUsdPerMonth: node.usdPerHour * placement.minNodes * HOURS_PER_MONTH,
    maxUsdPerMonth: node.usdPerHour * placement.maxNodes * HOURS_PER_MONTH,
    price: node.price,
  };
}
