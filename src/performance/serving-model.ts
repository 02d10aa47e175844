/**
 * A batch-aware roofline of one vLLM replica (continuous batching, chunked
 * prefill, tensor parallelism), validated against published measurements
 * (reference-points.json, BENCHMARKS.md):
 *
 * - a decode step reads every weight once and the KV cache of every running
 *   sequence: its time is those bytes over the achieved memory bandwidth, or the
 *   batch's matrix products at a realistic model-FLOPs utilisation when that is
 *   longer, plus the tensor-parallel all-reduces and a fixed engine overhead;
 * - prefill is compute-bound work at its own utilisation, split by
 *   `--max-num-batched-tokens` into chunks that ride along with decode steps:
 *   it stretches the inter-token latency of the running sequences and its
 *   chunks set how long one step (and so the p95 inter-token gap) can get;
 * - the KV cache left after the weights (at `--gpu-memory-utilization`, the
 *   KV dtype and the quantization) caps the sequences that run at once, as does
 *   `--max-num-seqs`; the rest wait.
 *
 * REFERENCE.md "Serving physics": decode step ≥ (weight bytes + KV bytes read) ÷ bandwidth; compute
 * ceiling ≈ 2 × parameters × tokens per step ÷ (MFU × dense peak); TP adds all-reduce time per layer.
 */
import { GPU_CATALOGUE, type GpuType } from '../catalogue/gpus.ts';
import { RUNTIME_OVERHEAD_GIB_PER_GPU } from '../fleet/memory.ts';
import { INTERCONNECT, peakTflops } from './hardware.ts';

const GB = 1e9;
const GIB = 2 ** 30;
const TERA = 1e12;

/** What one replica is: hardware, the model as served, and the engine arguments that shape its batches. */
export interface ReplicaSetup {
  readonly gpuType: GpuType;
  /** GPUs one replica shards each layer over (`--tensor-parallel-size`). */
  readonly gpuCount: number;
  /** Parameters, billions. */
  readonly parametersBillions: number;
  /** Transformer layers (each costs two all-reduces under tensor parallelism). */
  readonly layers: number;
  /** Bytes per weight as served (2 for bf16, 1 for fp8, 0.5 for 4-bit). */
  readonly bytesPerParameter: number;
  /** The matrix products run on FP8 tensor cores (FP8 weights on Ada or Hopper). */
  readonly fp8Compute: boolean;
  /** KV-cache bytes per token at the KV dtype (keys and values of every layer). */
  readonly kvBytesPerToken: number;
  /** `--max-num-seqs`. */
  readonly maxNumSeqs: number;
  /** `--max-num-batched-tokens`: the tokens one engine step may process (decodes plus prefill chunks). */
  readonly maxNumBatchedTokens: number;
  /** `--gpu-memory-utilization` (0–1). */
  readonly gpuMemoryUtilization: number;
  /** `--max-model-len`, tokens. */
  readonly maxModelLen: number;
}

/** How close a replica gets to its datasheet. The prior's values are fitted to the reference points. */
export interface Efficiencies {
  /** Share of peak memory bandwidth a decode step achieves. Prior: 0.75 (REFERENCE.md: 74–77 % measured on A100 and H100). */
  readonly bandwidth: number;
  /** Share of peak tensor throughput the batched matrix products of a decode step achieve. Prior: 0.5. */
  readonly decodeMfu: number;
  /** Share of the BF16 peak prefill achieves. Prior: 0.65 (large GEMMs; REFERENCE.md: typically 30–60 % and more for long chunks). */
  readonly prefillMfu: number;
  /** Share of the FP8 peak prefill achieves on FP8 tensor cores. Prior: 0.45 (fits the NIM Llama-3.3-70B FP8 TTFT). */
  readonly prefillMfuFp8: number;
  /** Fixed cost of one engine step (scheduling, kernel launches), seconds. Prior: 0.3 ms. */
  readonly stepOverheadSeconds: number;
  /**
   * Work each running sequence adds to a step (sampling over the vocabulary, output processing),
   * as bytes of memory traffic so it scales with the GPU. Prior: 13.5 MB (60 µs a sequence on an L4,
   * fitted on the L4 sweep at concurrency 32).
   */
  readonly sequenceBytes: number;
}

