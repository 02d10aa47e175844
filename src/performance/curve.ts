/**
 * Benchmark-shaped performance: what a concurrency sweep of one replica records
 * (`vllm bench serve --max-concurrency N` at fixed request lengths) — requests
 * per second, TTFT and TPOT over concurrency — as a table, interpolated between
 * its points. The serving model generates such tables; the simulator's truth is
 * one (generated, reshaped or given by a scenario); an arrival rate is served at
 * the concurrency where the table's throughput equals it (Little's law).
 */
import { concurrencyLimit, operatingPoint, PRIOR_EFFICIENCIES, type Efficiencies, type Lengths, type OperatingPoint, type ReplicaSetup } from './serving-model.ts';

/** One replica's sweep over concurrency at fixed lengths. */
export interface BenchmarkCurve {
  readonly lengths: Lengths;
  /** Requests the replica runs at once at most (KV cache, `--max-num-seqs`); the last point is at it. */
  readonly maxConcurrency: number;
  /** Ascending concurrency, from 1. */
  readonly points: readonly OperatingPoint[];
}

/** Concurrencies a sweep measures: two per doubling up to the limit, and the limit. */
export function sweepConcurrencies(limit: number): number[] {
  const out: number[] = [];
  for (let power = 1; power < limit; power *= 2) {
    out.push(power);
    if (power * 1.5 < limit && power >= 2) out.push(power * 1.5);
  }
  out.push(Math.max(1, limit));
  return [...new Set(out)].sort((a, b) => a - b);
}

/** The sweep the serving model predicts for a replica at these lengths. */
export function benchmarkCurve(setup: ReplicaSetup, lengths: Lengths, efficiencies: Efficiencies = PRIOR_EFFICIENCIES): BenchmarkCurve {
  const maxConcurrency = Math.max(1, concurrencyLimit(setup, lengths));
  return { lengths, maxConcurrency, points: sweepConcurrencies(maxConcurrency).map((concurrency) => operatingPoint(setup, concurrency, lengths, efficiencies)) };
}

const interpolate = (low: number, high: number, weight: number) => low + (high - low) * weight;

/** The curve at any concurrency up to its maximum (log-linear between points; below 1, the latencies of 1). */
export function pointOnCurve(curve: BenchmarkCurve, concurrency: number): OperatingPoint {
  const { points } = curve;
  const n = Math.min(Math.max(concurrency, 0), curve.maxConcurrency);
  let index = points.findIndex((point) => point.concurrency >= n);
  if (index < 0) index = points.length - 1;
  const high = points[index]!;
  const low = points[Math.max(0, index - 1)]!;
  const weight = high.concurrency > low.concurrency && n > low.concurrency ? Math.log(n / low.concurrency) / Math.log(high.concurrency / low.concurrency) : n >= high.concurrency ? 1 : 0;
  const at = (key: 'ttftSeconds' | 'tpotSeconds' | 'interTokenP95Seconds' | 'longGapSeconds' | 'longGapShare' | 'prefillShare' | 'kvCacheUsage') => interpolate(low[key], high[key], weight);
  const ttftSeconds = at('ttftSeconds');
  const tpotSeconds = at('tpotSeconds');
  const requestsPerSecond = n / (ttftSeconds + curve.lengths.outputTokens * tpotSeconds);
  return {
    concurrency: n,
    running: n,
    waiting: 0,
    requestsPerSecond,
    outputTokensPerSecond: requestsPerSecond * curve.lengths.outputTokens,
    ttftSeconds,
    tpotSeconds,
    interTokenP95Seconds: at('interTokenP95Seconds'),
    longGapSeconds: at('longGapSeconds'),
    longGapShare: at('longGapShare'),
    prefillShare: at('prefillShare'),
    kvCacheUsage: n < 1 ? points[0]!.kvCacheUsage * n : at('kvCacheUsage'),
  };
}

