/**
 * The neighbourhood of a configuration: the configurations that ask the same
 * question of a reviewer, or of production. A person who declined "1x L4, 1–3
 * replicas, max-num-seqs 16" declined "1x L4, 1–4 replicas, max-num-seqs 32" too,
 * and an L4 that broke the SLOs at max-num-seqs 64 breaks them at 32 or 128: only
 * another GPU type or quantization, or numbers (GPU count, replicas, tuned knobs)
 * outside the policy's tolerance, make a new proposal. A declined question stays
 * closed until the evidence it was asked on — the request rate, its peak, the
 * prompt and output lengths — moves materially. Pure; the one definition the bot
 * uses for declined and for reverted configurations (src/optimizer/bans.ts).
 */
import { TUNED_KNOBS } from '../vllm/knobs.ts';
import type { Signals } from './observe.ts';
import type { Configuration } from './predict.ts';

/** A policy's `neighbourhood` settings (src/declarations/policy.ts). */
export interface NeighbourhoodTolerance {
  /** Numbers within this share of the centre's value are in the neighbourhood, percent. */
  readonly tolerancePct: number;
  /** …or within this many units of it (one replica, one GPU, one step of a tuned knob's grid). */
  readonly toleranceUnits: number;
  /** Evidence that moved by more than this reopens the question, percent. */
  readonly materialChangePct: number;
}

/** Fields that must be equal: they choose the kind of machine, not a number on it. */
const SHAPE: readonly (keyof Configuration)[] = ['gpuType', 'quantization'];

/** The numbers of a configuration compared within the tolerance (replicas and every tuned engine knob). */
function knobs(configuration: Configuration): [string, number | undefined][] {
  return Object.entries(configuration).filter(([name, value]) => !SHAPE.includes(name as keyof Configuration) && (typeof value === 'number' || value === undefined)) as [string, number | undefined][];
}

/** Steps of a tuned knob's grid between two values (the grid is geometric: 16, 32, 64, …); undefined for other numbers. */
function gridSteps(name: string, a: number, b: number): number | undefined {
  const grid = TUNED_KNOBS.find((knob) => knob.key === name)?.grid;
  if (!grid || a <= 0 || b <= 0) return undefined;
  const ratio = grid[1] / grid[0];
  return Math.abs(Math.log(a / b) / Math.log(ratio));
}

/** vLLM's value of a tuned knob left out on `gpuType`; undefined for other numbers. */
const knobDefault = (name: string, gpuType: Configuration['gpuType']) => TUNED_KNOBS.find((knob) => knob.key === name)?.vllmDefault(gpuType);

const near = (name: string, a: number, b: number, tolerance: NeighbourhoodTolerance) =>
  Math.abs(a - b) <= Math.max(tolerance.toleranceUnits, (tolerance.tolerancePct / 100) * Math.max(Math.abs(a), Math.abs(b))) || (gridSteps(name, a, b) ?? Infinity) <= tolerance.toleranceUnits + 1e-9;

/** Whether `candidate` is in the neighbourhood of `centre`: the same GPU type and quantization, every number within the tolerance. */
export function inNeighbourhood(centre: Configuration, candidate: Configuration, tolerance: NeighbourhoodTolerance): boolean {
  if (SHAPE.some((field) => centre[field] !== candidate[field])) return false;
  const theirs = new Map(knobs(candidate));
  const names = new Set([...knobs(centre).map(([name]) => name), ...theirs.keys()]);
  return [...names].every((name) => {
    // A tuned knob left out runs at vLLM's default for the GPU type: compare that value.
    const a = (centre as unknown as Record<string, number | undefined>)[name] ?? knobDefault(name, centre.gpuType);
    const b = theirs.get(name) ?? knobDefault(name, candidate.gpuType);
    return a === undefined || b === undefined ? a === b : near(name, a, b, tolerance);
  });
}

const kebab = (name: string) => name.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`);

/** In words, for a closing comment or a pull-request body: "nvidia-l4, no quantization, every number within 25 % or 1 step of 1 GPU(s), replicas 1–3, max-num-seqs 16". */
export function describeNeighbourhood(centre: Configuration, tolerance: NeighbourhoodTolerance): string {
  const numbers = knobs(centre)
    .filter(([name, value]) => value !== undefined && name !== 'replicasMin' && name !== 'replicasMax' && name !== 'gpuCount')
    .map(([name, value]) => `${kebab(name)} ${value}`);
  const around = [`${centre.gpuCount} GPU(s)`, `replicas ${centre.replicasMin}–${centre.replicasMax}`, ...numbers].join(', ');
  return `${centre.gpuType}, ${centre.quantization ?? 'no'} quantization, every number within ${tolerance.tolerancePct} % or ${tolerance.toleranceUnits} step of ${around}`;
}

/** What a proposal was made on: the demand the bot saw. */
export interface Evidence {
  /** Completed requests per second over the window. */
  readonly requestsPerSecond?: number;
  /** Highest 5-minute request rate in the peak window. */
  readonly peakRequestsPerSecond?: number;
  /** Mean prompt length, tokens. */
  readonly meanPromptTokens?: number;
  /** Mean output length, tokens. */
  readonly meanOutputTokens?: number;
}

const EVIDENCE_NAMES: Readonly<Record<keyof Evidence, string>> = {
  requestsPerSecond: 'request rate',
  peakRequestsPerSecond: 'peak request rate',
  meanPromptTokens: 'mean prompt length',
  meanOutputTokens: 'mean output length',
};

/** The evidence in an observation (figures Prometheus did not have stay absent). */
export function evidenceOf(signals: Signals): Evidence {
  const round = (value: number | undefined) => (value === undefined || !Number.isFinite(value) ? undefined : Number(value.toPrecision(4)));
  return {
    requestsPerSecond: round(signals.requestsPerSecond),
    peakRequestsPerSecond: round(signals.peakRequestsPerSecond),
    meanPromptTokens: round(signals.meanPromptTokens),
    meanOutputTokens: round(signals.meanOutputTokens),
  };
}

/**
 * What moved by more than the tolerance's `materialChangePct` between the
 * evidence of a decline and now ("request rate 0.4 → 1.2 /s (+200 %)"), or
 * undefined when nothing did: the question is still closed.
 */
export function materialChange(then: Evidence, now: Evidence, tolerance: NeighbourhoodTolerance): string | undefined {
  const moved = (Object.keys(EVIDENCE_NAMES) as (keyof Evidence)[]).flatMap((name) => {
    const [before, after] = [then[name], now[name]];
    if (before === undefined || after === undefined) return [];
    const changePct = before === 0 ? (after === 0 ? 0 : Infinity) : ((after - before) / before) * 100;
    return Math.abs(changePct) > tolerance.materialChangePct
      ? [`${EVIDENCE_NAMES[name]} ${before} → ${after} (${changePct > 0 ? '+' : ''}${Number.isFinite(changePct) ? changePct.toFixed(0) : '∞'} %)`]
      : [];
  });
  return moved.length > 0 ? moved.join(', ') : undefined;
}
