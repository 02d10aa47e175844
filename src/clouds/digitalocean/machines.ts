/**
 * DigitalOcean GPU Droplet sizes a DOKS node pool can use, and their prices.
 *
 * Sizes: `gpu-h100x1-80gb` 20 vCPUs / 240 GiB and `gpu-h100x8-640gb`
 * 160 vCPUs / 1,920 GiB (SkyPilot DigitalOcean catalogue,
 * skypilot-org/skypilot-catalogue catalogs/v6/do/vms.csv, read 2026-11);
 * `gpu-l40sx1-48gb` 8 vCPUs / 64 GiB (the size's `memory` of 65,536 MB as the
 * DigitalOcean sizes API reports it). The RTX 4000/6000 Ada and AMD MI300X
 * sizes are left out: they need rows in the shared GPU physics catalogue (and
 * ROCm images for AMD) first.
 */
import type { GpuType } from '../../catalogue/gpus.ts';
import { ANY_REGION, priceRows, type MachinePrice } from '../../catalogue/prices.ts';
import type { GpuMachine } from '../cloud-plugin.ts';

const m = (machineType: string, gpus: number, vcpus: number, memoryGiB: number): GpuMachine => ({ machineType, gpus, vcpus, memoryGiB });

export const DIGITALOCEAN_GPU_MACHINES: Partial<Record<GpuType, readonly GpuMachine[]>> = {
  'nvidia-l40s': [m('gpu-l40sx1-48gb', 1, 8, 64)],
  'nvidia-h100-80gb': [m('gpu-h100x1-80gb', 1, 20, 240), m('gpu-h100x8-640gb', 8, 160, 1920)],
};

/** On-demand list prices, the same in every region; DigitalOcean sells no spot GPU Droplets. */
const price = priceRows(ANY_REGION, '2026-05-28', 'DigitalOcean Droplet pricing, GPU Droplets (docs.digitalocean.com/products/droplets/details/pricing, validated 2026-05-28)');

export const DIGITALOCEAN_PRICES: readonly MachinePrice[] = [price('gpu-l40sx1-48gb', 1.57), price('gpu-h100x1-80gb', 3.39), price('gpu-h100x8-640gb', 23.92)];
