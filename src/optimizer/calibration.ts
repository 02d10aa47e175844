/**
 * What the current configuration is seen doing, turned into factors on the
 * serving model's prior. Completions per replica at an observed concurrency are
 * direct evidence of capacity: the world runs `running` sequences at `a`
 * requests/s where the prior's sweep, at that same concurrency, completes
 * λ_prior — so the world is a ÷ λ_prior as fast (with a sustained queue the
 * observed rate is the capacity itself; without one, capacity is at least the
 * observed rate). Latencies are compared at the same concurrency too. Factors
 * are bounded, never make the current configuration faster than the roofline,
 * and carry an uncertainty that shrinks with the requests observed.
 */
import { pointOnCurve, servingAt } from '../performance/curve.ts';
import { rooflineCapacityCeiling } from '../performance/serving-model.ts';
import type { ModelFacts } from '../performance/setup.ts';
import type { EngineArgs } from '../vllm/engine-args.ts';
import { INTER_TOKEN_BUCKETS, REQUEST_SECONDS_BUCKETS, reportedQuantile, TTFT_BUCKETS } from '../vllm/metrics.ts';
import type { Signals } from './observe.ts';
import { GAP_SPREAD, gapMasses, lengthsOf, priorCurve, setupOf, type Configuration, type Demand } from './predict.ts';

/** How reality departs from the prior on the current configuration. */
export interface Calibration {
  /** Observed ÷ prior capacity of one replica; carried to every configuration's prior. */
  readonly capacity: number;
  /** Observed ÷ prior mean inter-token latency at the observed concurrency: the decode speed. */
  readonly interToken: number;
  /** Observed p95 inter-token latency ÷ the p95 the speed-scaled prior reports there: the shape of the gaps' tail (prefill chunks). */
  readonly interTokenTail: number;
  /** Observed ÷ prior time to first token at the observed concurrency (the inter-token factor while requests queue). */
  readonly ttft: number;
  /** Observed ÷ prior end-to-end latency at the observed concurrency (likewise). */
  readonly e2e: number;
  /** How the capacity factor was learned: a sustained queue measured it, the observed concurrency implied it, or nothing was observed. */
  readonly capacityEvidence: 'queue' | 'concurrency' | 'prior';
  /** Requests per second and running requests per replica where it was learned. */
  readonly observedRequestsPerSecondPerReplica: number;
  /** The most a replica of the current configuration was seen completing: its capacity is at least this, whatever the prior or the roofline say. */
  readonly observedCapacityLowerBound: number;
  readonly observedRunningPerReplica: number;
  /** Relative uncertainty (standard deviation of the log) at the observed operating point. */
  readonly uncertainty: number;
  /**
   * How far the prior was from the current configuration: the largest |ln(observed ÷ prior)| of the factors
   * (Infinity when nothing was observed). Other configurations are reached through the prior's ratios, which
   * are trusted less the more it missed here (predict.ts, transferUncertainty).
   */
  readonly priorMiss: number;
  /** What the factors rest on, for the report. */
  readonly evidence: readonly string[];
}

/** Bounds of every factor: the prior may be off, not by more than this either way. */
const FACTOR_BOUNDS = [0.1, 10] as const;
/** Share of the window's minutes with requests waiting that makes a queue sustained (a spike at the window's edge is not). */
const SUSTAINED_QUEUE_SHARE = 0.5;
/** Uncertainty with no observation: the prior's own spread against the reference points. */
const PRIOR_UNCERTAINTY = 0.3;

const bounded = (value: number) => Math.min(FACTOR_BOUNDS[1], Math.max(FACTOR_BOUNDS[0], value));
const ratio = (seen: number | undefined, predicted: number) => (seen !== undefined && Number.isFinite(seen) && seen > 0 && predicted > 0 ? bounded(seen / predicted) : undefined);
const fixed = (value: number, digits = 2) => value.toFixed(digits);

/** The prior, unchanged: what a deployment without traffic is predicted by. */
export function priorCalibration(reason: string): Calibration {
  return {
    capacity: 1,
    interToken: 1,
    interTokenTail: 1,
    ttft: 1,
    e2e: 1,
    capacityEvidence: 'prior',
    observedRequestsPerSecondPerReplica: 0,
    observedCapacityLowerBound: 0,
    observedRunningPerReplica: 0,
    uncertainty: PRIOR_UNCERTAINTY,
    priorMiss: Infinity,
    evidence: [reason],
  };
}

/** The calibration's uncertainty from its sample: noise shrinking with the requests observed, and a little more without a queue (then capacity is inferred, not measured). */
export function samplingUncertainty(requestsInWindow: number, queued: boolean): number {
  return 0.02 + 0.3 / Math.sqrt(requestsInWindow) + (queued ? 0 : 0.01);
}

