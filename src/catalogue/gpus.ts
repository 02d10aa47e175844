/**
 * The shared GPU catalogue: what a GPU type is (its physics, which the
 * performance model reads) and how GPU nodes are labelled and tainted, so that
 * the Kubernetes output (node selectors, tolerations) and the Terraform output
 * (node pool labels, taints) cannot disagree. Which machines carry a GPU type,
 * where, and at what price is each cloud's business: src/clouds/<cloud>/.
 */
import { z } from 'zod';

export const GpuType = z.enum(['nvidia-t4', 'nvidia-l4', 'nvidia-a10g', 'nvidia-l40s', 'nvidia-a100-40gb', 'nvidia-a100-80gb', 'nvidia-h100-80gb']);
export type GpuType = z.infer<typeof GpuType>;

/** Physical facts about a GPU type. */
export interface GpuSpec {
  readonly type: GpuType;
  /** Marketing name, for tables and pull-request bodies. */
  readonly displayName: string;
  /** Device memory in GiB (nominal). */
  readonly memoryGiB: number;
  /** Peak memory bandwidth in GB/s; decode speed is bound by it. */
  readonly memoryBandwidthGBps: number;
  /** Dense BF16/FP16 tensor throughput, TFLOPS (the compute ceiling of prefill and large batches). */
  readonly denseTflops: number;
  /** Whether the GPU computes in FP8 natively (Ada and Hopper). */
  readonly fp8: boolean;
}

/** NVIDIA data sheets (memory, bandwidth, dense BF16 tensor TFLOPS). */
export const GPU_CATALOGUE: Readonly<Record<GpuType, GpuSpec>> = {
  'nvidia-t4': { type: 'nvidia-t4', displayName: 'NVIDIA T4 16GB', memoryGiB: 16, memoryBandwidthGBps: 320, denseTflops: 65, fp8: false },
  'nvidia-l4': { type: 'nvidia-l4', displayName: 'NVIDIA L4 24GB', memoryGiB: 24, memoryBandwidthGBps: 300, denseTflops: 121, fp8: true },
  'nvidia-a10g': { type: 'nvidia-a10g', displayName: 'NVIDIA A10G 24GB', memoryGiB: 24, memoryBandwidthGBps: 600, denseTflops: 70, fp8: false },
  'nvidia-l40s': { type: 'nvidia-l40s', displayName: 'NVIDIA L40S 48GB', memoryGiB: 48, memoryBandwidthGBps: 864, denseTflops: 362, fp8: true },
  'nvidia-a100-40gb': { type: 'nvidia-a100-40gb', displayName: 'NVIDIA A100 40GB', memoryGiB: 40, memoryBandwidthGBps: 1555, denseTflops: 312, fp8: false },
  'nvidia-a100-80gb': { type: 'nvidia-a100-80gb', displayName: 'NVIDIA A100 80GB', memoryGiB: 80, memoryBandwidthGBps: 2039, denseTflops: 312, fp8: false },
  'nvidia-h100-80gb': { type: 'nvidia-h100-80gb', displayName: 'NVIDIA H100 80GB', memoryGiB: 80, memoryBandwidthGBps: 3350, denseTflops: 989, fp8: true },
};

export const GPU_TYPES: readonly GpuType[] = GpuType.options;

/** Node label carrying the GPU type, set on node pools and selected by model servers. */
export const GPU_TYPE_NODE_LABEL = 'llmops.dev/gpu-type';

/** Node label carrying the GPUs of one node: with the GPU type it is the pool shape a deployment selects. */
export const GPUS_PER_NODE_LABEL = 'llmops.dev/gpus-per-node';

/** The taint every GPU node pool carries, so only GPU workloads land there. */
export const GPU_NODE_TAINT = { key: 'nvidia.com/gpu', value: 'present', effect: 'NoSchedule' } as const;

/** Extended resource name the NVIDIA device plugin advertises. */
export const GPU_RESOURCE_NAME = 'nvidia.com/gpu';

/**
 * Labels a node pool of one shape carries and a model server selects: the GPU
 * type and the GPUs per node, so a 1-GPU replica never lands on (and blocks)
 * the 4-GPU nodes meant for a tensor-parallel model.
 */
export function poolShapeLabels(gpuType: GpuType, gpusPerNode: number): Record<string, string> {
  return { [GPU_TYPE_NODE_LABEL]: gpuType, [GPUS_PER_NODE_LABEL]: String(gpusPerNode) };
}
