/**
 * What the bot puts on one branch: a configuration change of one deployment,
 * either an optimization (from a recommendation) or the revert of a merged
 * change that failed verification. Pure.
 */
import { HOURS_PER_MONTH } from '../catalogue/prices.ts';
import type { FleetDeployment } from '../fleet/fleet.ts';
import { currentConfiguration, declarationChange } from '../optimizer/decide.ts';
import { evidenceOf, type Evidence } from '../optimizer/neighbourhood.ts';
import type { Configuration } from '../optimizer/predict.ts';
import type { DeclarationChange, Recommendation } from '../optimizer/recommendation.ts';
import { predictionInterval } from '../optimizer/uncertainty.ts';
import type { LedgerBan, LedgerConfiguration, LedgerEntry } from './ledger.ts';
import { riskLabelOf } from './confidence.ts';
import { keyedDigest } from './trust.ts';
import type { Verdict } from './verify.ts';

/** The bot's branch of a deployment: `llmops/<env>/<model>`. */
export const branchName = (deploymentId: string) => `llmops/${deploymentId}`;

/** Base label of every bot pull request. */
export const BOT_LABEL = 'llmops';

export interface Proposal {
  readonly kind: 'optimize' | 'revert';
  readonly deploymentId: string;
  readonly environment: string;
  readonly model: string;
  /** Environment declaration the change edits, relative to the fleet root. */
  readonly sourceFile: string;
  readonly branch: string;
  readonly change: DeclarationChange;
  readonly from: Configuration;
  readonly to: Configuration;
  readonly title: string;
  readonly labels: readonly string[];
  /** Ledger lines the commit appends. */
  readonly ledger: readonly LedgerEntry[];
  /** Identifies the change (not when it was made): equal fingerprints need no new commit. Keyed with the bot's secret, so nobody else can make one. */
  readonly fingerprint: string;
  /** Optimizations: the recommendation it came from. */
  readonly recommendation?: Recommendation;
  /** Reverts: why. */
  readonly verdict?: Verdict;
  /** Reverts: the ban the failed configuration's neighbourhood earned (src/optimizer/bans.ts). */
  readonly ban?: LedgerBan;
  /** Optimizations: what the proposal was made on (a decline holds until it moves materially). */
  readonly evidence?: Evidence;
  /** Opened as a draft pull request: an SLO breach whose fixes the policy blocks, for a person to decide (`needs-decision`). */
  readonly draft?: boolean;
}

/** Label of a draft pull request that asks a person to decide on an SLO breach the policy lets nothing fix. */
export const NEEDS_DECISION_LABEL = 'needs-decision';

const fingerprintOf = (secret: string, kind: Proposal['kind'], deploymentId: string, to: Configuration) => keyedDigest(secret, 'proposal', JSON.stringify({ kind, deploymentId, to })).slice(0, 32);

const ledgerConfiguration = (configuration: Configuration): LedgerConfiguration => JSON.parse(JSON.stringify(configuration));

