/**
 * The one path from "this model, on this hardware, with these vLLM flags" to a
 * ReplicaSetup: the simulator (flags parsed back from the rendered manifest,
 * model facts from its scenario) and the optimizer (flags from the declarations,
 * model facts from the model declaration) both predict through it, so the two
 * honour gpu-memory-utilization, kv-cache-dtype, max-num-batched-tokens,
 * max-model-len and quantization alike.
 */
import { GPU_CATALOGUE, type GpuType } from '../catalogue/gpus.ts';
import type { Model } from '../declarations/model.ts';
import { kvBytesPerToken } from '../fleet/memory.ts';
import { effectiveEngineArgs } from '../vllm/defaults.ts';
import { DTYPE_BYTES, QUANTIZATION_BYTES_PER_PARAMETER, type EngineArgs } from '../vllm/engine-args.ts';
import type { ReplicaSetup } from './serving-model.ts';

/** What the serving model needs to know of a model. */
export interface ModelFacts {
  readonly parametersBillions: number;
  /** Bytes per weight at the model's own dtype. */
  readonly bytesPerParameter: number;
  /** KV-cache bytes per token at the model's own dtype. */
  readonly kvBytesPerToken: number;
  readonly layers: number;
  /** The model's context length (vLLM's default `--max-model-len`). */
  readonly contextLengthTokens: number;
}

/** The facts of a declared model. */
export function modelFacts(model: Model): ModelFacts {
  return {
    parametersBillions: model.parametersBillions,
    bytesPerParameter: DTYPE_BYTES[model.dtype],
    kvBytesPerToken: kvBytesPerToken(model, undefined),
    layers: model.layers,
    contextLengthTokens: model.contextLengthTokens,
  };
}

/** A replica of `gpuCount` × `gpuType` serving the model with these engine arguments (vLLM's defaults filled in). */
export function replicaSetup(facts: ModelFacts, gpuType: GpuType, gpuCount: number, engineArgs: EngineArgs): ReplicaSetup {
  const args = effectiveEngineArgs(engineArgs, gpuType, { gpuCount, contextLengthTokens: facts.contextLengthTokens });
  const fp8Kv = args['kv-cache-dtype'].startsWith('fp8');
  return {
    gpuType,
    gpuCount: args['tensor-parallel-size'],
    parametersBillions: facts.parametersBillions,
    layers: facts.layers,
    bytesPerParameter: args.quantization ? QUANTIZATION_BYTES_PER_PARAMETER[args.quantization] : facts.bytesPerParameter,
    fp8Compute: args.quantization === 'fp8' && GPU_CATALOGUE[gpuType].fp8,
    kvBytesPerToken: fp8Kv ? facts.kvBytesPerToken / facts.bytesPerParameter : facts.kvBytesPerToken,
    maxNumSeqs: args['max-num-seqs'],
    maxNumBatchedTokens: args['max-num-batched-tokens'],
    gpuMemoryUtilization: args['gpu-memory-utilization'],
    maxModelLen: args['max-model-len'],
  };
}