/** A replica receiving an open-loop arrival rate. */
export interface ServingState {
  /** Where it settles (at its maximum concurrency when overloaded). */
  readonly point: OperatingPoint;
  /** Most requests per second it completes at these lengths. */
  readonly capacityRequestsPerSecond: number;
  /** Arrivals it cannot take, requests per second (they queue). */
  readonly overflowPerSecond: number;
  /** Arrivals ÷ capacity. */
  readonly utilization: number;
}

/** Serves `arrivalsPerSecond` on a curve: the concurrency whose throughput equals the arrivals (bisection), or overload. */
export function servingAt(curve: BenchmarkCurve, arrivalsPerSecond: number): ServingState {
  const saturated = pointOnCurve(curve, curve.maxConcurrency);
  const capacity = Math.max(...curve.points.map((point) => point.requestsPerSecond), saturated.requestsPerSecond);
  if (arrivalsPerSecond >= capacity) {
    return { point: saturated, capacityRequestsPerSecond: capacity, overflowPerSecond: arrivalsPerSecond - capacity, utilization: capacity > 0 ? arrivalsPerSecond / capacity : Infinity };
  }
  let low = 0;
  let high = curve.maxConcurrency;
  for (let step = 0; step < 48; step += 1) {
    const middle = (low + high) / 2;
    if (pointOnCurve(curve, middle).requestsPerSecond < arrivalsPerSecond) low = middle;
    else high = middle;
  }
  return { point: pointOnCurve(curve, high), capacityRequestsPerSecond: capacity, overflowPerSecond: 0, utilization: arrivalsPerSecond / capacity };
}

/**
 * How a world departs from a curve's shape (all 1 = as the curve says):
 * `speed` scales every time (a GPU slower or faster than its datasheet);
 * `knee` stretches the concurrency axis of the latencies (above 1: the curve
 * stays flat longer and is faster at high batch; below 1: it bends earlier);
 * `prefillSpeed` scales prefill (TTFT, and the decode time prefill takes).
 */
export interface CurveShape {
  readonly speed: number;
  readonly knee: number;
  readonly prefillSpeed: number;
}

/** The curve a world of this shape records. */
export function reshapeCurve(curve: BenchmarkCurve, shape: CurveShape): BenchmarkCurve {
  if (shape.speed === 1 && shape.knee === 1 && shape.prefillSpeed === 1) return curve;
  const points = curve.points.map((point) => {
    const base = pointOnCurve(curve, Math.min(curve.maxConcurrency, 1 + (point.concurrency - 1) / shape.knee));
    // Decode time without its prefill share, then the prefill share at the world's prefill speed.
    const decode = base.tpotSeconds * (1 - base.prefillShare);
    const prefillShare = Math.min(0.95, base.prefillShare / shape.prefillSpeed / (1 - base.prefillShare + base.prefillShare / shape.prefillSpeed));
    const tpotSeconds = decode / (1 - prefillShare) / shape.speed;
    const ttftSeconds = base.ttftSeconds / shape.prefillSpeed / shape.speed;
    // A long gap is a decode step plus a chunk's prefill: the chunk part at the world's prefill speed.
    const longGapSeconds = Math.max(tpotSeconds, (decode + (base.longGapSeconds - decode) / shape.prefillSpeed) / shape.speed);
    const longGapShare = base.longGapShare;
    const shortGap = (tpotSeconds - longGapShare * longGapSeconds) / (1 - longGapShare);
    const interTokenP95Seconds = longGapShare >= 0.05 ? longGapSeconds : Math.max(0, shortGap);
    const requestsPerSecond = point.concurrency / (ttftSeconds + curve.lengths.outputTokens * tpotSeconds);
    return {
      ...point,
      tpotSeconds,
      ttftSeconds,
      interTokenP95Seconds,
      longGapSeconds,
      longGapShare,
      prefillShare,
      requestsPerSecond,
      outputTokensPerSecond: requestsPerSecond * curve.lengths.outputTokens,
    };
  });
  return { ...curve, points };
}