export const PRIOR_EFFICIENCIES: Efficiencies = {
  bandwidth: 0.75,
  decodeMfu: 0.5,
  prefillMfu: 0.65,
  prefillMfuFp8: 0.45,
  stepOverheadSeconds: 0.0003,
  sequenceBytes: 13.5e6,
};

/** Mean request lengths, tokens. */
export interface Lengths {
  readonly promptTokens: number;
  readonly outputTokens: number;
}

export function weightBytes(setup: ReplicaSetup): number {
  return setup.parametersBillions * GB * setup.bytesPerParameter;
}

/** Width of the residual stream, estimated from the parameter count (≈ 12 × layers × hidden² for a dense decoder). */
function hiddenSize(setup: ReplicaSetup): number {
  return Math.sqrt((setup.parametersBillions * GB) / (12 * setup.layers));
}

/** Tokens the KV cache holds: vLLM's share of GPU memory, less the weights and the runtime's own. */
export function kvCacheTokens(setup: ReplicaSetup): number {
  const gpu = GPU_CATALOGUE[setup.gpuType];
  const free = setup.gpuCount * (gpu.memoryGiB * setup.gpuMemoryUtilization - RUNTIME_OVERHEAD_GIB_PER_GPU) * GIB - weightBytes(setup);
  return Math.max(0, Math.floor(free / setup.kvBytesPerToken));
}

/** vLLM refuses to start when one sequence of `--max-model-len` tokens does not fit in the KV cache. */
export function startsUp(setup: ReplicaSetup): boolean {
  return kvCacheTokens(setup) >= setup.maxModelLen;
}

/** Sequences that run at once: `--max-num-seqs`, or what the KV cache holds at the mean context, whichever is smaller. */
export function concurrencyLimit(setup: ReplicaSetup, lengths: Lengths): number {
  return Math.max(0, Math.min(setup.maxNumSeqs, Math.floor(kvCacheTokens(setup) / meanContext(lengths))));
}

/** Context a running sequence holds on average: its prompt and half its output. */
function meanContext(lengths: Lengths): number {
  return lengths.promptTokens + lengths.outputTokens / 2;
}

/** Two all-reduces per layer of the activations of `tokens` tokens (ring: 2 (g−1)/g of the bytes cross each link). */
function allReduceSeconds(setup: ReplicaSetup, tokens: number): number {
  if (setup.gpuCount <= 1) return 0;
  const link = INTERCONNECT[setup.gpuType];
  const bytes = tokens * hiddenSize(setup) * 2 * ((2 * (setup.gpuCount - 1)) / setup.gpuCount);
  return 2 * setup.layers * (link.latencySeconds + bytes / (link.bandwidthGBps * GB));
}

function bandwidthBytesPerSecond(setup: ReplicaSetup, efficiency: number): number {
  return GPU_CATALOGUE[setup.gpuType].memoryBandwidthGBps * GB * setup.gpuCount * efficiency;
}

function flopsPerSecond(setup: ReplicaSetup, utilisation: number): number {
  return peakTflops(setup.gpuType, setup.fp8Compute) * TERA * setup.gpuCount * utilisation;
}

/** FLOPs of the attention of a prefill of `tokens` over itself (causal: QKᵀ and AV, halved). */
function prefillAttentionFlops(setup: ReplicaSetup, tokens: number): number {
  return 2 * setup.layers * hiddenSize(setup) * tokens * tokens;
}

/**
 * Seconds of one engine step: `decodes` running sequences of mean context `context` each produce a
 * token, and `prefillTokens` of a prompt are processed alongside (a chunk, with its share of the
 * prompt's attention FLOPs in `attentionFlops`).
 */
