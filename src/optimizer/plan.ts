/**
 * One planning pass over the fleet: observe every deployment in one set of
 * fleet-wide queries, orient, and decide. Reads Prometheus; writes nothing.
 */
import { HOURS_PER_MONTH } from '../catalogue/prices.ts';
import { clusterPeers } from '../fleet/capacity.ts';
import { estimateDeploymentCost } from '../fleet/cost.ts';
import type { Fleet, FleetDeployment } from '../fleet/fleet.ts';
import type { PrometheusClient } from '../prometheus/client.ts';
import { decide } from './decide.ts';
import { observeFleet, targetKey, windowSeconds, type Observation, type Window } from './observe.ts';
import { orient } from './orient.ts';
import type { Configuration } from './predict.ts';
import type { Recommendation } from './recommendation.ts';

export interface PlanOptions {
  /** Only this environment. */
  readonly environment?: string;
  /** Window the decision averages over. Default: 1h. */
  readonly window?: Window;
  /** Trailing part compared with the rest (drift, latency change). Default: 15m. */
  readonly recent?: Window;
  /**
   * How far back the peak request rate (and the history a shrink rests on) looks, for sizing the minimum replicas.
   * Default: the longest `seasonalityHours` of the policies planned (24h by default), so that a deployment is not
   * shrunk in the night for a daily peak the autoscaler would then chase.
   */
  readonly peakWindow?: Window;
  /** When to evaluate. Default: now. */
  readonly now?: Date;
  /** Last change per deployment id (from the bot's ledger). */
  readonly lastChanges?: ReadonlyMap<string, Date>;
  /** Per deployment and what is observed of it now: the configurations it must not be proposed (banned neighbourhoods of reverted and declined ones). */
  readonly excluded?: (deployment: FleetDeployment, observation: Observation) => ((configuration: Configuration) => boolean) | undefined;
}

export async function planFleet(fleet: Fleet, client: PrometheusClient, options: PlanOptions = {}): Promise<Recommendation[]> {
  const window = options.window ?? '1h';
  const recent = options.recent ?? '15m';
  const now = options.now ?? new Date();
  const deployments = fleet.deployments.filter((deployment) => options.environment === undefined || deployment.environment.name === options.environment);
  const targets = deployments.map((deployment) => ({ namespace: deployment.environment.namespace, model: deployment.model.name }));
  const seasonality = `${Math.max(1, ...deployments.map((deployment) => deployment.policy.seasonalityHours))}h`;
  const observations = await observeFleet(client, targets, { window, recent, time: Math.floor(now.getTime() / 1000), peakWindow: options.peakWindow ?? seasonality });

  // Projected monthly spend per environment at the replica counts observed.
  const monthly = new Map<string, number>();
  for (const deployment of deployments) {
    const replicas = observations.get(targetKey({ namespace: deployment.environment.namespace, model: deployment.model.name }))?.replicas ?? deployment.spec.replicas.min;
    const usd = (estimateDeploymentCost(deployment.environment, deployment.spec)?.usdPerHourPerReplica ?? 0) * replicas * HOURS_PER_MONTH;
    monthly.set(deployment.environment.name, (monthly.get(deployment.environment.name) ?? 0) + usd);
  }

  return deployments.map((deployment) => {
    const observation = observations.get(targetKey({ namespace: deployment.environment.namespace, model: deployment.model.name }))!;
    const own = (estimateDeploymentCost(deployment.environment, deployment.spec)?.usdPerHourPerReplica ?? 0) * (observation.replicas ?? deployment.spec.replicas.min) * HOURS_PER_MONTH;
    return decide({
      deployment,
      observation,
      orientation: orient(observation, windowSeconds(window), windowSeconds(recent), deployment.environment.slos),
      now,
      lastChangeAt: options.lastChanges?.get(deployment.id),
      excluded: options.excluded?.(deployment, observation),
      environmentMonthlyUsd: monthly.get(deployment.environment.name),
      room: { peers: clusterPeers(deployment.environment, fleet.environments), otherDeploymentsMonthlyUsd: (monthly.get(deployment.environment.name) ?? own) - own },
    });
  });
}
