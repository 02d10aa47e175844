/** The optimizer's output: one typed, explained recommendation per deployment. */
import type { CanaryStep, Rollback } from '../declarations/policy.ts';
import type { PoolChange } from '../fleet/capacity.ts';
import type { CanaryTrafficPlan } from '../fleet/canary-traffic.ts';
import type { EngineArgs } from '../vllm/engine-args.ts';
import type { Calibration } from './calibration.ts';
import type { Signals } from './observe.ts';
import type { Orientation } from './orient.ts';
import type { Configuration, Prediction } from './predict.ts';

/** Which rule decided, in the order they are tried. */
export type Rule =
  | 'paused'
  | 'freeze-window'
  | 'insufficient-data'
  | 'safety-slo-breach'
  /** An SLO breach whose fixes the policy blocks: a draft pull request for a person to decide. */
  | 'needs-decision'
  | 'safety-error-spike'
  | 'cooldown'
  | 'business-budget'
  | 'optimizer'
  | 'no-better-configuration';

/** The exact new values of the deployment block (`environments/<env>.ts`, `deployments.<model>`); absent fields stay as they are. */
export interface DeclarationChange {
  readonly replicas?: { readonly min: number; readonly max: number };
  readonly gpu?: { readonly type: string; readonly count: number };
  readonly engineArgs?: Partial<EngineArgs>;
  /** Engine arguments to delete from the block (back to the model's default). */
  readonly removeEngineArgs?: readonly (keyof EngineArgs)[];
  /** New maxima of the environment's node pools (`nodePools[index].maxNodes`), so that the change fits the cluster (src/optimizer/fit.ts). */
  readonly nodePools?: readonly { readonly index: number; readonly name: string; readonly maxNodes: number }[];
}

/** A configuration with what it is predicted to do and cost. */
export interface Evaluated {
  readonly configuration: Configuration;
  readonly prediction: Prediction;
  /** At the minimum replicas, USD/hour. */
  readonly costPerHourUsd: number;
  readonly qualityCostPct: number;
  /** Machine type and capacity the replicas land on. */
  readonly machine: string;
  /** Meets the SLOs and the policy's hard constraints. */
  readonly feasible: boolean;
  /** Why not, when infeasible. */
  readonly violations: readonly string[];
  /** Weighted improvement over the current configuration by the policy's objectives, percent. */
  readonly improvementPct: number;
  /** Node pools that must grow for it to fit the cluster (src/optimizer/fit.ts); absent or empty when it fits as is. */
  readonly poolChanges?: readonly PoolChange[];
}

/** A fix of an SLO breach that was considered, and the rule of the policy that blocked it (if one did). */
export interface ConsideredFix {
  readonly configuration: Configuration;
  readonly costPerHourUsd: number;
  /** "confidence 0.84 < 0.9 (conservative)", "GPU type nvidia-h100-80gb is outside the policy's search space"; absent: not blocked. */
  readonly blockedBy?: string;
}

/** Why a person must decide: what breaches, and the fixes considered. */
export interface Escalation {
  /** "TTFT p95 1520 ms > 800 ms". */
  readonly breach: string;
  readonly considered: readonly ConsideredFix[];
}

/** The canary the change would roll out with, from the policy. */
export interface CanaryPlan {
  /** False where the environment rolls out without a canary (a plain Deployment). */
  readonly enabled: boolean;
  readonly steps: readonly CanaryStep[];
  /** The traffic each step really gives the canary (exact with a router, the pods' share without). */
  readonly traffic: CanaryTrafficPlan;
  readonly analysisIntervalSeconds: number;
  readonly analysisCount: number;
  readonly failureLimit: number;
  readonly rollback: Rollback;
}

export interface Recommendation {
  /** `<environment>/<model>`. */
  readonly deploymentId: string;
  readonly environment: string;
  readonly model: string;
  readonly policy: string;
  /** The declaration file the change edits. */
  readonly sourceFile: string;
  readonly action: 'change' | 'none';
  readonly rule: Rule;
  /** One or two sentences a reviewer can check. */
  readonly reason: string;
  readonly change?: DeclarationChange;
  readonly observed: Signals;
  readonly orientation: Orientation;
  readonly current: Evaluated;
  /** How the predictions were calibrated on what the current configuration was observed doing. */
  readonly calibration: Calibration;
  readonly proposed?: Evaluated;
  /** 0–1: how sure the prediction is (e^−its relative uncertainty). */
  readonly confidence?: number;
  /** 0–1: probability that the proposal breaches an SLO or its capacity, given its uncertainty. */
  readonly risk?: number;
  /** Rules that held a shrink of the replicas back (src/optimizer/shrink.ts), in words; absent when none did. */
  readonly held?: readonly string[];
  /** The Pareto-optimal feasible configurations (cost, p95 latency, quality cost). */
  readonly pareto: readonly Evaluated[];
  readonly canaryPlan: CanaryPlan;
  /** `needs-decision`: the breach and the fixes the policy blocked (the proposal is one of them, for a person to take or leave). */
  readonly escalation?: Escalation;
}
