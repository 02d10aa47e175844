/**
 * The traffic a canary really gets at each step. With the Gateway API traffic
 * router the share is the declared weight, exactly; without a router Argo
 * Rollouts approximates it with pod counts, and the share is the canary's
 * fraction of the pods. The Rollout's steps and the pull-request body both read
 * this, so what the reviewer is promised is what the cluster does.
 */
import type { CanaryTraffic } from '../declarations/gateway.ts';
import type { CanaryStep, Policy } from '../declarations/policy.ts';
import type { FleetDeployment } from './fleet.ts';

/** Pods of one step at a given replica count. */
export interface PodSplit {
  readonly canary: number;
  readonly stable: number;
}

/** One canary step as the cluster runs it. */
export interface CanaryTrafficStep {
  /** The policy's weight (percent). */
  readonly declaredWeightPct: number;
  /** The Rollout step's `setWeight`. */
  readonly setWeight: number;
  /** Share of requests the canary serves, percent, at the deployment's minimum and maximum replicas. */
  readonly trafficPct: { readonly atMin: number; readonly atMax: number };
  /** Pods at the minimum and maximum replicas. */
  readonly pods: { readonly atMin: PodSplit; readonly atMax: PodSplit };
  readonly pauseMinutes: number;
  readonly analysis: boolean;
}

/** The canary as the cluster runs it: the router and its steps. */
export interface CanaryTrafficPlan {
  readonly router: CanaryTraffic;
  /** Replica bounds the shares were computed for (KEDA moves between them). */
  readonly replicas: { readonly min: number; readonly max: number };
  readonly steps: readonly CanaryTrafficStep[];
}

/** Argo Rollouts' maxSurge for the model servers: one extra replica at a time (GPUs are scarce). */
export const CANARY_MAX_SURGE = 1;

const ceilWeighted = (replicas: number, weight: number) => Math.ceil((replicas * weight) / 100);

/**
 * Canary and stable pods of a basic (router-less) canary at `weight` percent of
 * `replicas`: the closest approximation of the weight among ceil/floor canary
 * counts, with or without one surge pod; ties go to the first option. Follows
 * `approximateWeightedCanaryStableReplicaCounts` in argoproj/argo-rollouts
 * utils/replicaset/canary.go (v1.9).
 */
export function basicCanaryPods(replicas: number, weight: number, maxSurge = CANARY_MAX_SURGE): PodSplit {
  if (replicas === 0) return { canary: 0, stable: 0 };
  const ceil = ceilWeighted(replicas, weight);
  const floor = Math.floor((replicas * weight) / 100);
  const tied = (total: number) => ((total * weight) / 100) % 1 === 0.5;
  const zeroAllowed = weight === 100 || weight === 0 || (replicas === 1 && maxSurge === 0);
  const options: { canary: number; total: number }[] = [];
  if (ceil < replicas || zeroAllowed) options.push({ canary: ceil, total: replicas });
  if (!tied(replicas) && (floor !== 0 || zeroAllowed)) options.push({ canary: floor, total: replicas });
  if (maxSurge > 0) {
    options.push({ canary: ceil, total: replicas + 1 });
    if (!tied(replicas + 1) && (floor !== 0 || zeroAllowed)) options.push({ canary: floor, total: replicas + 1 });
  }
  if (options.length === 0) return { canary: 0, stable: replicas };
  const delta = (option: { canary: number; total: number }) => Math.abs((option.canary * 100) / option.total - weight);
  const best = options.reduce((winner, option) => (delta(option) < delta(winner) ? option : winner));
  return { canary: best.canary, stable: best.total - best.canary };
}

/**
 * Pods of a routed canary: `setCanaryScale` gives the canary the pods its weight
 * needs (ceil of the weight's share) and `dynamicStableScale` shrinks the stable
 * side to the rest, so at most one pod more than the replica count runs
 * (`CalculateReplicaCountsForTrafficRoutedCanary`, same file).
 */
export function routedCanaryPods(replicas: number, weight: number): PodSplit {
  return { canary: ceilWeighted(replicas, weight), stable: ceilWeighted(replicas, 100 - weight) };
}

const share = (split: PodSplit) => (split.canary + split.stable === 0 ? 0 : (100 * split.canary) / (split.canary + split.stable));

/** A `setWeight` that makes Argo Rollouts choose this pod split at these replicas, stated as the share it really gives. */
function honestSetWeight(replicas: number, split: PodSplit, declared: number): number {
  const stated = Math.round(share(split));
  const same = (weight: number) => {
    const candidate = basicCanaryPods(replicas, weight);
    return candidate.canary === split.canary && candidate.stable === split.stable;
  };
  return stated >= 1 && stated <= 100 && same(stated) ? stated : declared;
}

