/**
 * Memory of what failed. A configuration that was reverted after its
 * verification, or declined by a person, bans its neighbourhood
 * (neighbourhood.ts) from proposals for the policy's `neighbourhood.banDays`;
 * each earlier ban in the same neighbourhood doubles it (7, 14, 28 days …), up
 * to `maxBanDays`, so a cheaper configuration that truly breaks the SLOs is
 * tried at most once per ban and ever more rarely after. From the second
 * failure of one machine (GPU type and count, quantization) the ban covers
 * every knob setting of that machine on no more replicas than failed: tuning
 * does not rescue hardware that failed twice, and without this a slow GPU is
 * retried at each `max-num-seqs` or `max-num-batched-tokens` step. Pure.
 */
import { describeNeighbourhood, inNeighbourhood, type NeighbourhoodTolerance } from './neighbourhood.ts';
import type { Configuration } from './predict.ts';

const DAY_MS = 86_400_000;

/** A policy's `neighbourhood` settings with its ban durations (src/declarations/policy.ts). */
export interface BanPolicy extends NeighbourhoodTolerance {
  /** Days of a first ban. */
  readonly banDays: number;
  /** Days of the longest ban. */
  readonly maxBanDays: number;
}

/** A configuration that failed: reverted or declined. */
export interface Failure {
  readonly configuration: Configuration;
  /** When it failed (the revert, the decline). */
  readonly at: Date;
  /** Why, in the bot's words ("reverted: TTFT p95 2100 ms > 800 ms SLO"). */
  readonly why: string;
  /** The end of its ban as the ledger recorded it, if it did (wins over a recomputation under a changed policy). */
  readonly until?: Date;
}

/** A failure's ban. */
export interface Ban extends Failure {
  /** 1 for the first ban in this neighbourhood, 2 for the second, … */
  readonly strike: number;
  readonly days: number;
  readonly until: Date;
  /** Set from the second failure of one machine: the ban covers that machine at any knob setting, up to this many replicas. */
  readonly machineUpToReplicas?: number;
}

const sameMachine = (a: Configuration, b: Configuration) => a.gpuType === b.gpuType && a.gpuCount === b.gpuCount && a.quantization === b.quantization;

/** Whether `ban` keeps `configuration` out (at any time: the caller checks `until`). */
export function keepsOut(ban: Ban, configuration: Configuration, policy: BanPolicy): boolean {
  if (ban.machineUpToReplicas !== undefined && sameMachine(ban.configuration, configuration) && configuration.replicasMax <= ban.machineUpToReplicas) return true;
  return inNeighbourhood(ban.configuration, configuration, policy);
}

/** Days of the `strike`-th ban in one neighbourhood: `banDays` doubled per earlier ban, at most `maxBanDays`. */
export function banDays(strike: number, policy: BanPolicy): number {
  return Math.min(policy.maxBanDays, policy.banDays * 2 ** Math.max(0, strike - 1));
}

/** The ban a failure earns, given the failures before it. */
export function banOf(earlier: readonly Failure[], failure: Failure, policy: BanPolicy): Ban {
  const before = earlier.filter((other) => other.at.getTime() <= failure.at.getTime());
  const strike = 1 + before.filter((other) => inNeighbourhood(other.configuration, failure.configuration, policy)).length;
  const days = banDays(strike, policy);
  const machine = before.filter((other) => sameMachine(other.configuration, failure.configuration));
  const widened = machine.length > 0 ? { machineUpToReplicas: Math.max(failure.configuration.replicasMax, ...machine.map((other) => other.configuration.replicasMax)) } : {};
  return { ...failure, strike, days, until: failure.until ?? new Date(failure.at.getTime() + days * DAY_MS), ...widened };
}

/** Every failure's ban, oldest first. */
export function bansOf(failures: readonly Failure[], policy: BanPolicy): Ban[] {
  const sorted = [...failures].sort((a, b) => a.at.getTime() - b.at.getTime());
  return sorted.map((failure, index) => banOf(sorted.slice(0, index), failure, policy));
}

/** The ban that keeps `configuration` out at `now`, if one does. */
export function banning(bans: readonly Ban[], configuration: Configuration, now: Date, policy: BanPolicy): Ban | undefined {
  return bans.find((ban) => now.getTime() < ban.until.getTime() && keepsOut(ban, configuration, policy));
}

const ORDINALS = ['first', 'second', 'third', 'fourth'];
const ordinal = (strike: number) => ORDINALS[strike - 1] ?? `${strike}th`;

/** A ban in words, for the ledger, a pull-request body and the dashboard. */
export function banWords(ban: Ban, policy: BanPolicy): string {
  const machine =
    ban.machineUpToReplicas !== undefined
      ? ` and, as this machine failed before, ${ban.configuration.gpuCount}x ${ban.configuration.gpuType} ${ban.configuration.quantization ?? 'unquantized'} at any knob setting on up to ${ban.machineUpToReplicas} replicas`
      : '';
  return `${describeNeighbourhood(ban.configuration, policy)}${machine}: ${ban.why}; not proposed until ${ban.until.toISOString()} (${ordinal(ban.strike)} ban of this neighbourhood, ${ban.days} days)`;
}
