/** A simulated histogram's state, as a Prometheus client library keeps it. */
import type { Family } from '../vllm/metrics.ts';

/** Bucket counts (not cumulative here; the last is +Inf), sum and count. */
export interface HistogramState {
  readonly counts: number[];
  sum: number;
  count: number;
}

export function emptyHistogram(family: Family): HistogramState {
  return { counts: new Array((family.buckets ?? []).length + 1).fill(0), sum: 0, count: 0 };
}

/** Records `weight` observations of `value`. */
export function observe(histogram: HistogramState, buckets: readonly number[], value: number, weight = 1): void {
  let index = buckets.findIndex((bound) => value <= bound);
  if (index < 0) index = buckets.length;
  histogram.counts[index] += weight;
  histogram.sum += value * weight;
  histogram.count += weight;
}
