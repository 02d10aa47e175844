/**
 * orient: what the observations mean — enough requests to decide on, whether
 * latency really changed between the recent part of the window and before it
 * (Mann-Whitney U, as Kayenta judges canaries), whether request lengths drifted
 * (Kolmogorov–Smirnov distance between the two length histograms), anomalies.
 */
import { cumulativeStdNormalProbability, wilcoxonRankSum } from 'simple-statistics';
import type { Slos } from '../declarations/environment.ts';
import type { LengthHistogram, Observation } from './observe.ts';

/** Fewest completed requests in the window to base a decision on. */
export const MIN_REQUESTS_FOR_DECISION = 200;
/** Smallest KS distance between length distributions reported as drift. */
export const DRIFT_DISTANCE = 0.15;
/** Significance level of the latency test. */
const ALPHA = 0.05;

export interface LatencyShift {
  readonly recentMedianSeconds: number;
  readonly beforeMedianSeconds: number;
  /** Two-sided p-value of Mann-Whitney U (normal approximation). */
  readonly pValue: number;
  readonly significant: boolean;
}

export interface LengthDrift {
  /** Largest gap between the two cumulative distributions (0–1). */
  readonly distance: number;
  /** Median length now ÷ before, minus 1, percent. */
  readonly medianShiftPct: number;
}

export interface Orientation {
  readonly requestsInWindow: number;
  readonly sufficient: boolean;
  /** Why there is not enough to decide on. */
  readonly insufficientReason?: string;
  readonly latencyShift?: LatencyShift;
  readonly promptDrift?: LengthDrift;
  readonly outputDrift?: LengthDrift;
  /** Length distributions moved: predictions from the window's averages are less reliable. */
  readonly driftDetected: boolean;
  /** Peak 5-minute request rate ÷ window mean (≥ 1). */
  readonly peakToMean: number;
  /** Plain sentences for the report. */
  readonly notes: readonly string[];
}

const median = (values: readonly number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};

/** Mann-Whitney U between two samples, two-sided, with the normal approximation. */
export function mannWhitney(recent: readonly number[], before: readonly number[]): number {
  const n1 = recent.length;
  const n2 = before.length;
  const u = wilcoxonRankSum([...recent], [...before]) - (n1 * (n1 + 1)) / 2;
  const sd = Math.sqrt((n1 * n2 * (n1 + n2 + 1)) / 12);
  if (sd === 0) return 1;
  const z = (u - (n1 * n2) / 2) / sd;
  return Math.min(1, 2 * (1 - cumulativeStdNormalProbability(Math.abs(z))));
}

function cdf(histogram: LengthHistogram): { bound: number; share: number }[] {
  const total = histogram.get(Infinity) ?? 0;
  return [...histogram.entries()]
    .filter(([bound]) => Number.isFinite(bound))
    .sort(([a], [b]) => a - b)
    .map(([bound, count]) => ({ bound, share: total > 0 ? count / total : 0 }));
}

/** The length at which a cumulative distribution reaches one half (bucket upper bound). */
function medianBound(points: { bound: number; share: number }[]): number {
  return points.find((point) => point.share >= 0.5)?.bound ?? points[points.length - 1]?.bound ?? 0;
}

/** KS distance and median shift between two length histograms; undefined when either has too few requests. */
export function lengthDrift(recent: LengthHistogram, before: LengthHistogram): LengthDrift | undefined {
  if ((recent.get(Infinity) ?? 0) < 50 || (before.get(Infinity) ?? 0) < 50) return undefined;
  const now = cdf(recent);
  const then = new Map(cdf(before).map((point) => [point.bound, point.share]));
  const distance = Math.max(...now.map((point) => Math.abs(point.share - (then.get(point.bound) ?? 0))));
  const beforeMedian = medianBound(cdf(before));
  return { distance, medianShiftPct: beforeMedian > 0 ? (medianBound(now) / beforeMedian - 1) * 100 : 0 };
}

export function orient(observation: Observation, windowSeconds: number, recentSeconds: number, slos: Slos): Orientation {
  const notes: string[] = [];
  const requestsInWindow = (observation.requestsPerSecond ?? 0) * windowSeconds;
  const sufficient = requestsInWindow >= MIN_REQUESTS_FOR_DECISION && observation.e2eP95Seconds !== undefined;
  const insufficientReason = sufficient ? undefined : `only ${Math.round(requestsInWindow)} requests in the window (${MIN_REQUESTS_FOR_DECISION} needed to tell a better configuration from noise)`;

  const minutes = observation.e2eP95PerMinute;
  const recentCount = Math.round(recentSeconds / 60);
  let latencyShift: LatencyShift | undefined;
  if (minutes.length >= recentCount + 5 && recentCount >= 5) {
    const recent = minutes.slice(-recentCount);
    const before = minutes.slice(0, -recentCount);
    const pValue = mannWhitney(recent, before);
    latencyShift = { recentMedianSeconds: median(recent), beforeMedianSeconds: median(before), pValue, significant: pValue < ALPHA };
    if (latencyShift.significant) {
      const direction = latencyShift.recentMedianSeconds > latencyShift.beforeMedianSeconds ? 'rose' : 'fell';
      notes.push(`p95 latency ${direction} from ${latencyShift.beforeMedianSeconds.toFixed(2)} s to ${latencyShift.recentMedianSeconds.toFixed(2)} s (Mann-Whitney p=${pValue.toPrecision(2)})`);
    }
  }

  const promptDrift = lengthDrift(observation.promptLengths.recent, observation.promptLengths.before);
  const outputDrift = lengthDrift(observation.outputLengths.recent, observation.outputLengths.before);
  const driftDetected = [promptDrift, outputDrift].some((drift) => drift && drift.distance >= DRIFT_DISTANCE);
  for (const [name, drift] of [
    ['prompt', promptDrift],
    ['output', outputDrift],
  ] as const) {
    if (drift && drift.distance >= DRIFT_DISTANCE) {
      notes.push(`${name} lengths drifted: median ${drift.medianShiftPct >= 0 ? '+' : ''}${drift.medianShiftPct.toFixed(0)} %, KS distance ${drift.distance.toFixed(2)}`);
    }
  }
  if ((observation.errorRatio ?? 0) > slos.errorRateRatio) notes.push(`error ratio ${(observation.errorRatio! * 100).toFixed(2)} % above the ${slos.errorRateRatio * 100} % SLO`);

  const mean = observation.requestsPerSecond ?? 0;
  const peakToMean = mean > 0 ? Math.max(1, (observation.peakRequestsPerSecond ?? mean) / mean) : 1;
  return { requestsInWindow, sufficient, insufficientReason, latencyShift, promptDrift, outputDrift, driftDetected, peakToMean, notes };
}