export function stepSeconds(setup: ReplicaSetup, decodes: number, context: number, efficiencies: Efficiencies, prefillTokens = 0, attentionFlops = 0): number {
  const batch = Math.max(1, decodes);
  const bandwidth = bandwidthBytesPerSecond(setup, efficiencies.bandwidth);
  const memory = (weightBytes(setup) + decodes * context * setup.kvBytesPerToken) / bandwidth;
  const sequences = (decodes * efficiencies.sequenceBytes) / (bandwidth / setup.gpuCount);
  const linearFlops = 2 * setup.parametersBillions * GB;
  const prefillMfu = setup.fp8Compute ? efficiencies.prefillMfuFp8 : efficiencies.prefillMfu;
  const compute = (linearFlops * batch) / flopsPerSecond(setup, efficiencies.decodeMfu) + (linearFlops * prefillTokens + attentionFlops) / flopsPerSecond(setup, prefillMfu);
  return Math.max(memory, compute) + sequences + allReduceSeconds(setup, batch + prefillTokens) + efficiencies.stepOverheadSeconds;
}

/** How one prompt's prefill runs next to `decodes` running sequences. */
interface Prefill {
  /** Seconds from its first chunk to its first token. */
  readonly latencySeconds: number;
  /** Step seconds it adds to the running sequences (its chunks' time beyond a plain decode step). */
  readonly addedSeconds: number;
  /** Steps that carry one of its chunks. */
  readonly chunks: number;
  /** Seconds of a step carrying a full chunk. */
  readonly chunkStepSeconds: number;
}

function prefill(setup: ReplicaSetup, promptTokens: number, decodes: number, context: number, efficiencies: Efficiencies): Prefill {
  const budget = Math.max(16, setup.maxNumBatchedTokens - Math.ceil(decodes));
  const chunks = Math.max(1, Math.ceil(promptTokens / budget));
  const chunk = promptTokens / chunks;
  const attentionPerChunk = prefillAttentionFlops(setup, promptTokens) / chunks;
  const decode = stepSeconds(setup, decodes, context, efficiencies);
  const chunkStep = stepSeconds(setup, decodes, context, efficiencies, chunk, attentionPerChunk);
  const largestChunkStep = stepSeconds(setup, decodes, context, efficiencies, Math.min(promptTokens, budget), attentionPerChunk * (Math.min(promptTokens, budget) / chunk));
  return { latencySeconds: chunks * chunkStep, addedSeconds: chunks * Math.max(0, chunkStep - (decodes >= 1 ? decode : 0)), chunks, chunkStepSeconds: largestChunkStep };
}

/** A replica's steady state with `concurrency` requests in flight, as a closed-loop benchmark records it. */
export interface OperatingPoint {
  /** Requests in flight (running and waiting). */
  readonly concurrency: number;
  /** Requests the engine runs at once (`vllm:num_requests_running`). */
  readonly running: number;
  /** Requests waiting for a place in the batch (`vllm:num_requests_waiting`). */
  readonly waiting: number;
  readonly requestsPerSecond: number;
  readonly outputTokensPerSecond: number;
  /** Mean time to first token, seconds (prefill and waiting for a place). */
  readonly ttftSeconds: number;
  /** Mean time per output token after the first, seconds. */
  readonly tpotSeconds: number;
  /** 95th percentile of the gaps between tokens: steps that carry a prefill chunk are the long ones. */
  readonly interTokenP95Seconds: number;
  /** The long gaps: a step carrying a full prefill chunk, seconds. */
  readonly longGapSeconds: number;
  /** Share of the gaps (0–0.95) that are long; the rest are plain decode steps, so that the gaps average the TPOT. */
  readonly longGapShare: number;
  /** Share of GPU time spent on prefill (0–1). */
  readonly prefillShare: number;
  /** Share of the KV cache in use (0–1). */
  readonly kvCacheUsage: number;
}

/** Share of the gaps that must be long before they set the p95 gap. */
const P95_SHARE = 0.05;
/** Most of the gaps that can be long (every step carries a chunk when prefill never stops). */
const MAX_LONG_SHARE = 0.95;
/** Prefill is never scheduled to take the GPU entirely: decodes always advance. */
const MAX_PREFILL_SHARE = 0.95;

