/**
 * The hardware facts the serving model needs beyond the GPU catalogue: how fast
 * the GPUs of one replica talk to each other (tensor-parallel all-reduce), and
 * the tensor-core peak at the precision a replica computes in.
 */
import { GPU_CATALOGUE, type GpuType } from '../catalogue/gpus.ts';

/** How the GPUs of one machine exchange tensor-parallel partial sums. */
export interface Interconnect {
  /** Per-GPU bandwidth in one direction, GB/s. */
  readonly bandwidthGBps: number;
  /** Fixed cost of one all-reduce (kernel launch and synchronisation), seconds. */
  readonly latencySeconds: number;
}

/**
 * NVLink on the SXM parts the catalogue's machines carry (NVIDIA datasheets: H100 SXM NVLink 4,
 * 900 GB/s bidirectional; A100 SXM NVLink 3, 600 GB/s bidirectional); PCIe Gen4 x16 (32 GB/s per
 * direction, about 25 GB/s achieved) for the PCIe cards. All-reduce latencies are the order of
 * magnitude NCCL reports for small messages: about 10 µs over NVLink, 25 µs over PCIe.
 */
const NVLINK_H100: Interconnect = { bandwidthGBps: 450, latencySeconds: 10e-6 };
const NVLINK_A100: Interconnect = { bandwidthGBps: 300, latencySeconds: 10e-6 };
const PCIE_GEN4: Interconnect = { bandwidthGBps: 25, latencySeconds: 25e-6 };

export const INTERCONNECT: Readonly<Record<GpuType, Interconnect>> = {
  'nvidia-t4': PCIE_GEN4,
  'nvidia-l4': PCIE_GEN4,
  'nvidia-a10g': PCIE_GEN4,
  'nvidia-l40s': PCIE_GEN4,
  'nvidia-a100-40gb': NVLINK_A100,
  'nvidia-a100-80gb': NVLINK_A100,
  'nvidia-h100-80gb': NVLINK_H100,
};

/**
 * Dense tensor TFLOPS of one GPU at the precision the replica computes in: FP8 tensor cores
 * (Ada, Hopper) run twice the BF16 rate; elsewhere FP8 and 4-bit weights are dequantized and the
 * matrix products run in BF16 (vLLM's Marlin kernels).
 */
export function peakTflops(gpuType: GpuType, fp8Compute: boolean): number {
  const gpu = GPU_CATALOGUE[gpuType];
  return fp8Compute && gpu.fp8 ? gpu.denseTflops * 2 : gpu.denseTflops;
}
