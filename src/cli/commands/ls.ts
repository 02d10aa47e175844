import { estimateDeploymentCost } from '../../fleet/cost.ts';
import { fleetOrFail } from '../fleet-or-fail.ts';
import type { Io } from '../io.ts';
import { renderTable, usd } from '../table.ts';

export interface LsOptions {
  readonly root: string;
  readonly json?: boolean;
}

/** `llmops ls`: the fleet as a table, one row per deployment, with its estimated monthly cost. */
export async function lsCommand(options: LsOptions, io: Io): Promise<void> {
  const fleet = await fleetOrFail(options.root, io);
  const rows = fleet.deployments.map((deployment) => {
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
  if (options.json) {
    io.out(`${JSON.stringify(rows, null, 2)}\n`);
    return;
  }
  io.out(
    renderTable(
      ['ENVIRONMENT', 'CLOUD', 'MODEL', 'GPU', 'REPLICAS', 'POLICY', 'MACHINE', '$/MONTH (MIN-MAX REPLICAS)'],
      rows.map((row) => [
        row.environment,
        row.cloud,
        row.model,
        row.gpu,
        `${row.replicas.min}-${row.replicas.max}`,
        row.policy,
        row.machineType ? `${row.machineType} ${row.capacity}` : 'not priced',
        row.minUsdPerMonth === null ? '-' : `${usd(row.minUsdPerMonth)} - ${usd(row.maxUsdPerMonth!)}`,
      ]),
      new Set([7]),
    ),
  );
}
