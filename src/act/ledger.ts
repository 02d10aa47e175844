/**
 * The bot's append-only audit ledger: one JSON line per decision, proposal,
 * merge and rollback, in `generated/optimizer/ledger/<env>/<model>.jsonl`.
 * One file per deployment so that pull requests for different deployments
 * never conflict; the lines travel in the bot's own commits, so the base
 * branch holds exactly what was merged.
 */
import { z } from 'zod';

/** Folder of the ledger inside the fleet root (preserved by synth). */
export const LEDGER_DIR = 'generated/optimizer/ledger';

export const ledgerFile = (deploymentId: string) => `${LEDGER_DIR}/${deploymentId}.jsonl`;

export const LedgerConfiguration = z.strictObject({
  gpuType: z.string(),
  gpuCount: z.int(),
  quantization: z.string().optional(),
  maxNumSeqs: z.int(),
  maxNumBatchedTokens: z.int().optional(),
  replicasMin: z.int(),
  replicasMax: z.int(),
});
export type LedgerConfiguration = z.infer<typeof LedgerConfiguration>;

/** The ban a failure earned (src/optimizer/bans.ts): its neighbourhood is not proposed until `until`. */
export const LedgerBan = z.strictObject({
  /** ISO 8601 end of the ban. */
  until: z.iso.datetime(),
  /** 1 for the first ban of this neighbourhood, 2 for the second, … */
  strike: z.int().positive(),
  /** Length of the ban, days. */
  days: z.number().positive(),
});
export type LedgerBan = z.infer<typeof LedgerBan>;
const PredictedLatency = z.strictObject({ expectedMs: z.number(), lowMs: z.number(), highMs: z.number() });

/** What a proposal promised (src/optimizer/uncertainty.ts, predictionInterval): the verifier judges the merged change by it. */
export const LedgerPrediction = z.strictObject({ ttftP95Ms: PredictedLatency, e2eP95Ms: PredictedLatency, interTokenP95Ms: PredictedLatency, uncertainty: z.number() });
export type LedgerPrediction = z.infer<typeof LedgerPrediction>;

const common = {
  /** ISO 8601 time of the event. */
  at: z.iso.datetime(),
  deploymentId: z.string(),
};

export const LedgerEntry = z.discriminatedUnion('kind', [
  /** Why the bot proposed what it proposed. */
  z.strictObject({ ...common, kind: z.literal('decision'), rule: z.string(), reason: z.string(), policy: z.string() }),
  /** A configuration change the bot proposed; the line lands on the base branch when the pull request merges. */
  z.strictObject({
    ...common,
    kind: z.literal('proposal'),
    branch: z.string(),
    from: LedgerConfiguration,
    to: LedgerConfiguration,
    costPerHourUsd: z.strictObject({ current: z.number(), proposed: z.number() }),
    confidence: z.number().optional(),
    risk: z.number().optional(),
    /** The predicted p95s at the peak and their 95 % intervals; absent on lines written before issue 12. */
    prediction: LedgerPrediction.optional(),
  }),
  /** A merged proposal after its verification window: verified, or failed (and rolled back). */
  z.strictObject({ ...common, kind: z.literal('merge'), mergedAt: z.iso.datetime(), outcome: z.enum(['verified', 'failed']) }),
  /** The revert of a failed change; `failed` and its neighbourhood are not proposed again until its ban ends. */
  z.strictObject({ ...common, kind: z.literal('rollback'), reason: z.string(), failed: LedgerConfiguration, restored: LedgerConfiguration, ban: LedgerBan.optional() }),
  /**
   * A proposal a person declined (closed without merging, or `/llmops ignore`): its neighbourhood is not proposed
   * again until the evidence moves materially. Recorded with the bot's next commit for the deployment.
   */
  z.strictObject({
    ...common,
    kind: z.literal('decline'),
    pullRequest: z.int().positive(),
    configuration: LedgerConfiguration,
    /** Who declined and how, and what the bot ignores because of it. */
    reason: z.string(),
    /** What the proposal was made on (src/optimizer/neighbourhood.ts). */
    evidence: z.strictObject({
      requestsPerSecond: z.number().optional(),
      peakRequestsPerSecond: z.number().optional(),
      meanPromptTokens: z.number().optional(),
      meanOutputTokens: z.number().optional(),
    }),
    /** The ban the decline earned (it also lifts when the evidence moves materially, or on a retry). */
    ban: LedgerBan.optional(),
  }),
]);
export type LedgerEntry = z.infer<typeof LedgerEntry>;

export class LedgerError extends Error {
  override readonly name = 'LedgerError';
}

/** Each non-empty line of a ledger file: its entry, or why it is not one (`file:line: …`). */
export function readLedgerLines(file: string, text: string): ({ readonly entry: LedgerEntry } | { readonly problem: string })[] {
  return text
    .split('\n')
    .map((line, index) => [line, index + 1] as const)
    .filter(([line]) => line.trim() !== '')
    .map(([line, lineNumber]) => {
      let json: unknown;
      try {
        json = JSON.parse(line);
      } catch {
        return { problem: `${file}:${lineNumber}: expected one JSON object per line (got ${JSON.stringify(line.slice(0, 60))})` };
      }
      const parsed = LedgerEntry.safeParse(json);
      return parsed.success ? { entry: parsed.data } : { problem: `${file}:${lineNumber}: ${z.prettifyError(parsed.error).replace(/\n/g, ' ')}` };
    });
}

/** Parses a ledger file; a line that is not a valid entry is an error naming the file and line. */
export function parseLedger(file: string, text: string): LedgerEntry[] {
  return readLedgerLines(file, text).map((line) => {
    if ('problem' in line) throw new LedgerError(line.problem);
    return line.entry;
  });
}

/** `text` with `entries` appended, one line each. */
export function appendLedger(text: string, entries: readonly LedgerEntry[]): string {
  const prefix = text === '' || text.endsWith('\n') ? text : `${text}\n`;
  return prefix + entries.map((entry) => `${JSON.stringify(entry)}\n`).join('');
}

/** What the ledger of one deployment on the base branch tells the next cycle. */
export interface DeploymentHistory {
  /** The last proposal, when it is merged but its outcome is not yet recorded. */
  readonly unverified?: Extract<LedgerEntry, { kind: 'proposal' }>;
  /** When the deployment last changed through the bot (a merge or a rollback). */
  readonly lastChangeAt?: Date;
}

/**
 * Reads a deployment's history. `mergedAt` is when the last ledger line reached
 * the base branch (the commit that brought it), which is when the proposal merged.
 */
export function deploymentHistory(entries: readonly LedgerEntry[], mergedAt: Date | undefined): DeploymentHistory {
  const last = entries[entries.length - 1];
  const changes = entries.filter((entry) => entry.kind === 'merge' || entry.kind === 'rollback').map((entry) => new Date(entry.kind === 'merge' ? entry.mergedAt : entry.at));
  const unverified = last?.kind === 'proposal' ? last : undefined;
  // Any bot line landing on the base is a merged change (a proposal or a revert).
  if (mergedAt) changes.push(mergedAt);
  return {
    unverified,
    lastChangeAt: changes.length > 0 ? new Date(Math.max(...changes.map((date) => date.getTime()))) : undefined,
  };
}