/**
 * Learns the current configuration's factors from the window's signals.
 * `requestsInWindow` sets the sampling part of the uncertainty.
 */
export function calibrate(facts: ModelFacts, engineArgs: EngineArgs, current: Configuration, observed: Signals, demand: Demand, requestsInWindow: number): Calibration {
  const replicas = Math.max(1, observed.replicas ?? current.replicasMin);
  const perReplica = (observed.servedRequestsPerSecond ?? observed.requestsPerSecond ?? 0) / replicas;
  if (perReplica <= 0 || requestsInWindow <= 0) return priorCalibration('no completed requests in the window: the prior as it is');
  const setup = setupOf(facts, engineArgs, current);
  const lengths = lengthsOf(demand);
  const curve = priorCurve(setup, lengths);
  const priorCapacity = servingAt(curve, 0).capacityRequestsPerSecond;
  const running = observed.runningRequests !== undefined ? observed.runningRequests / replicas : servingAt(curve, perReplica).point.running;
  const at = pointOnCurve(curve, running);
  const queued = (observed.queuedShare ?? 0) >= SUSTAINED_QUEUE_SHARE;
  const evidence: string[] = [];

  // Capacity is at least any rate a replica was seen completing; with a queue, the best such rate is the capacity.
  const completed = Math.max(perReplica, observed.peakCompletionsPerReplica ?? 0);
  let capacity: number;
  if (queued) {
    capacity = bounded(completed / priorCapacity);
    evidence.push(
      `a sustained queue (requests waiting in ${fixed(100 * (observed.queuedShare ?? 0), 0)} % of the minutes, ${fixed((observed.waitingRequests ?? 0) / replicas, 1)} per replica on average) measures the capacity: ${fixed(completed)} req/s per replica at best, the prior said ${fixed(priorCapacity)}`,
    );
  } else {
    const implied = perReplica / Math.max(at.requestsPerSecond, 1e-9);
    capacity = bounded(Math.max(implied, completed / priorCapacity));
    evidence.push(
      `${fixed(perReplica)} req/s per replica at ${fixed(running, 1)} running, where the prior completes ${fixed(at.requestsPerSecond)} req/s: capacity ${fixed(capacity)}x the prior's ${fixed(priorCapacity)} req/s (no queue, and at least the ${fixed(completed)} req/s a replica completed at best)`,
    );
  }
  const ceiling = rooflineCapacityCeiling(setup, lengths);
  if (priorCapacity * capacity > ceiling) {
    // Extrapolation stops at physics; what was seen stands (a faster world than the catalogue says).
    capacity = Math.max(ceiling, completed) / priorCapacity;
    evidence.push(
      completed > ceiling
        ? `observed above the roofline ceiling of ${fixed(ceiling)} req/s per replica: the observation stands`
        : `capped at the roofline ceiling of ${fixed(ceiling)} req/s per replica`,
    );
  }

  // Decode speed from the mean gap (exact); first-token and end-to-end p95s compared as Prometheus reports them from buckets.
  const interToken = ratio(observed.meanInterTokenSeconds, at.tpotSeconds) ?? 1;
  const interTokenTail = ratio(observed.interTokenP95Seconds, reportedQuantile(0.95, gapMasses(at, interToken), INTER_TOKEN_BUCKETS, GAP_SPREAD)) ?? 1;
  const ttft = queued ? interToken : (ratio(observed.ttftP95Seconds, reportedQuantile(0.95, at.ttftSeconds, TTFT_BUCKETS)) ?? 1);
  const e2e = queued ? interToken : (ratio(observed.e2eP95Seconds, reportedQuantile(0.95, at.ttftSeconds + lengths.outputTokens * at.tpotSeconds, REQUEST_SECONDS_BUCKETS)) ?? 1);
  evidence.push(
    `at that concurrency observed ÷ prior: mean inter-token gap ${fixed(interToken)} (p95 ${fixed(interTokenTail)} beyond that), TTFT p95 ${fixed(ttft)}${queued ? ' (queueing: decode speed only)' : ''}, end-to-end p95 ${fixed(e2e)}`,
  );
  const uncertainty = samplingUncertainty(requestsInWindow, queued);
  return {
    capacity,
    interToken,
    interTokenTail,
    ttft,
    e2e,
    capacityEvidence: queued ? 'queue' : 'concurrency',
    observedRequestsPerSecondPerReplica: perReplica,
    observedCapacityLowerBound: completed,
    observedRunningPerReplica: running,
    uncertainty,
    priorMiss: Math.max(...[capacity, interToken, interTokenTail, ttft, e2e].map((factor) => Math.abs(Math.log(factor)))),
    evidence,
  };
}
