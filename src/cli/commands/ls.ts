import { cloudPlugin } from '../../clouds/registry.ts';
import type { Fleet } from '../../fleet/fleet.ts';
import { estimateDeploymentCost, poolCost } from '../../fleet/cost.ts';
import { fleetOrFail } from '../fleet-or-fail.ts';
import type { Io } from '../io.ts';
import { renderTable, usd } from '../table.ts';

export interface LsOptions {
  readonly root: string;
  readonly json?: boolean;
}

/** One deployment with its estimated monthly cost over its replica range. */
function deploymentRows(fleet: Fleet) {
  return fleet.deployments.map((deployment) => {
    const { environment, spec } = deployment;
    const cost = estimateDeploymentCost(environment, spec);
    return {
      environment: environment.name,
      cloud: environment.cloud,
      model: deployment.model.name,
      gpu: `${spec.gpu.count}x ${spec.gpu.type}`,
      replicas: { min: spec.replicas.min, max: spec.replicas.max },
      policy: spec.policy,
      machineType: cost?.machineType ?? null,
      capacity: cost?.capacity ?? null,
      usdPerHourPerReplica: cost ? Number(cost.usdPerHourPerReplica.toFixed(4)) : null,
      minUsdPerMonth: cost ? Math.round(cost.minUsdPerMonth) : null,
      maxUsdPerMonth: cost ? Math.round(cost.maxUsdPerMonth) : null,
      priceSource: cost ? `${cost.price.source}, ${cost.price.asOf}${cost.price.regionMatched ? '' : ` (priced in ${cost.price.region})`}` : null,
    };
  });
}

/**
 * One node pool with the node range and monthly cost the Terraform output
 * provisions: whole-pool counts across its zones (on GKE the output sets
 * total_min/max_node_count over the pool's node_locations).
 */
export function nodePoolRows(fleet: Fleet) {
  return fleet.environments.flatMap((environment) =>
    environment.nodePools.map((pool) => {
      const cost = poolCost(environment, pool);
      return {
        environment: environment.name,
        cloud: environment.cloud,
        pool: pool.name,
        gpu: `${pool.gpusPerNode}x ${pool.gpuType}`,
        machineType: cost?.machineType ?? null,
        capacity: pool.capacity,
        zones: cost ? [...cost.zones] : [],
        zonesSource: cost?.zonesSource ?? null,
        nodes: { min: cost?.minNodes ?? pool.minNodes, max: cost?.maxNodes ?? pool.maxNodes },
        usdPerHourPerNode: cost ? Number(cost.usdPerHourPerNode.toFixed(4)) : null,
        minUsdPerMonth: cost ? Math.round(cost.minUsdPerMonth) : null,
        maxUsdPerMonth: cost ? Math.round(cost.maxUsdPerMonth) : null,
      };
    }),
  );
}

/**
 * The node pools as a Markdown table (BENCHMARKS.md, "Node pools as
 * provisioned"): the same rows as `llmops ls`, so the two cannot disagree.
 */
export function nodePoolsMarkdown(fleet: Fleet): string {
  const rows = nodePoolRows(fleet);
  return [
    '| environment | cloud | node pool | machine | zones | nodes (whole pool) | USD/month (min–max nodes) |',
    '|---|---|---|---|---|---:|---:|',
    ...rows.map(
      (row) =>
        `| ${row.environment} | ${cloudPlugin(row.cloud).displayName} | ${row.pool} | ${row.machineType ?? 'not priced'} ${row.capacity} | ${row.zones.length > 0 ? row.zones.join(', ') : (row.zonesSource ?? '-')} | ${row.nodes.min}–${row.nodes.max} | ${monthly(row)} |`,
    ),
  ].join('\n');
}

const monthly = (row: { minUsdPerMonth: number | null; maxUsdPerMonth: number | null }): string => (row.minUsdPerMonth === null ? '-' : `${usd(row.minUsdPerMonth)} - ${usd(row.maxUsdPerMonth!)}`);

/** `llmops ls`: the deployments with their estimated monthly cost, then the node pools as provisioned. */
export async function lsCommand(options: LsOptions, io: Io): Promise<void> {
  const fleet = await fleetOrFail(options.root, io);
  const deployments = deploymentRows(fleet);
  const nodePools = nodePoolRows(fleet);
  if (options.json) {
    io.out(`${JSON.stringify({ deployments, nodePools }, null, 2)}\n`);
    return;
  }
  io.out(
    renderTable(
      ['ENVIRONMENT', 'CLOUD', 'MODEL', 'GPU', 'REPLICAS', 'POLICY', 'MACHINE', '$/MONTH (MIN-MAX REPLICAS)'],
      deployments.map((row) => [
        row.environment,
        row.cloud,
        row.model,
        row.gpu,
        `${row.replicas.min}-${row.replicas.max}`,
        row.policy,
        row.machineType ? `${row.machineType} ${row.capacity}` : 'not priced',
        monthly(row),
      ]),
      new Set([7]),
    ),
  );
  io.out('\n');
  io.out(
    renderTable(
      ['ENVIRONMENT', 'CLOUD', 'NODE POOL', 'MACHINE', 'ZONES', 'NODES (WHOLE POOL)', '$/MONTH (MIN-MAX NODES)'],
      nodePools.map((row) => [
        row.environment,
        cloudPlugin(row.cloud).displayName,
        row.pool,
        row.machineType ? `${row.machineType} ${row.capacity}` : 'not priced',
        row.zones.length > 0 ? row.zones.join(',') : (row.zonesSource ?? '-'),
        `${row.nodes.min}-${row.nodes.max}`,
        monthly(row),
      ]),
      new Set([5, 6]),
    ),
  );
}
