import { z } from 'zod';
import { Cloud } from '../clouds/registry.ts';
import { GpuType } from '../catalogue/gpus.ts';
import { definer } from './define.ts';
import { DnsLabel } from './dns-label.ts';
import { MAX_BATCHED_TOKENS, MAX_NUM_SEQS, Quantization } from '../vllm/engine-args.ts';
import { expected } from './issues.ts';
import { CanaryEvidence } from './canary-evidence.ts';
import { amount, MAX_REPLICAS, text, wholeNumber } from './bounds.ts';

export const Strategy = z.enum(['conservative', 'balanced', 'aggressive']);
export type Strategy = z.infer<typeof Strategy>;

/** When the bot may act: thresholds a proposal must pass. */
export const Thresholds = z.strictObject({
  /** Least weighted improvement worth a pull request, percent. */
  minImprovementPct: amount('%', 100, 0),
  /** Least confidence (0–1) that the improvement is real. */
  minConfidence: amount('(a probability)', 1, 0),
  /** Most risk (0–1, predicted probability of an SLO breach) a proposal may carry. */
  maxRisk: amount('(a probability)', 1, 0),
});
export type Thresholds = z.infer<typeof Thresholds>;

/** One canary step: shift traffic, then pause and analyse. */
export const CanaryStep = z.strictObject({
  /** Share of replicas (and so of traffic) on the new version, percent. */
  weightPct: wholeNumber('%', 1, 100),
  /** Pause after the step, minutes; 0 waits for a person to promote. Default: 10. */
  pauseMinutes: wholeNumber('minutes', 0, 10_080).default(10),
  /** Run the canary analysis during the pause. Default: true. */
  analysis: z.boolean().default(true),
});
export type CanaryStep = z.infer<typeof CanaryStep>;

/** Presets: the thresholds and canary steps each strategy implies. */
export const STRATEGY_PRESETS: Readonly<Record<Strategy, Thresholds & { canaryWeightsPct: readonly number[] }>> = {
  conservative: { minImprovementPct: 15, minConfidence: 0.9, maxRisk: 0.05, canaryWeightsPct: [1, 5, 25, 50, 100] },
  balanced: { minImprovementPct: 10, minConfidence: 0.8, maxRisk: 0.1, canaryWeightsPct: [5, 25, 50, 100] },
  aggressive: { minImprovementPct: 5, minConfidence: 0.7, maxRisk: 0.2, canaryWeightsPct: [10, 50, 100] },
};

/** Relative weights of the objectives; they sum to 1. */
export const Objectives = z
  .strictObject({
    /** Weight of cost per hour. Default: 0. */
    cost: amount('(a weight)', 1, 0).default(0),
    /** Weight of p95 latency. Default: 0. */
    latency: amount('(a weight)', 1, 0).default(0),
    /** Weight of quality (quantization cost). Default: 0. */
    quality: amount('(a weight)', 1, 0).default(0),
    /** Weight of throughput. Default: 0. */
    throughput: amount('(a weight)', 1, 0).default(0),
  })
  .refine((weights) => Math.abs(weights.cost + weights.latency + weights.quality + weights.throughput - 1) < 1e-6, {
    error: (issue) => {
      const weights = issue.input as Record<string, number>;
      const sum = Object.values(weights).reduce((total, weight) => total + (weight ?? 0), 0);
      return `expected weights that sum to 1 (got ${Number(sum.toFixed(6))})`;
    },
  });
export type Objectives = z.infer<typeof Objectives>;

/** Limits on a configuration; all optional. */
export const Constraints = z.strictObject({
  /** Time to first token p95, ms. */
  maxTtftP95Ms: amount('ms', 3_600_000).optional(),
  /** End-to-end latency p95, ms. */
  maxE2eP95Ms: amount('ms', 3_600_000).optional(),
  /** Inter-token latency p95, ms. */
  maxInterTokenP95Ms: amount('ms', 3_600_000).optional(),
  /** Error ratio (0–1). */
  maxErrorRateRatio: amount('(a ratio)', 1, 0).optional(),
  /** Cost of the deployment, USD/hour. */
  maxCostPerHourUsd: amount('USD per hour', 1_000_000).optional(),
  /** Quality loss from quantization, percent. */
  maxQualityCostPct: amount('%', 100, 0).optional(),
  /** Output tokens per second the deployment must sustain. */
  minThroughputTokensPerSecond: amount('tokens per second', 100_000_000).optional(),
});
export type Constraints = z.infer<typeof Constraints>;

