/**
 * AWS GPU instance types and their prices in us-east-1.
 *
 * Shapes: AWS EC2 accelerated-computing instance types (public documentation,
 * read 2025-06). The larger hosts with the same GPUs are listed as spot
 * alternatives: a spot node group with several instance types survives one
 * type being reclaimed (EKS managed node groups use the capacity-optimized
 * allocation strategy for spot).
 */
import type { GpuType } from '../../catalogue/gpus.ts';
import { priceRows, type MachinePrice } from '../../catalogue/prices.ts';
import type { GpuMachine } from '../cloud-plugin.ts';

const m = (machineType: string, gpus: number, vcpus: number, memoryGiB: number, spotAlternatives: string[] = []): GpuMachine => ({ machineType, gpus, vcpus, memoryGiB, spotAlternatives });

export const AWS_GPU_MACHINES: Partial<Record<GpuType, readonly GpuMachine[]>> = {
  'nvidia-t4': [m('g4dn.xlarge', 1, 4, 16, ['g4dn.2xlarge', 'g4dn.4xlarge', 'g4dn.8xlarge']), m('g4dn.12xlarge', 4, 48, 192)],
  'nvidia-l4': [m('g6.xlarge', 1, 4, 16, ['g6.2xlarge', 'g6.4xlarge', 'g6.8xlarge']), m('g6.12xlarge', 4, 48, 192, ['g6.24xlarge']), m('g6.48xlarge', 8, 192, 768)],
  'nvidia-a10g': [m('g5.xlarge', 1, 4, 16, ['g5.2xlarge', 'g5.4xlarge', 'g5.8xlarge']), m('g5.12xlarge', 4, 48, 192, ['g5.24xlarge']), m('g5.48xlarge', 8, 192, 768)],
  'nvidia-l40s': [m('g6e.xlarge', 1, 4, 32, ['g6e.2xlarge', 'g6e.4xlarge']), m('g6e.12xlarge', 4, 48, 384, ['g6e.24xlarge']), m('g6e.48xlarge', 8, 192, 1536)],
  'nvidia-a100-40gb': [m('p4d.24xlarge', 8, 96, 1152)],
  'nvidia-a100-80gb': [m('p4de.24xlarge', 8, 96, 1152)],
  'nvidia-h100-80gb': [m('p5.4xlarge', 1, 16, 256), m('p5.48xlarge', 8, 192, 2048)],
};

const SKYPILOT = 'SkyPilot catalogue snapshot';
const price = priceRows('us-east-1', '2025-06-01', 'AWS EC2 price list (approximate; spot is a typical discount)');

export const AWS_PRICES: readonly MachinePrice[] = [
  price('g4dn.xlarge', 0.526, 0.21),
  price('g4dn.12xlarge', 3.912, 1.56),
  price('g5.xlarge', 1.006, 0.42, SKYPILOT),
  price('g5.12xlarge', 5.672, 2.27),
  price('g5.48xlarge', 16.288, 6.52),
  price('g6.xlarge', 0.805, 0.35, SKYPILOT),
  price('g6.12xlarge', 4.602, 1.84),
  price('g6.48xlarge', 13.35, 5.34),
  price('g6e.xlarge', 1.861, 0.74),
  price('g6e.12xlarge', 10.493, 4.2),
  price('g6e.48xlarge', 30.131, 12.05),
  price('p4d.24xlarge', 21.958, 8.78),
  price('p4de.24xlarge', 27.447, 9.0, SKYPILOT),
  price('p5.4xlarge', 6.88, undefined, SKYPILOT),
  price('p5.48xlarge', 55.04, 22.0, SKYPILOT),
];