/**
 * Merges consecutive steps that run the same pods at the minimum replicas: the
 * policy's 1 % and 5 % are both "one canary pod" for a small deployment.
 * Pauses add up (a manual pause stays manual); analysis runs if any step asked.
 */
function mergeSamePods(steps: readonly CanaryTrafficStep[]): CanaryTrafficStep[] {
  const merged: CanaryTrafficStep[] = [];
  for (const step of steps) {
    const last = merged[merged.length - 1];
    if (last && last.pods.atMin.canary === step.pods.atMin.canary && last.pods.atMin.stable === step.pods.atMin.stable) {
      merged[merged.length - 1] = {
        ...last,
        pauseMinutes: last.pauseMinutes === 0 || step.pauseMinutes === 0 ? 0 : last.pauseMinutes + step.pauseMinutes,
        analysis: last.analysis || step.analysis,
      };
    } else merged.push(step);
  }
  return merged;
}

/** The canary plan of steps under a router at the given replica bounds (replica counts of 0 are taken as 1: a rollout needs a pod). */
export function canaryTraffic(steps: readonly CanaryStep[], router: CanaryTraffic, replicas: { min: number; max: number }): CanaryTrafficPlan {
  const [low, high] = [Math.max(1, replicas.min), Math.max(1, replicas.max)];
  if (router === 'gateway-api') {
    return {
      router,
      replicas,
      steps: steps.map((step) => ({
        declaredWeightPct: step.weightPct,
        setWeight: step.weightPct,
        trafficPct: { atMin: step.weightPct, atMax: step.weightPct },
        pods: { atMin: routedCanaryPods(low, step.weightPct), atMax: routedCanaryPods(high, step.weightPct) },
        pauseMinutes: step.pauseMinutes,
        analysis: step.analysis,
      })),
    };
  }
  const byPods = steps.map((step) => {
    const [atMin, atMax] = [basicCanaryPods(low, step.weightPct), basicCanaryPods(high, step.weightPct)];
    return {
      declaredWeightPct: step.weightPct,
      setWeight: honestSetWeight(low, atMin, step.weightPct),
      trafficPct: { atMin: share(atMin), atMax: share(atMax) },
      pods: { atMin, atMax },
      pauseMinutes: step.pauseMinutes,
      analysis: step.analysis,
    };
  });
  return { router, replicas, steps: mergeSamePods(byPods) };
}

/** The canary plan of a deployment as declared. */
export function deploymentCanaryTraffic(deployment: FleetDeployment): CanaryTrafficPlan {
  return canaryTraffic(deployment.policy.canarySteps, deployment.environment.gateway.canaryTraffic, deployment.spec.replicas);
}

/** How often Prometheus scrapes the model servers (their ServiceMonitor's interval), seconds. */
export const SCRAPE_INTERVAL_SECONDS = 30;

/** Shortest window a rate or increase looks back: four scrapes, so a missed scrape still leaves enough samples. */
const MIN_WINDOW_SECONDS = 4 * SCRAPE_INTERVAL_SECONDS;

/** Measurements of each canary-analysis metric: the policy's count, but never fewer than the evidence tries (so thin traffic fails, not passes). */
export function analysisMeasurements(policy: Policy): number {
  return Math.max(policy.canary.analysisCount, policy.canaryEvidence.inconclusiveTries);
}

/** Seconds one step's canary analysis runs. */
export function analysisDurationSeconds(policy: Policy): number {
  return policy.canary.analysisIntervalSeconds * analysisMeasurements(policy);
}

/**
 * Seconds each analysis measurement looks back: the whole analysis of a step,
 * so the canary's evidence accumulates over the step instead of having to
 * arrive within one interval (a 1 % step sees a hundredth of the traffic), and
 * never under four scrapes. The canary's pods are new, so the window holds only
 * their own requests.
 */
export function evidenceWindowSeconds(policy: Policy): number {
  return Math.max(MIN_WINDOW_SECONDS, analysisDurationSeconds(policy));
}

/** Requests the canary serves within a step's evidence window when the deployment serves `requestsPerMinute` and the canary gets `trafficPct` of them. */
export function expectedCanaryRequests(policy: Policy, requestsPerMinute: number, trafficPct: number): number {
  return (requestsPerMinute * trafficPct * evidenceWindowSeconds(policy)) / (100 * 60);
}