/** The API server's bound on an HPA stabilization window (`HPAScalingRules.stabilizationWindowSeconds`: 0–3600, "one hour"). */
const HPA_MAX_STABILIZATION_SECONDS = 3600;

/** An integer range of `unit`, inclusive. */
const range = (unit: string, max: number) => z.strictObject({ min: wholeNumber(unit, 0, max), max: wholeNumber(unit, 1, max) });

/** When a canary is rolled back. */
export const Rollback = z.strictObject({
  /** Canary error ratio above which the canary fails (0–1). */
  maxErrorRateRatio: amount('(a ratio)', 1, 0),
  /** Canary p95 latency above stable by more than this fails the canary, percent. */
  maxP95LatencyIncreasePct: amount('%', 10_000),
  /** Prometheus metric (0–1, higher is better) of the model's online quality; absent: no quality check. */
  qualityMetric: z
    .string()
    .regex(/^[a-zA-Z_:][a-zA-Z0-9_:]*$/, { error: expected('a Prometheus metric name') })
    .optional(),
  /** Least acceptable value of `qualityMetric` on the canary. */
  minQuality: amount('(a quality score)', 1, 0).optional(),
});
export type Rollback = z.infer<typeof Rollback>;

/** Cron expression with five fields (minute hour day month weekday). */
const Cron = z.string().regex(/^\s*(\S+\s+){4}\S+\s*$/, { error: expected('a five-field cron expression "minute hour day month weekday"') });

