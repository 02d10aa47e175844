/**
 * The dated GPU price catalogue: USD per hour of one machine, on demand and spot,
 * per cloud and region, each row with its source. Environments may override rows
 * (negotiated discounts, reservations) with their own figures.
 */
import type { Cloud } from './clouds.ts';

/** A machine's hourly price in one region. */
export interface MachinePrice {
  readonly cloud: Cloud;
  readonly region: string;
  readonly machineType: string;
  /** On-demand price of the whole machine, USD/hour. */
  readonly onDemandUsdPerHour: number;
  /** Spot / preemptible price of the whole machine, USD/hour; absent where none is sold. */
  readonly spotUsdPerHour?: number;
  /** Where the figure comes from. */
  readonly source: string;
  /** When the figure was read (ISO date). */
  readonly asOf: string;
}

const SKYPILOT = 'SkyPilot catalogue snapshot';
const AWS_LIST = 'AWS EC2 price list (approximate; spot is a typical discount)';
const AZURE_LIST = 'Azure VM price list (approximate)';

const aws = (machineType: string, onDemand: number, spot: number | undefined, source = AWS_LIST): MachinePrice => ({
  cloud: 'aws', region: 'us-east-1', machineType, onDemandUsdPerHour: onDemand, spotUsdPerHour: spot, source, asOf: '2025-06-01',
});

const azure = (machineType: string, onDemand: number, spot: number | undefined, source = AZURE_LIST): MachinePrice => ({
  cloud: 'azure', region: 'eastus', machineType, onDemandUsdPerHour: onDemand, spotUsdPerHour: spot, source, asOf: '2025-06-01',
});

/**
 * GCP bills the accelerator and the host VM separately; a machine's price is
 * GPUs × (GPU price + host share per GPU). Spot host shares that GCP does not
 * publish in the snapshot are taken at 40 % of on demand.
 */
const gcp = (machineType: string, gpus: number, gpu: { onDemand: number; spot: number }, hostPerGpu: number): MachinePrice => ({
  cloud: 'gcp',
  region: 'us-central1',
  machineType,
  onDemandUsdPerHour: round(gpus * (gpu.onDemand + hostPerGpu)),
  spotUsdPerHour: round(gpus * (gpu.spot + 0.4 * hostPerGpu)),
  source: `${SKYPILOT} (GPU ${gpu.onDemand}/${gpu.spot} + host ${hostPerGpu} per GPU)`,
  asOf: '2025-06-01',
});

const round = (usd: number): number => Math.round(usd * 1000) / 1000;

const GCP_L4 = { onDemand: 0.56, spot: 0.22 };
const GCP_T4 = { onDemand: 0.35, spot: 0.14 };
const GCP_A100_40 = { onDemand: 2.934, spot: 1.434 };
const GCP_A100_80 = { onDemand: 3.93, spot: 1.57 };
const GCP_H100 = { onDemand: 4.2, spot: 2.99 };

