/**
 * What `vllm serve` does when a flag is absent (REFERENCE.md; vllm/engine/arg_utils.py,
 * `EngineArgs.get_batch_defaults`): the scheduler's batch limits depend on the GPU; the context
 * limit comes from the model's config; the KV cache is kept at the model's dtype; a replica shards
 * over all of its GPUs.
 */
import { GPU_CATALOGUE, type GpuType } from '../catalogue/gpus.ts';
import { DEFAULT_GPU_MEMORY_UTILIZATION, type EngineArgs } from './engine-args.ts';

/** vLLM treats GPUs of at least this much memory, A100s excepted, as large: bigger default batches. */
const LARGE_GPU_GIB = 70;

function isLargeGpu(gpuType: GpuType): boolean {
  return GPU_CATALOGUE[gpuType].memoryGiB >= LARGE_GPU_GIB && !gpuType.startsWith('nvidia-a100');
}

/** vLLM's default `--max-num-seqs`: 1024 on large GPUs, else 256. */
export function defaultMaxNumSeqs(gpuType: GpuType): number {
  return isLargeGpu(gpuType) ? 1024 : 256;
}

/** vLLM's default `--max-num-batched-tokens` (the chunked-prefill token budget per step): 8192 on large GPUs, else 2048. */
export function defaultMaxNumBatchedTokens(gpuType: GpuType): number {
  return isLargeGpu(gpuType) ? 8192 : 2048;
}

/** What a server needs to know of its model and hardware to fill the remaining defaults. */
export interface ServedOn {
  /** GPUs of one replica (the default `--tensor-parallel-size`). */
  readonly gpuCount: number;
  /** The model's context length (the default `--max-model-len`). */
  readonly contextLengthTokens: number;
}

type BatchKnobs = Required<Pick<EngineArgs, 'max-num-seqs' | 'max-num-batched-tokens' | 'gpu-memory-utilization'>>;
type ServedKnobs = Required<Pick<EngineArgs, 'tensor-parallel-size' | 'max-model-len' | 'kv-cache-dtype'>>;

/**
 * The engine arguments a server of `gpuType` really runs with: the declared ones, vLLM's defaults
 * for the batch and memory knobs, and — given what it is served on — for tensor parallelism, the
 * context limit and the KV dtype. The simulator (from rendered flags) and the optimizer (from the
 * declarations) both predict through this one function.
 */
export function effectiveEngineArgs(engineArgs: EngineArgs, gpuType: GpuType): EngineArgs & BatchKnobs;
export function effectiveEngineArgs(engineArgs: EngineArgs, gpuType: GpuType, servedOn: ServedOn): EngineArgs & BatchKnobs & ServedKnobs;
export function effectiveEngineArgs(engineArgs: EngineArgs, gpuType: GpuType, servedOn?: ServedOn): EngineArgs & BatchKnobs & Partial<ServedKnobs> {
  return {
    ...engineArgs,
    'max-num-seqs': engineArgs['max-num-seqs'] ?? defaultMaxNumSeqs(gpuType),
    'max-num-batched-tokens': engineArgs['max-num-batched-tokens'] ?? defaultMaxNumBatchedTokens(gpuType),
    'gpu-memory-utilization': engineArgs['gpu-memory-utilization'] ?? DEFAULT_GPU_MEMORY_UTILIZATION,
    ...(servedOn
      ? {
          'tensor-parallel-size': engineArgs['tensor-parallel-size'] ?? servedOn.gpuCount,
          'max-model-len': engineArgs['max-model-len'] ?? servedOn.contextLengthTokens,
          'kv-cache-dtype': engineArgs['kv-cache-dtype'] ?? 'auto',
        }
      : {}),
  };
}