export const Policy = z.strictObject({
  /** Policy name. DNS-1123 label. */
  name: DnsLabel,
  /** One sentence for reviewers. */
  description: text(1000).optional(),
  /** Preset for thresholds and canary steps. */
  strategy: Strategy,
  /** Overrides of the preset's thresholds. Default: the preset's. */
  thresholds: Thresholds.partial().default({}),
  /** Objective weights. */
  objectives: Objectives,
  /** Hard constraints (never violated) and soft ones (penalised). Default: none. */
  constraints: z
    .strictObject({
      hard: Constraints.default({}),
      soft: Constraints.default({}),
    })
    .default({ hard: {}, soft: {} }),
  /** Canary rollout. */
  canary: z
    .strictObject({
      /** Steps. Default: the preset's weights, 10-minute pauses with analysis. */
      steps: z.array(CanaryStep).min(1).optional(),
      /** Seconds between analysis measurements. Default: 60. */
      analysisIntervalSeconds: wholeNumber('seconds', 10, 3600).default(60),
      /** Measurements per analysis. Default: 5. */
      analysisCount: wholeNumber('measurements', 1, 1000).default(5),
      /** Failed measurements tolerated before the canary aborts. Default: 1. */
      failureLimit: wholeNumber('measurements', 0, 1000).default(1),
    })
    .default({ analysisIntervalSeconds: 60, analysisCount: 5, failureLimit: 1 }),
  /** Traffic the canary must serve before its analysis counts. Default: 20 requests per interval, 5 tries. */
  canaryEvidence: CanaryEvidence.default({ minRequests: 20, inconclusiveTries: 5 }),
  /** Rollback thresholds. */
  rollback: Rollback,
  /** Autoscaling on vLLM's queue. */
  autoscaling: z
    .strictObject({
      /** Waiting requests per replica the autoscaler aims for. Default: 5. */
      targetWaitingRequestsPerReplica: amount('waiting requests per replica', 100_000).default(5),
      /** Seconds between queue polls. Default: 15. */
      pollingIntervalSeconds: wholeNumber('seconds', 5, 3600).default(15),
      /** Seconds of idleness before scaling to zero. Default: 360. */
      cooldownSeconds: wholeNumber('seconds', 0, 86_400).default(360),
      /** Scale-down stabilization window, seconds. Default: 300. */
      scaleDownStabilizationSeconds: wholeNumber('seconds', 0, HPA_MAX_STABILIZATION_SECONDS).default(300),
      /** Scale-up stabilization window, seconds. Default: 0. */
      scaleUpStabilizationSeconds: wholeNumber('seconds', 0, HPA_MAX_STABILIZATION_SECONDS).default(0),
    })
    .default({
      targetWaitingRequestsPerReplica: 5,
      pollingIntervalSeconds: 15,
      cooldownSeconds: 360,
      scaleDownStabilizationSeconds: 300,
      scaleUpStabilizationSeconds: 0,
    }),
  /** What the bot may change. */
  searchSpace: z.strictObject({
    /** GPU types the bot may move a deployment to. */
    gpuTypes: z.array(GpuType).min(1),
    /** Clouds the bot may propose (a move across clouds is proposed, never applied silently). Default: the environment's. */
    clouds: z.array(Cloud).default([]),
    /** Allow spot capacity. Default: false. */
    allowSpot: z.boolean().default(false),
    /** Bounds on replicas. */
    replicas: range('replicas', MAX_REPLICAS),
    /** GPUs per replica the bot may choose. Default: 1, 2, 4, 8. */
    gpuCounts: z
      .array(wholeNumber('GPUs', 1, 8))
      .min(1)
      .max(8)
      .default([1, 2, 4, 8]),
    /** Bounds on `--max-num-seqs`. */
    maxNumSeqs: range('sequences', MAX_NUM_SEQS),
    /** Bounds on `--max-num-batched-tokens`. */
    maxNumBatchedTokens: range('tokens', MAX_BATCHED_TOKENS),
    /** Quantizations the bot may choose (the model must allow them). Default: none. */
    quantizations: z.array(Quantization).default([]),
  }),
  /** Pace of change. */
  limits: z
    .strictObject({
      /** Open bot pull requests under this policy (answers to an SLO breach and reverts are not held back). Default: 3. */
      maxOpenPullRequests: wholeNumber('pull requests', 1, 100).default(3),
      /** New pull requests per hour (answers to an SLO breach and reverts are not held back). Default: 2. */
      maxPullRequestsPerHour: wholeNumber('pull requests per hour', 1, 100).default(2),
      /** Largest cut of the replica bounds per step, percent; growth (relieving load) lands in one step. Default: 50. */
      maxReplicaChangePct: amount('%', 10_000).default(50),
      /** Quiet time after a change before the next, minutes; an SLO breach does not wait for it. Default: 60. */
      cooldownMinutes: wholeNumber('minutes', 0, 525_600).default(60),
    })
    .default({ maxOpenPullRequests: 3, maxPullRequestsPerHour: 2, maxReplicaChangePct: 50, cooldownMinutes: 60 }),
  /**
   * The period of the traffic, hours: minimum and maximum replicas shrink only on at least this much history in
   * Prometheus, so that a quiet night is never taken for the day (src/optimizer/shrink.ts). Declare a shorter period
   * where one has been observed (a load that repeats every few hours). Scale-out never waits for it. Default: 24.
   */
  seasonalityHours: wholeNumber('hours', 1, 8760).default(24),
  /** Minutes the bot watches a merged change before calling it good. Default: 30. */
  verificationWindowMinutes: wholeNumber('minutes', 1, 10_080).default(30),
  /** Windows in which the bot opens no pull requests (release freezes, peak season). Default: none. */
  freezeWindows: z
    .array(
      z.strictObject({
        /** Why (shown in the bot's "no change" reason). */
        reason: text(500),
        /** Window start, cron. */
        cron: Cron,
        /** Window length, minutes. */
        durationMinutes: wholeNumber('minutes', 1, 525_600),
        /** IANA time zone of the cron. Default: UTC. */
        timeZone: text(64).default('UTC'),
      }),
    )
    .default([]),
  /** Emergency stop: the bot proposes nothing while true. Default: false. */
  paused: z.boolean().default(false),
  /**
   * The configurations a declined or reverted proposal stands for (src/optimizer/neighbourhood.ts): the same GPU type
   * and quantization, every number (GPU count, replicas, tuned knobs) within a tolerance. The bot proposes none of them
   * for a ban (src/optimizer/bans.ts) of `banDays`, doubled for every earlier ban in the same neighbourhood up to
   * `maxBanDays`; a declined one also comes back when the evidence it was made on changes materially, or a person asks
   * for a retry on the dashboard issue.
   */
  neighbourhood: z
    .strictObject({
      /** Numbers (replicas, GPUs, max-num-seqs, …) within this share of the banned value count as the same proposal, percent. Default: 25. */
      tolerancePct: amount('%', 100, 0).default(25),
      /** …or within this many steps of it: replicas or GPUs apart, or steps of a tuned knob's grid (max-num-seqs 64 → 32 or 128). Default: 1. */
      toleranceUnits: wholeNumber('units', 0, 1000).default(1),
      /** Evidence (request rate, its peak, prompt and output length) that moved by more than this since a decline reopens the question, percent. Default: 50. */
      materialChangePct: amount('%', 10_000).default(50),
      /** How long a reverted or declined configuration's neighbourhood is not proposed, days; each repeat in the same neighbourhood doubles it (7, 14, 28, …). Default: 7. */
      banDays: wholeNumber('days', 1, 365).default(7),
      /** The longest ban, however often a neighbourhood failed, days: the world (prices, drivers, traffic) changes, so the question may be asked again. Default: 56 (the fourth ban). */
      maxBanDays: wholeNumber('days', 1, 3650).default(56),
    })
    .default({ tolerancePct: 25, toleranceUnits: 1, materialChangePct: 50, banDays: 7, maxBanDays: 56 }),
  /** The bot's pull requests. */
  pullRequests: z
    .strictObject({
      /**
       * Reviewers requested on every pull request: GitHub logins (`@dana`) or teams (`@acme/platform-leads`).
       * Default: none, and then the code owners (.github/CODEOWNERS) of the files the change touches.
       */
      reviewers: z
        .array(z.string().regex(/^@?[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\/[A-Za-z0-9._-]+)?$/, { error: expected('a GitHub login such as @dana or a team such as @acme/platform-leads') }))
        .max(100)
        .default([]),
      /**
       * Turn on GitHub's auto-merge for low-risk (`risk:low`) optimizations in environments Argo CD syncs by itself
       * (`sync: 'auto'`): GitHub merges once the branch protection's required checks pass. Never for production
       * (`sync: 'manual'`) or reverts. Default: false.
       */
      automerge: z.boolean().default(false),
    })
    .default({ reviewers: [], automerge: false }),
});
export type Policy = z.infer<typeof Policy>;

/** Declares a policy: `export default definePolicy({ … })` in `policies/<name>.ts`. */
export const definePolicy = definer('policy', Policy);

/** A policy with the preset's thresholds and canary steps filled in. */
export interface ResolvedPolicy extends Policy {
  readonly effectiveThresholds: Thresholds;
  readonly canarySteps: readonly CanaryStep[];
}

export function resolvePolicy(policy: Policy): ResolvedPolicy {
  const preset = STRATEGY_PRESETS[policy.strategy];
  return {
    ...policy,
    effectiveThresholds: {
      minImprovementPct: policy.thresholds.minImprovementPct ?? preset.minImprovementPct,
      minConfidence: policy.thresholds.minConfidence ?? preset.minConfidence,
      maxRisk: policy.thresholds.maxRisk ?? preset.maxRisk,
    },
    canarySteps: policy.canary.steps ?? preset.canaryWeightsPct.map((weightPct) => ({ weightPct, pauseMinutes: 10, analysis: true })),
  };
}
