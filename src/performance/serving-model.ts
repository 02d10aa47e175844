/**
 * A fluid model of one vLLM replica under load, from physics: decode is bound by
 * memory bandwidth (every step reads the weights once), batching raises
 * throughput until compute, the KV cache or `--max-num-seqs` binds, and waiting
 * requests queue. The fleet simulator uses it as the truth (with hidden
 * per-scenario factors); the optimizer uses it as a prior it calibrates on
 * observed metrics.
 *
 * Anchor (published, Llama-3.1-8B bf16 on one H100 with vLLM): concurrency
 * 1/4/16/64 → 122/580/1,384/1,312 output tok/s, TPOT 6.5/6.6/10.9/46.9 ms. With
 * the default factors this model gives TPOT 6.6/7.5/11.5/46.0 ms.
 */
import { GPU_CATALOGUE, type GpuType } from '../catalogue/gpus.ts';

const GB = 1e9;
const GIB = 2 ** 30;

/** What a replica is: hardware, model size and the engine knobs that shape its batch. */
export interface ReplicaSetup {
  readonly gpuType: GpuType;
  readonly gpuCount: number;
  /** Parameters, billions. */
  readonly parametersBillions: number;
  /** Bytes per weight at the served precision (2 for bf16, 1 for fp8, 0.5 for 4-bit). */
  readonly bytesPerParameter: number;
  /** KV-cache bytes per token (keys and values of every layer). */
  readonly kvBytesPerToken: number;
  /** `--max-num-seqs`. */
  readonly maxNumSeqs: number;
  /** `--gpu-memory-utilization`. */
  readonly gpuMemoryUtilization: number;
}

/** Efficiencies of a model on a GPU type: the defaults are priors; the simulator's scenario sets the truth. */
export interface PerformanceFactors {
  /** Share of peak memory bandwidth a decode step achieves. Default: 0.75. */
  readonly bandwidthEfficiency: number;
  /** Output tokens/s at saturation per dense TFLOP per billion parameters. Default: 11.3 (1,390 tok/s × 8.03 B ÷ 989 TFLOPS, the H100 anchor). */
  readonly saturationTokensPerTflopBillion: number;
  /** Fixed cost per sequence per decode step, seconds (scheduling, sampling, KV reads). Default: 0.00023. */
  readonly perSequenceStepSeconds: number;
  /** Prefill tokens/s as a multiple of saturated decode tokens/s. Default: 12. */
  readonly prefillSpeedup: number;
}

export const DEFAULT_FACTORS: PerformanceFactors = {
  bandwidthEfficiency: 0.75,
  saturationTokensPerTflopBillion: 11.3,
  perSequenceStepSeconds: 0.00023,
  prefillSpeedup: 12,
};

/** Tensor parallelism loses some bandwidth to all-reduce: 10 % per doubling. */
function parallelEfficiency(gpuCount: number): number {
  return 0.9 ** Math.log2(gpuCount);
}

export function weightBytes(setup: ReplicaSetup): number {
  return setup.parametersBillions * GB * setup.bytesPerParameter;
}

/** Output tokens/s one replica sustains when compute binds. */
export function saturationTokensPerSecond(setup: ReplicaSetup, factors: PerformanceFactors): number {
  const gpu = GPU_CATALOGUE[setup.gpuType];
  return (factors.saturationTokensPerTflopBillion * gpu.denseTflops * setup.gpuCount * parallelEfficiency(setup.gpuCount)) / setup.parametersBillions;
}

/** Seconds of one decode step for a batch of `batch` sequences of `contextTokens` each. */
export function decodeStepSeconds(setup: ReplicaSetup, batch: number, contextTokens: number, factors: PerformanceFactors): number {
  const gpu = GPU_CATALOGUE[setup.gpuType];
  const bandwidth = gpu.memoryBandwidthGBps * GB * setup.gpuCount * parallelEfficiency(setup.gpuCount) * factors.bandwidthEfficiency;
  const memoryBound = weightBytes(setup) / bandwidth + batch * (factors.perSequenceStepSeconds + (contextTokens * setup.kvBytesPerToken) / bandwidth);
  const computeBound = batch / saturationTokensPerSecond(setup, factors);
  return Math.max(memoryBound, computeBound);
}

/** Sequences that fit at once: `--max-num-seqs`, or the KV cache left after the weights, whichever is smaller. */
export function maxConcurrency(setup: ReplicaSetup, contextTokens: number): number {
  const gpu = GPU_CATALOGUE[setup.gpuType];
  const kvBytes = setup.gpuCount * gpu.memoryGiB * GIB * setup.gpuMemoryUtilization - weightBytes(setup) - setup.gpuCount * 1.5 * GIB;
  const byCache = Math.floor(Math.max(0, kvBytes) / (contextTokens * setup.kvBytesPerToken));
  return Math.max(0, Math.min(setup.maxNumSeqs, byCache));
}

/** A replica's steady state at an arrival rate. */
export interface ReplicaLoad {
  /** Sequences decoding at once. */
  readonly running: number;
  /** Requests/s it completes. */
  readonly completedPerSecond: number;
  /** Requests/s it cannot take (they queue). */
  readonly overflowPerSecond: number;
  /** Most requests/s it can complete with these lengths. */
  readonly capacityPerSecond: number;
  readonly timePerOutputTokenSeconds: number;
  readonly prefillSeconds: number;
  /** Share of the KV cache in use (0–1). */
  readonly kvCacheUsage: number;
  /** Output tokens/s. */
  readonly outputTokensPerSecond: number;
}

/**
 * The steady state of one replica receiving `arrivalsPerSecond` requests of
 * `promptTokens` in and `outputTokens` out: the concurrency n at which arrivals
 * equal completions (Little's law, n = λ × request time), capped by the most
 * sequences that fit.
 */
export function replicaLoad(setup: ReplicaSetup, arrivalsPerSecond: number, promptTokens: number, outputTokens: number, factors: PerformanceFactors): ReplicaLoad {
  const context = promptTokens + outputTokens / 2;
  const limit = Math.max(1, maxConcurrency(setup, promptTokens + outputTokens));
  const prefillSeconds = promptTokens / (saturationTokensPerSecond(setup, factors) * factors.prefillSpeedup);
  const requestSeconds = (batch: number) => prefillSeconds + outputTokens * decodeStepSeconds(setup, Math.max(1, batch), context, factors);
  const capacityPerSecond = limit / requestSeconds(limit);
  let running = limit;
  if (arrivalsPerSecond < capacityPerSecond) {
    // n − λ·T(n) is increasing in n; bisect for its root.
    let low = 0;
    let high = limit;
    for (let step = 0; step < 40; step += 1) {
      const middle = (low + high) / 2;
      if (middle - arrivalsPerSecond * requestSeconds(middle) < 0) low = middle;
      else high = middle;
    }
    running = high;
  }
  const completedPerSecond = Math.min(arrivalsPerSecond, capacityPerSecond);
  const tpot = decodeStepSeconds(setup, Math.max(1, running), context, factors);
  const kvCapacityTokens = maxConcurrency({ ...setup, maxNumSeqs: Number.MAX_SAFE_INTEGER }, 1);
  return {
    running,
    completedPerSecond,
    overflowPerSecond: Math.max(0, arrivalsPerSecond - capacityPerSecond),
    capacityPerSecond,
    timePerOutputTokenSeconds: tpot,
    prefillSeconds,
    kvCacheUsage: kvCapacityTokens > 0 ? Math.min(1, (running * context) / kvCapacityTokens) : 1,
    outputTokensPerSecond: completedPerSecond * outputTokens,
  };
}
