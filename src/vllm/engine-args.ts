import { z } from 'zod';
import { amount, wholeNumber } from '../declarations/bounds.ts';

/** vLLM `--quantization` methods the compiler knows the weight size of. */
export const Quantization = z.enum(['fp8', 'awq', 'gptq', 'bitsandbytes']);
export type Quantization = z.infer<typeof Quantization>;

/** Bytes per weight for each quantization method (4-bit methods pack two weights a byte). */
export const QUANTIZATION_BYTES_PER_PARAMETER: Readonly<Record<Quantization, number>> = {
  fp8: 1,
  awq: 0.5,
  gptq: 0.5,
  bitsandbytes: 0.5,
};

/** Weight dtypes (vLLM `--dtype`). */
export const Dtype = z.enum(['bfloat16', 'float16', 'float32']);
export type Dtype = z.infer<typeof Dtype>;

export const DTYPE_BYTES: Readonly<Record<Dtype, number>> = { bfloat16: 2, float16: 2, float32: 4 };

/** Bounds of the numeric arguments (int32-safe, far above any real setting): sequences per batch, tokens per batch or context. */
export const MAX_NUM_SEQS = 8192;
export const MAX_BATCHED_TOKENS = 10_000_000;

/**
 * vLLM engine arguments, keyed by their real flag names (without `--`). Each is
 * rendered as `--name value` (booleans as `--name` / `--no-name`). Absent
 * arguments keep vLLM's own default.
 */
export const EngineArgs = z.strictObject({
  /** Maximum sequences batched per iteration. vLLM default: 256 (1024 on >= 70 GiB GPUs other than A100). */
  'max-num-seqs': wholeNumber('sequences', 1, MAX_NUM_SEQS).optional(),
  /** Maximum tokens per iteration (prefill chunk budget). vLLM default: 2048 (8192 on >= 70 GiB GPUs other than A100). */
  'max-num-batched-tokens': wholeNumber('tokens', 1, MAX_BATCHED_TOKENS).optional(),
  /** Fraction (0–1] of GPU memory vLLM may use for weights, activations and KV cache. vLLM default: 0.9. */
  'gpu-memory-utilization': amount('(a fraction of GPU memory)', 1).optional(),
  /** GPUs one replica shards each layer over. Default: the deployment's GPU count. */
  'tensor-parallel-size': wholeNumber('GPUs', 1, 8).optional(),
  /** Maximum context (prompt + output) in tokens. Default: the model's context length. */
  'max-model-len': wholeNumber('tokens', 1, MAX_BATCHED_TOKENS).optional(),
  /** Weight quantization; must be one the model declares. Default: none (the model's dtype). */
  quantization: Quantization.optional(),
  /** KV-cache element type. vLLM default: `auto` (the model's dtype). */
  'kv-cache-dtype': z.enum(['auto', 'fp8', 'fp8_e4m3', 'fp8_e5m2']).optional(),
  /** Reuse KV cache across requests sharing a prefix. vLLM default: on (V1 engine). */
  'enable-prefix-caching': z.boolean().optional(),
  /** Split long prefills into chunks batched with decodes. vLLM default: on (V1 engine). */
  'enable-chunked-prefill': z.boolean().optional(),
});
export type EngineArgs = z.infer<typeof EngineArgs>;

export const ENGINE_ARG_NAMES = Object.keys(EngineArgs.shape) as (keyof EngineArgs)[];

/** vLLM's default `--gpu-memory-utilization`. */
export const DEFAULT_GPU_MEMORY_UTILIZATION = 0.9;
