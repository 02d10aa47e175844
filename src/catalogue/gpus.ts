/**
 * The shared GPU catalogue: the one place that says what a GPU type is, which
 * machines carry it on each cloud, and how its nodes are labelled and tainted.
 * The Kubernetes output (node selectors, tolerations) and the Terraform output
 * (node pool labels, taints, instance types) both read it, so the two cannot
 * disagree.
 */
import { z } from 'zod';
import type { Cloud } from './clouds.ts';

export const GpuType = z.enum([
  'nvidia-t4',
  'nvidia-l4',
  'nvidia-a10g',
  'nvidia-l40s',
  'nvidia-a100-40gb',
  'nvidia-a100-80gb',
  'nvidia-h100-80gb',
]);
export type GpuType = z.infer<typeof GpuType>;

/** One machine (instance type, machine type or VM size) that carries GPUs. */
export interface GpuMachine {
  /** Cloud name of the machine: `g6.xlarge`, `g2-standard-8`, `Standard_NC24ads_A100_v4`. */
  readonly machineType: string;
  /** GPUs on one machine. */
  readonly gpus: number;
  /** vCPUs on one machine. */
  readonly vcpus: number;
  /** Host memory of one machine, GiB. */
  readonly memoryGiB: number;
}

/** How one cloud offers one GPU type. */
export interface GpuCloudOffering {
  /** Machines carrying the GPU, fewest GPUs first. */
  readonly machines: readonly GpuMachine[];
  /** GKE accelerator type for `guest_accelerator` (GCP only). */
  readonly acceleratorType?: string;
}

/** Physical facts about a GPU type and where it can be rented. */
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
  /** Offerings per cloud; a cloud that is absent does not offer the type. */
  readonly clouds: Partial<Record<Cloud, GpuCloudOffering>>;
}

const m = (machineType: string, gpus: number, vcpus: number, memoryGiB: number): GpuMachine => ({ machineType, gpus, vcpus, memoryGiB });

/**
 * Machine lists: AWS EC2 instance types, GCP accelerator-optimized machine types,
 * Azure N-series VM sizes (public documentation, 2025). Azure's NC40ads_H100_v5
 * carries an H100 NVL (94 GB); it is listed as the H100 class because it has at
 * least the memory the catalogue promises.
 */
