/** How much GPU memory a model's weights take, and whether a replica holds them. */
import { GPU_CATALOGUE, type GpuType } from '../catalogue/gpus.ts';
import { DEFAULT_GPU_MEMORY_UTILIZATION, DTYPE_BYTES, QUANTIZATION_BYTES_PER_PARAMETER, type Quantization } from '../vllm/engine-args.ts';
import type { Model } from '../declarations/model.ts';

const GIB = 2 ** 30;

/** Memory vLLM keeps per GPU for activations, CUDA graphs and the runtime, GiB. */
export const RUNTIME_OVERHEAD_GIB_PER_GPU = 1.5;

/** Weight size in GiB at the model's dtype, or at a quantization's width. */
export function weightsGiB(model: Model, quantization?: Quantization): number {
  const bytesPerParameter = quantization ? QUANTIZATION_BYTES_PER_PARAMETER[quantization] : DTYPE_BYTES[model.dtype];
  return (model.parametersBillions * 1e9 * bytesPerParameter) / GIB;
}

/** What a replica of `count` GPUs leaves for weights after vLLM's share and runtime overhead, GiB. */
export function usableGiB(gpuType: GpuType, count: number, gpuMemoryUtilization = DEFAULT_GPU_MEMORY_UTILIZATION): number {
  return count * (GPU_CATALOGUE[gpuType].memoryGiB * gpuMemoryUtilization - RUNTIME_OVERHEAD_GIB_PER_GPU);
}

/** KV-cache bytes one token takes: keys and values, every layer, at the KV dtype. */
export function kvBytesPerToken(model: Model, kvCacheDtype: string | undefined): number {
  const elementBytes = kvCacheDtype?.startsWith('fp8') ? 1 : DTYPE_BYTES[model.dtype];
  return 2 * model.layers * model.kvDimension * elementBytes;
}

/** The smallest GPU count (1, 2, 4, 8) of a type that holds the weights, or undefined. */
export function smallestFittingGpuCount(model: Model, gpuType: GpuType, quantization?: Quantization): number | undefined {
  return [1, 2, 4, 8].find((count) => weightsGiB(model, quantization) < usableGiB(gpuType, count));
}
