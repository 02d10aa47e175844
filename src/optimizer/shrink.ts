/**
 * Enough history before shrinking. Minimum and maximum replicas shrink only on
 * history that covers the policy's seasonality (`seasonalityHours`, one day by
 * default): an hour of night-time traffic says nothing of the day's peak.
 * Shrinking also keeps the environment's replica floor — two in production
 * unless the environment accepts a single replica (src/fleet/serving-checks.ts)
 * — and moves in the policy's bounded steps (decide.ts). Scale-out never waits:
 * a candidate's replicas are held only where they would fall. Pure.
 */
import type { FleetDeployment } from '../fleet/fleet.ts';
import { replicaFloor } from '../fleet/serving-checks.ts';
import type { Signals } from './observe.ts';
import type { Configuration } from './predict.ts';

/** Minutes of history a shrink may lack of the seasonality: Prometheus' 1-minute subquery steps round the count. */
const SLACK_SECONDS = 300;

const hours = (seconds: number) => `${Number((seconds / 3600).toFixed(1))} h`;

/** Why replicas may not shrink on what Prometheus holds, or undefined when they may. */
export function historyHold(deployment: FleetDeployment, observed: Pick<Signals, 'historySeconds'>): string | undefined {
  const { policy } = deployment;
  const needed = policy.seasonalityHours * 3600;
  const have = observed.historySeconds ?? 0;
  if (have + SLACK_SECONDS >= needed) return undefined;
  return `replicas held (enough history before shrinking): Prometheus holds ${hours(have)} of this deployment's traffic, and policy ${policy.name} shrinks only on ${policy.seasonalityHours} h, its seasonality (seasonalityHours)`;
}

/** The replica rules of one decision: `apply` holds a candidate's replicas where they may not fall, `held` says which rule held what. */
export interface ReplicaRules {
  apply(candidate: Configuration): Configuration;
  /** Each rule that held a shrink back, once, in words. */
  readonly held: readonly string[];
}

export function replicaRules(deployment: FleetDeployment, observed: Pick<Signals, 'historySeconds'>, current: Configuration): ReplicaRules {
  const history = historyHold(deployment, observed);
  const floor = Math.min(replicaFloor(deployment.environment), current.replicasMin);
  const floorWords = `minimum replicas held at ${floor}, ${deployment.environment.name}'s floor (2 where Argo CD syncs manually, for redundancy, unless availability.acceptSingleReplica allows 1)`;
  const held = new Set<string>();
  return {
    get held() {
      return [...held];
    },
    apply(candidate) {
      let { replicasMin, replicasMax } = candidate;
      if (history && (replicasMin < current.replicasMin || replicasMax < current.replicasMax)) {
        held.add(history);
        replicasMin = Math.max(replicasMin, current.replicasMin);
        replicasMax = Math.max(replicasMax, current.replicasMax);
      }
      if (replicasMin < floor) {
        held.add(floorWords);
        replicasMin = floor;
      }
      return replicasMin === candidate.replicasMin && replicasMax === candidate.replicasMax ? candidate : { ...candidate, replicasMin, replicasMax: Math.max(replicasMin, replicasMax) };
    },
  };
}