export const GPU_CATALOGUE: Readonly<Record<GpuType, GpuSpec>> = {
  'nvidia-t4': {
    type: 'nvidia-t4',
    displayName: 'NVIDIA T4 16GB',
    memoryGiB: 16,
    memoryBandwidthGBps: 320,
    denseTflops: 65,
    fp8: false,
    clouds: {
      aws: { machines: [m('g4dn.xlarge', 1, 4, 16), m('g4dn.12xlarge', 4, 48, 192)] },
      gcp: { machines: [m('n1-standard-8', 1, 8, 30), m('n1-standard-16', 2, 16, 60), m('n1-standard-32', 4, 32, 120)], acceleratorType: 'nvidia-tesla-t4' },
      azure: { machines: [m('Standard_NC4as_T4_v3', 1, 4, 28), m('Standard_NC64as_T4_v3', 4, 64, 440)] },
    },
  },
  'nvidia-l4': {
    type: 'nvidia-l4',
    displayName: 'NVIDIA L4 24GB',
    memoryGiB: 24,
    memoryBandwidthGBps: 300,
    denseTflops: 121,
    fp8: true,
    clouds: {
      aws: { machines: [m('g6.xlarge', 1, 4, 16), m('g6.12xlarge', 4, 48, 192), m('g6.48xlarge', 8, 192, 768)] },
      gcp: { machines: [m('g2-standard-8', 1, 8, 32), m('g2-standard-24', 2, 24, 96), m('g2-standard-48', 4, 48, 192), m('g2-standard-96', 8, 96, 384)], acceleratorType: 'nvidia-l4' },
    },
  },
  'nvidia-a10g': {
    type: 'nvidia-a10g',
    displayName: 'NVIDIA A10G 24GB',
    memoryGiB: 24,
    memoryBandwidthGBps: 600,
    denseTflops: 70,
    fp8: false,
    clouds: {
      aws: { machines: [m('g5.xlarge', 1, 4, 16), m('g5.12xlarge', 4, 48, 192), m('g5.48xlarge', 8, 192, 768)] },
    },
  },
  'nvidia-l40s': {
    type: 'nvidia-l40s',
    displayName: 'NVIDIA L40S 48GB',
    memoryGiB: 48,
    memoryBandwidthGBps: 864,
    denseTflops: 362,
    fp8: true,
    clouds: {
      aws: { machines: [m('g6e.xlarge', 1, 4, 32), m('g6e.12xlarge', 4, 48, 384), m('g6e.48xlarge', 8, 192, 1536)] },
    },
  },
  'nvidia-a100-40gb': {
    type: 'nvidia-a100-40gb',
    displayName: 'NVIDIA A100 40GB',
    memoryGiB: 40,
    memoryBandwidthGBps: 1555,
    denseTflops: 312,
    fp8: false,
    clouds: {
      aws: { machines: [m('p4d.24xlarge', 8, 96, 1152)] },
      gcp: { machines: [m('a2-highgpu-1g', 1, 12, 85), m('a2-highgpu-2g', 2, 24, 170), m('a2-highgpu-4g', 4, 48, 340), m('a2-highgpu-8g', 8, 96, 680)], acceleratorType: 'nvidia-tesla-a100' },
    },
  },
  'nvidia-a100-80gb': {
    type: 'nvidia-a100-80gb',
    displayName: 'NVIDIA A100 80GB',
    memoryGiB: 80,
    memoryBandwidthGBps: 2039,
    denseTflops: 312,
    fp8: false,
    clouds: {
      aws: { machines: [m('p4de.24xlarge', 8, 96, 1152)] },
      gcp: { machines: [m('a2-ultragpu-1g', 1, 12, 170), m('a2-ultragpu-2g', 2, 24, 340), m('a2-ultragpu-4g', 4, 48, 680), m('a2-ultragpu-8g', 8, 96, 1360)], acceleratorType: 'nvidia-a100-80gb' },
      azure: { machines: [m('Standard_NC24ads_A100_v4', 1, 24, 220), m('Standard_NC48ads_A100_v4', 2, 48, 440), m('Standard_NC96ads_A100_v4', 4, 96, 880)] },
    },
  },
  'nvidia-h100-80gb': {
    type: 'nvidia-h100-80gb',
    displayName: 'NVIDIA H100 80GB',
    memoryGiB: 80,
    memoryBandwidthGBps: 3350,
    denseTflops: 989,
    fp8: true,
    clouds: {
      aws: { machines: [m('p5.4xlarge', 1, 16, 256), m('p5.48xlarge', 8, 192, 2048)] },
      gcp: { machines: [m('a3-highgpu-1g', 1, 26, 234), m('a3-highgpu-2g', 2, 52, 468), m('a3-highgpu-4g', 4, 104, 936), m('a3-highgpu-8g', 8, 208, 1872)], acceleratorType: 'nvidia-h100-80gb' },
      azure: { machines: [m('Standard_NC40ads_H100_v5', 1, 40, 320), m('Standard_NC80adis_H100_v5', 2, 80, 640)] },
    },
  },
};

export const GPU_TYPES: readonly GpuType[] = GpuType.options;

/** Node label carrying the GPU type, set on node pools and selected by model servers. */
export const GPU_TYPE_NODE_LABEL = 'llmops.dev/gpu-type';

/** The taint every GPU node pool carries, so only GPU workloads land there. */
export const GPU_NODE_TAINT = { key: 'nvidia.com/gpu', value: 'present', effect: 'NoSchedule' } as const;

/** Extended resource name the NVIDIA device plugin advertises. */
export const GPU_RESOURCE_NAME = 'nvidia.com/gpu';

/** Labels a node pool of this GPU type carries (and a model server selects). */
export function gpuNodeLabels(gpuType: GpuType): Record<string, string> {
  return { [GPU_TYPE_NODE_LABEL]: gpuType };
}

/** The clouds offering a GPU type, in catalogue order. */
export function cloudsOffering(gpuType: GpuType): Cloud[] {
  return Object.keys(GPU_CATALOGUE[gpuType].clouds) as Cloud[];
}

/**
 * The machine carrying exactly `gpusPerNode` GPUs of a type on a cloud, or
 * undefined when the cloud does not sell that shape.
 */
export function machineFor(cloud: Cloud, gpuType: GpuType, gpusPerNode: number): GpuMachine | undefined {
  return GPU_CATALOGUE[gpuType].clouds[cloud]?.machines.find((machine) => machine.gpus === gpusPerNode);
}