export const PRICE_CATALOGUE: readonly MachinePrice[] = [
  aws('g4dn.xlarge', 0.526, 0.21),
  aws('g4dn.12xlarge', 3.912, 1.56),
  aws('g5.xlarge', 1.006, 0.42, SKYPILOT),
  aws('g5.12xlarge', 5.672, 2.27),
  aws('g5.48xlarge', 16.288, 6.52),
  aws('g6.xlarge', 0.805, 0.35, SKYPILOT),
  aws('g6.12xlarge', 4.602, 1.84),
  aws('g6.48xlarge', 13.35, 5.34),
  aws('g6e.xlarge', 1.861, 0.74),
  aws('g6e.12xlarge', 10.493, 4.2),
  aws('g6e.48xlarge', 30.131, 12.05),
  aws('p4d.24xlarge', 21.958, 8.78),
  aws('p4de.24xlarge', 27.447, 9.0, SKYPILOT),
  aws('p5.4xlarge', 6.88, undefined, SKYPILOT),
  aws('p5.48xlarge', 55.04, 22.0, SKYPILOT),
  gcp('n1-standard-8', 1, GCP_T4, 0.38),
  gcp('n1-standard-16', 2, GCP_T4, 0.38),
  gcp('n1-standard-32', 4, GCP_T4, 0.38),
  gcp('g2-standard-8', 1, GCP_L4, 0.294),
  gcp('g2-standard-24', 2, GCP_L4, 0.294),
  gcp('g2-standard-48', 4, GCP_L4, 0.294),
  gcp('g2-standard-96', 8, GCP_L4, 0.294),
  gcp('a2-highgpu-1g', 1, GCP_A100_40, 0.739),
  gcp('a2-highgpu-2g', 2, GCP_A100_40, 0.739),
  gcp('a2-highgpu-4g', 4, GCP_A100_40, 0.739),
  gcp('a2-highgpu-8g', 8, GCP_A100_40, 0.739),
  gcp('a2-ultragpu-1g', 1, GCP_A100_80, 1.13),
  gcp('a2-ultragpu-2g', 2, GCP_A100_80, 1.13),
  gcp('a2-ultragpu-4g', 4, GCP_A100_80, 1.13),
  gcp('a2-ultragpu-8g', 8, GCP_A100_80, 1.13),
  gcp('a3-highgpu-1g', 1, GCP_H100, 1.18),
  gcp('a3-highgpu-2g', 2, GCP_H100, 1.18),
  gcp('a3-highgpu-4g', 4, GCP_H100, 1.18),
  gcp('a3-highgpu-8g', 8, GCP_H100, 1.18),
  azure('Standard_NC4as_T4_v3', 0.526, 0.21),
  azure('Standard_NC64as_T4_v3', 4.352, 1.74),
  azure('Standard_NC24ads_A100_v4', 3.673, 0.44, SKYPILOT),
  azure('Standard_NC48ads_A100_v4', 7.346, 0.88),
  azure('Standard_NC96ads_A100_v4', 14.692, 1.76),
  azure('Standard_NC40ads_H100_v5', 6.98, undefined, SKYPILOT),
  azure('Standard_NC80adis_H100_v5', 13.96, undefined),
];

/** An environment's own figure for a machine, replacing the catalogue row. */
export interface PriceOverride {
  readonly onDemandUsdPerHour: number;
  readonly spotUsdPerHour?: number;
}

/** A price as used for an estimate, with how it was found. */
export interface QuotedPrice extends MachinePrice {
  /** False when no row exists for the region and another region of the cloud was used. */
  readonly regionMatched: boolean;
}

/**
 * The price of a machine: the environment's override, else the catalogue row for
 * the region, else the catalogue row of another region of the same cloud
 * (flagged), else undefined.
 */
export function quotePrice(
  cloud: Cloud,
  region: string,
  machineType: string,
  overrides: Readonly<Record<string, PriceOverride>> = {},
): QuotedPrice | undefined {
  const override = overrides[machineType];
  if (override) {
    return { cloud, region, machineType, ...override, source: 'environment override', asOf: 'declared', regionMatched: true };
  }
  const rows = PRICE_CATALOGUE.filter((row) => row.cloud === cloud && row.machineType === machineType);
  const exact = rows.find((row) => row.region === region);
  if (exact) return { ...exact, regionMatched: true };
  return rows[0] ? { ...rows[0], regionMatched: false } : undefined;
}

/** Hourly price of one machine for a capacity type; spot falls back to on demand where none is sold. */
export function hourlyUsd(price: MachinePrice, capacity: 'spot' | 'on-demand'): number {
  return capacity === 'spot' ? (price.spotUsdPerHour ?? price.onDemandUsdPerHour) : price.onDemandUsdPerHour;
}

/** Hours in an average month (365 × 24 / 12), the convention cloud bills use. */
export const HOURS_PER_MONTH = 730;
