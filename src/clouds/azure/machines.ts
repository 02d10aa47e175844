/** Azure N-series VM sizes that carry GPUs, and their prices in eastus. */
import type { GpuType } from '../../catalogue/gpus.ts';
import { priceRows, type MachinePrice } from '../../catalogue/prices.ts';
import type { GpuMachine } from '../cloud-plugin.ts';

const m = (machineType: string, gpus: number, vcpus: number, memoryGiB: number): GpuMachine => ({ machineType, gpus, vcpus, memoryGiB });

/**
 * VM sizes (Azure N-series documentation, read 2025-06). NC40ads_H100_v5 carries
 * an H100 NVL (94 GB); it is listed as the H100 class because it has at least
 * the memory the catalogue promises.
 */
export const AZURE_GPU_MACHINES: Partial<Record<GpuType, readonly GpuMachine[]>> = {
  'nvidia-t4': [m('Standard_NC4as_T4_v3', 1, 4, 28), m('Standard_NC64as_T4_v3', 4, 64, 440)],
  'nvidia-a100-80gb': [m('Standard_NC24ads_A100_v4', 1, 24, 220), m('Standard_NC48ads_A100_v4', 2, 48, 440), m('Standard_NC96ads_A100_v4', 4, 96, 880)],
  'nvidia-h100-80gb': [m('Standard_NC40ads_H100_v5', 1, 40, 320), m('Standard_NC80adis_H100_v5', 2, 80, 640)],
};

const SKYPILOT = 'SkyPilot catalogue snapshot';
const price = priceRows('eastus', '2025-06-01', 'Azure VM price list (approximate)');

export const AZURE_PRICES: readonly MachinePrice[] = [
  price('Standard_NC4as_T4_v3', 0.526, 0.21),
  price('Standard_NC64as_T4_v3', 4.352, 1.74),
  price('Standard_NC24ads_A100_v4', 3.673, 0.44, SKYPILOT),
  price('Standard_NC48ads_A100_v4', 7.346, 0.88),
  price('Standard_NC96ads_A100_v4', 14.692, 1.76),
  price('Standard_NC40ads_H100_v5', 6.98, undefined, SKYPILOT),
  price('Standard_NC80adis_H100_v5', 13.96, undefined),
];
