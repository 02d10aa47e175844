/**
 * The neighbourhood of a configuration: the configurations that ask the same
 * question of a reviewer. A person who declined "1x L4, 1–3 replicas,
 * max-num-seqs 16" declined "1x L4, 1–4 replicas, max-num-seqs 20" too; only a
 * different machine (GPU type, GPU count, quantization) or numbers outside the
 * policy's tolerance make a new proposal. The question stays closed until the
 * evidence it was asked on — the request rate, its peak, the prompt and output
 * lengths — moves materially. Pure; the one definition the bot uses for
 * declined proposals (and issue 12's reverted ones).
 */
import type { Signals } from './observe.ts';
import type { Configuration } from './predict.ts';

/** A policy's `neighbourhood` settings (src/declarations/policy.ts). */
export interface NeighbourhoodTolerance {
  /** Numbers within this share of the centre's value are in the neighbourhood, percent. */
  readonly tolerancePct: number;
  /** …or within this many units of it (one replica). */
  readonly toleranceUnits: number;
  /** Evidence that moved by more than this reopens the question, percent. */
  readonly materialChangePct: number;
}

/** Fields that must be equal: they choose the machine, not a number on it. */
const SHAPE: readonly (keyof Configuration)[] = ['gpuType', 'gpuCount', 'quantization'];

/** The numbers of a configuration compared within the tolerance (replicas and every tuned engine knob). */
function knobs(configuration: Configuration): [string, number | undefined][] {
  return Object.entries(configuration).filter(([name, value]) => !SHAPE.includes(name as keyof Configuration) && (typeof value === 'number' || value === undefined)) as [string, number | undefined][];
}

const near = (a: number, b: number, tolerance: NeighbourhoodTolerance) => Math.abs(a - b) <= Math.max(tolerance.toleranceUnits, (tolerance.tolerancePct / 100) * Math.max(Math.abs(a), Math.abs(b)));

/** Whether `candidate` is in the neighbourhood of `centre`: the same machine, every number within the tolerance. */
export function inNeighbourhood(centre: Configuration, candidate: Configuration, tolerance: NeighbourhoodTolerance): boolean {
  if (SHAPE.some((field) => centre[field] !== candidate[field])) return false;
  const theirs = new Map(knobs(candidate));
  const names = new Set([...knobs(centre).map(([name]) => name), ...theirs.keys()]);
  return [...names].every((name) => {
    const a = (centre as unknown as Record<string, number | undefined>)[name];
    const b = theirs.get(name);
    // A knob left at vLLM's default on one side and set on the other is a different question.
    return a === undefined || b === undefined ? a === b : near(a, b, tolerance);
  });
}

const kebab = (name: string) => name.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`);

/** In words, for a closing comment or a pull-request body: "1x nvidia-l4, no quantization, every number within 25 % or 1 of replicas 1–3, max-num-seqs 16". */
export function describeNeighbourhood(centre: Configuration, tolerance: NeighbourhoodTolerance): string {
  const numbers = knobs(centre)
    .filter(([name, value]) => value !== undefined && name !== 'replicasMin' && name !== 'replicasMax')
    .map(([name, value]) => `${kebab(name)} ${value}`);
  return `${centre.gpuCount}x ${centre.gpuType}, ${centre.quantization ?? 'no'} quantization, every number within ${tolerance.tolerancePct} % or ${tolerance.toleranceUnits} of ${[`replicas ${centre.replicasMin}–${centre.replicasMax}`, ...numbers].join(', ')}`;
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
    return Math.abs(changePct) > tolerance.materialChangePct ? [`${EVIDENCE_NAMES[name]} ${before} → ${after} (${changePct > 0 ? '+' : ''}${Number.isFinite(changePct) ? changePct.toFixed(0) : '∞'} %)`] : [];
  });
  return moved.length > 0 ? moved.join(', ') : undefined;
}
