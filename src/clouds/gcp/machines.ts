/**
 * GCP accelerator-optimized (A3, A2, G2) and N1 + T4 machine types, the GKE
 * accelerator type of each GPU, the zones of a region that sell each machine
 * family, and prices in us-central1.
 */
import type { GpuType } from '../../catalogue/gpus.ts';
import type { MachinePrice } from '../../catalogue/prices.ts';
import type { GpuMachine } from '../cloud-plugin.ts';

const m = (machineType: string, gpus: number, vcpus: number, memoryGiB: number, extra: Partial<GpuMachine> = {}): GpuMachine => ({ machineType, gpus, vcpus, memoryGiB, ...extra });

/**
 * Machine types (GCP "GPU machine types" documentation, read 2025-06), with the
 * local SSDs the A3 High 8-GPU and A2 Ultra types bundle (16 and 1/2/4/8 ×
 * 375 GiB). A3 High with 1, 2 or 4 GPUs is sold only as Spot or Flex-start VMs,
 * never on demand (GCP "Accelerator-optimized machine family", consumption
 * option availability by machine type; dstackai/gpuhunt drops their on-demand
 * offers for the same reason).
 */
export const GCP_GPU_MACHINES: Partial<Record<GpuType, readonly GpuMachine[]>> = {
  'nvidia-t4': [m('n1-standard-8', 1, 8, 30), m('n1-standard-16', 2, 16, 60), m('n1-standard-32', 4, 32, 120)],
  'nvidia-l4': [m('g2-standard-8', 1, 8, 32), m('g2-standard-24', 2, 24, 96), m('g2-standard-48', 4, 48, 192), m('g2-standard-96', 8, 96, 384)],
  'nvidia-a100-40gb': [m('a2-highgpu-1g', 1, 12, 85), m('a2-highgpu-2g', 2, 24, 170), m('a2-highgpu-4g', 4, 48, 340), m('a2-highgpu-8g', 8, 96, 680)],
  'nvidia-a100-80gb': [
    m('a2-ultragpu-1g', 1, 12, 170, { localSsds: 1 }),
    m('a2-ultragpu-2g', 2, 24, 340, { localSsds: 2 }),
    m('a2-ultragpu-4g', 4, 48, 680, { localSsds: 4 }),
    m('a2-ultragpu-8g', 8, 96, 1360, { localSsds: 8 }),
  ],
  'nvidia-h100-80gb': [
    m('a3-highgpu-1g', 1, 26, 234, { spotOnly: true }),
    m('a3-highgpu-2g', 2, 52, 468, { spotOnly: true }),
    m('a3-highgpu-4g', 4, 104, 936, { spotOnly: true }),
    m('a3-highgpu-8g', 8, 208, 1872, { localSsds: 16 }),
  ],
};

/** GKE `guest_accelerator.type` of each GPU type. */
export const GCP_ACCELERATOR_TYPES: Partial<Record<GpuType, string>> = {
  'nvidia-t4': 'nvidia-tesla-t4',
  'nvidia-l4': 'nvidia-l4',
  'nvidia-a100-40gb': 'nvidia-tesla-a100',
  'nvidia-a100-80gb': 'nvidia-a100-80gb',
  'nvidia-h100-80gb': 'nvidia-h100-80gb',
};

/**
 * Zones that sell a GPU type's machine family, per region: the zones listed for
 * g2-standard-*, a2-highgpu-*, a2-ultragpu-* and a3-highgpu-* in the SkyPilot
 * GCP catalogue (skypilot-org/skypilot-catalogue, catalogs/v7/gcp/vms.csv, read
 * 2026-11). A region or GPU type missing here must declare `zones` on its pools.
 */
export const GCP_GPU_ZONES: Readonly<Record<string, Partial<Record<GpuType, readonly string[]>>>> = {
  'us-central1': {
    'nvidia-l4': ['us-central1-a', 'us-central1-b', 'us-central1-c'],
    'nvidia-a100-40gb': ['us-central1-a', 'us-central1-b', 'us-central1-c', 'us-central1-f'],
    'nvidia-a100-80gb': ['us-central1-a', 'us-central1-c'],
    'nvidia-h100-80gb': ['us-central1-a', 'us-central1-b', 'us-central1-c'],
  },
};

/**
 * GCP bills the accelerator and the host VM separately; a machine's price is
 * GPUs × (GPU price + host share per GPU). Spot host shares that GCP does not
 * publish in the snapshot are taken at 40 % of on demand.
 */
const price = (machineType: string, gpus: number, gpu: { onDemand: number; spot: number }, hostPerGpu: number): MachinePrice => ({
  region: 'us-central1',
  machineType,
  onDemandUsdPerHour: round(gpus * (gpu.onDemand + hostPerGpu)),
  spotUsdPerHour: round(gpus * (gpu.spot + 0.4 * hostPerGpu)),
  source: `SkyPilot catalogue snapshot (GPU ${gpu.onDemand}/${gpu.spot} + host ${hostPerGpu} per GPU)`,
  asOf: '2025-06-01',
});

const round = (usd: number): number => Math.round(usd * 1000) / 1000;

const L4 = { onDemand: 0.56, spot: 0.22 };
const T4 = { onDemand: 0.35, spot: 0.14 };
const A100_40 = { onDemand: 2.934, spot: 1.434 };
const A100_80 = { onDemand: 3.93, spot: 1.57 };
const H100 = { onDemand: 4.2, spot: 2.99 };

export const GCP_PRICES: readonly MachinePrice[] = [
  price('n1-standard-8', 1, T4, 0.38),
  price('n1-standard-16', 2, T4, 0.38),
  price('n1-standard-32', 4, T4, 0.38),
  price('g2-standard-8', 1, L4, 0.294),
  price('g2-standard-24', 2, L4, 0.294),
  price('g2-standard-48', 4, L4, 0.294),
  price('g2-standard-96', 8, L4, 0.294),
  price('a2-highgpu-1g', 1, A100_40, 0.739),
  price('a2-highgpu-2g', 2, A100_40, 0.739),
  price('a2-highgpu-4g', 4, A100_40, 0.739),
  price('a2-highgpu-8g', 8, A100_40, 0.739),
  price('a2-ultragpu-1g', 1, A100_80, 1.13),
  price('a2-ultragpu-2g', 2, A100_80, 1.13),
  price('a2-ultragpu-4g', 4, A100_80, 1.13),
  price('a2-ultragpu-8g', 8, A100_80, 1.13),
  price('a3-highgpu-1g', 1, H100, 1.18),
  price('a3-highgpu-2g', 2, H100, 1.18),
  price('a3-highgpu-4g', 4, H100, 1.18),
  price('a3-highgpu-8g', 8, H100, 1.18),
];