/**
 * The steady state at `concurrency` requests in flight (closed loop, as `vllm bench serve
 * --max-concurrency` measures). Fixed point of: decode steps and prefill chunks share the GPU
 * (steps per second × step time + requests per second × prefill time = 1), requests per second =
 * running ÷ (TTFT + output × TPOT) (Little's law), and prefills queue for the step budget (M/D/1).
 */
export function operatingPoint(setup: ReplicaSetup, concurrency: number, lengths: Lengths, efficiencies: Efficiencies = PRIOR_EFFICIENCIES): OperatingPoint {
  const { promptTokens, outputTokens } = lengths;
  const context = meanContext(lengths);
  const limit = Math.max(1, concurrencyLimit(setup, lengths));
  const active = Math.min(concurrency, limit);
  let decodes = active;
  let requestsPerSecond = 0;
  let tpot = 0;
  let ttft = 0;
  let share = 0;
  let fill: Prefill = prefill(setup, promptTokens, decodes, context, efficiencies);
  for (let iteration = 0; iteration < 40; iteration += 1) {
    const decode = stepSeconds(setup, decodes, context, efficiencies);
    fill = prefill(setup, promptTokens, decodes, context, efficiencies);
    share = Math.min(MAX_PREFILL_SHARE, requestsPerSecond * fill.addedSeconds);
    tpot = decode / (1 - share);
    const queued = (share * fill.addedSeconds) / (2 * (1 - share));
    ttft = fill.latencySeconds + queued;
    const next = active / (ttft + outputTokens * tpot);
    decodes = (active * outputTokens * tpot) / (ttft + outputTokens * tpot);
    if (Math.abs(next - requestsPerSecond) <= 1e-9 * Math.max(1, next)) {
      requestsPerSecond = next;
      break;
    }
    requestsPerSecond = iteration === 0 ? next : (requestsPerSecond + next) / 2;
  }
  const waiting = Math.max(0, concurrency - active);
  // Closed loop: a request beyond the batch waits for one in flight to finish.
  const waitSeconds = requestsPerSecond > 0 ? waiting / requestsPerSecond : 0;
  // Gaps: a share of the steps carries a chunk (long), the rest are plain decode steps (short), averaging the TPOT.
  const longGapShare = Math.min(MAX_LONG_SHARE, requestsPerSecond * fill.chunks * tpot);
  const longGapSeconds = Math.max(tpot, fill.chunkStepSeconds);
  const shortGap = (tpot - longGapShare * longGapSeconds) / (1 - longGapShare);
  return {
    concurrency,
    running: active,
    waiting,
    requestsPerSecond,
    outputTokensPerSecond: requestsPerSecond * outputTokens,
    ttftSeconds: ttft + waitSeconds,
    tpotSeconds: tpot,
    interTokenP95Seconds: longGapShare >= P95_SHARE ? longGapSeconds : Math.max(0, shortGap),
    longGapSeconds,
    longGapShare,
    prefillShare: share,
    kvCacheUsage: Math.min(1, (active * context) / Math.max(1, kvCacheTokens(setup))),
  };
}

/**
 * The least time per output token physics allows at `batch` sequences: weights and KV cache read
 * at the datasheet's peak bandwidth, or the batch's FLOPs at the dense peak, whichever is longer;
 * no overhead, no communication. No calibrated prediction may beat it.
 */
export function rooflineTpotFloorSeconds(setup: ReplicaSetup, batch: number, lengths: Lengths): number {
  const memory = (weightBytes(setup) + batch * meanContext(lengths) * setup.kvBytesPerToken) / bandwidthBytesPerSecond(setup, 1);
  const compute = (2 * setup.parametersBillions * GB * Math.max(1, batch)) / flopsPerSecond(setup, 1);
  return Math.max(memory, compute);
}

/** The most requests per second physics allows a replica: its concurrency limit at the roofline floor, prefill ignored. */
export function rooflineCapacityCeiling(setup: ReplicaSetup, lengths: Lengths): number {
  const limit = Math.max(1, concurrencyLimit(setup, lengths));
  return limit / (lengths.outputTokens * rooflineTpotFloorSeconds(setup, limit, lengths));
}
