/**
 * Machine prices: USD per hour of one machine, on demand and spot, per region,
 * each row with its source and date. Every cloud plug-in (src/clouds/<cloud>/)
 * holds its own rows; environments may override rows (negotiated discounts,
 * reservations) with their own figures.
 */

/** Region of a price row that holds in every region of its cloud. */
export const ANY_REGION = '*';

/** A machine's hourly price in one region (or in all, {@link ANY_REGION}). */
export interface MachinePrice {
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

/** Makes the price rows of one region (or {@link ANY_REGION}) read on one date, with a default source. */
export function priceRows(region: string, asOf: string, defaultSource: string) {
  return (machineType: string, onDemandUsdPerHour: number, spotUsdPerHour?: number, source = defaultSource): MachinePrice => ({
    region,
    machineType,
    onDemandUsdPerHour,
    spotUsdPerHour,
    source,
    asOf,
  });
}

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
 * The price of a machine: the environment's override, else the cloud's row for
 * the region, else its row of another region (flagged), else undefined.
 */
export function quotePrice(prices: readonly MachinePrice[], region: string, machineType: string, overrides: Readonly<Record<string, PriceOverride>> = {}): QuotedPrice | undefined {
  const override = overrides[machineType];
  if (override) {
    return { region, machineType, ...override, source: 'environment override', asOf: 'declared', regionMatched: true };
  }
  const rows = prices.filter((row) => row.machineType === machineType);
  const exact = rows.find((row) => row.region === region || row.region === ANY_REGION);
  if (exact) return { ...exact, region, regionMatched: true };
  return rows[0] ? { ...rows[0], regionMatched: false } : undefined;
}

/** Hourly price of one machine for a capacity type; spot falls back to on demand where none is sold. */
export function hourlyUsd(price: MachinePrice, capacity: 'spot' | 'on-demand'): number {
  return capacity === 'spot' ? (price.spotUsdPerHour ?? price.onDemandUsdPerHour) : price.onDemandUsdPerHour;
}

/** Hours in an average month (365 × 24 / 12), the convention cloud bills use. */
export const HOURS_PER_MONTH = 730;