const kebab = (name: string) => name.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`);

/**
 * The change in a title's words: "1x nvidia-a100-80gb → 1x nvidia-l4, 2–4 → 1–3 replicas, max-num-seqs 96 → 16";
 * every other number of the configuration (a tuned engine knob) by its flag name.
 */
export function changeWords(from: Configuration, to: Configuration): string {
  const parts: string[] = [];
  if (from.gpuType !== to.gpuType || from.gpuCount !== to.gpuCount) parts.push(`${from.gpuCount}x ${from.gpuType} → ${to.gpuCount}x ${to.gpuType}`);
  if (from.quantization !== to.quantization) parts.push(`quantization ${from.quantization ?? 'none'} → ${to.quantization ?? 'none'}`);
  if (from.replicasMin !== to.replicasMin || from.replicasMax !== to.replicasMax) parts.push(`${from.replicasMin}–${from.replicasMax} → ${to.replicasMin}–${to.replicasMax} replicas`);
  const shape = ['gpuType', 'gpuCount', 'quantization', 'replicasMin', 'replicasMax'];
  const knobs = new Set([...Object.keys(from), ...Object.keys(to)].filter((name) => !shape.includes(name)));
  for (const name of knobs) {
    const [a, b] = [(from as unknown as Record<string, unknown>)[name], (to as unknown as Record<string, unknown>)[name]];
    if (a !== b) parts.push(`${kebab(name)} ${a ?? 'default'} → ${b ?? 'default'}`);
  }
  return parts.join(', ');
}

/** "−623 USD/month" (a saving) or "+12 USD/month"; empty under half a dollar. */
export function monthlyEffect(currentUsdPerHour: number, proposedUsdPerHour: number): string {
  const monthly = (proposedUsdPerHour - currentUsdPerHour) * HOURS_PER_MONTH;
  if (!Number.isFinite(monthly) || Math.abs(monthly) < 0.5) return '';
  return `${monthly < 0 ? '\u2212' : '+'}${Math.round(Math.abs(monthly)).toLocaleString('en-US')} USD/month`;
}

/** "Move" for other GPUs or quantization, "Scale" for other replica bounds, "Tune" for engine knobs alone. */
function verbOf(from: Configuration, to: Configuration): string {
  if (from.gpuType !== to.gpuType || from.gpuCount !== to.gpuCount || from.quantization !== to.quantization) return 'Move';
  return from.replicasMin !== to.replicasMin || from.replicasMax !== to.replicasMax ? 'Scale' : 'Tune';
}

/** The proposal of a recommendation; `secret` keys its fingerprint. */
export function optimizationProposal(recommendation: Recommendation, now: Date, secret: string): Proposal | undefined {
  const { change, proposed } = recommendation;
  if (recommendation.action !== 'change' || !change || !proposed) return undefined;
  const from = recommendation.current.configuration;
  const to = proposed.configuration;
  const effect = monthlyEffect(recommendation.current.costPerHourUsd, proposed.costPerHourUsd);
  const at = now.toISOString();
  const branch = branchName(recommendation.deploymentId);
  const escalated = recommendation.rule === 'needs-decision';
  return {
    kind: 'optimize',
    deploymentId: recommendation.deploymentId,
    environment: recommendation.environment,
    model: recommendation.model,
    sourceFile: recommendation.sourceFile,
    branch,
    change,
    from,
    to,
    title: `${verbOf(from, to)} ${recommendation.deploymentId} ${changeWords(from, to)}${effect ? ` (${effect})` : ''}`,
    labels: [BOT_LABEL, recommendation.environment, riskLabelOf(recommendation), ...(escalated ? [NEEDS_DECISION_LABEL] : [])],
    ledger: [
      { kind: 'decision', at, deploymentId: recommendation.deploymentId, rule: recommendation.rule, reason: recommendation.reason, policy: recommendation.policy },
      {
        kind: 'proposal',
        at,
        deploymentId: recommendation.deploymentId,
        branch,
        from: ledgerConfiguration(from),
        to: ledgerConfiguration(to),
        costPerHourUsd: { current: recommendation.current.costPerHourUsd, proposed: proposed.costPerHourUsd },
        ...(recommendation.confidence === undefined ? {} : { confidence: recommendation.confidence }),
        ...(recommendation.risk === undefined ? {} : { risk: recommendation.risk }),
        prediction: predictionInterval(proposed.prediction, recommendation.orientation),
      },
    ],
    fingerprint: fingerprintOf(secret, 'optimize', recommendation.deploymentId, to),
    recommendation,
    evidence: evidenceOf(recommendation.observed),
    ...(escalated ? { draft: true } : {}),
  };
}

/** The revert of a merged proposal that failed verification: back to the configuration it replaced; `ban` keeps the failed one's neighbourhood out. */
export function revertProposal(deployment: FleetDeployment, restore: Configuration, mergedAt: Date, verdict: Verdict, now: Date, secret: string, ban: LedgerBan): Proposal {
  const failed = currentConfiguration(deployment);
  const at = now.toISOString();
  const reason = verdict.evidence.join('; ');
  return {
    kind: 'revert',
    deploymentId: deployment.id,
    environment: deployment.environment.name,
    model: deployment.model.name,
    sourceFile: deployment.sourceFile,
    branch: branchName(deployment.id),
    change: declarationChange(deployment, failed, restore),
    from: failed,
    to: restore,
    title: `Revert ${deployment.id} ${changeWords(failed, restore)}: the merged change failed verification`,
    labels: [BOT_LABEL, deployment.environment.name, 'rollback'],
    ledger: [
      { kind: 'merge', at, deploymentId: deployment.id, mergedAt: mergedAt.toISOString(), outcome: 'failed' },
      { kind: 'rollback', at, deploymentId: deployment.id, reason, failed: ledgerConfiguration(failed), restored: ledgerConfiguration(restore), ban },
    ],
    fingerprint: fingerprintOf(secret, 'revert', deployment.id, restore),
    verdict,
    ban,
  };
}
