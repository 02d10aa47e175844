/**
 * What the bot puts on one branch: a configuration change of one deployment,
 * either an optimization (from a recommendation) or the revert of a merged
 * change that failed verification. Pure.
 */
import type { FleetDeployment } from '../fleet/fleet.ts';
import { currentConfiguration, declarationChange } from '../optimizer/decide.ts';
import { describeConfiguration } from '../optimizer/describe.ts';
import type { Configuration } from '../optimizer/predict.ts';
import type { DeclarationChange, Recommendation } from '../optimizer/recommendation.ts';
import type { LedgerConfiguration, LedgerEntry } from './ledger.ts';
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
}

const fingerprintOf = (secret: string, kind: Proposal['kind'], deploymentId: string, to: Configuration) => keyedDigest(secret, 'proposal', JSON.stringify({ kind, deploymentId, to })).slice(0, 32);

const ledgerConfiguration = (configuration: Configuration): LedgerConfiguration => JSON.parse(JSON.stringify(configuration));

/** Risk label from the predicted probability of an SLO breach. */
export function riskLabel(risk: number | undefined): string {
  if (risk === undefined || risk >= 0.1) return 'risk:high';
  return risk >= 0.02 ? 'risk:medium' : 'risk:low';
}

/** The proposal of a recommendation; `secret` keys its fingerprint. */
export function optimizationProposal(recommendation: Recommendation, now: Date, secret: string): Proposal | undefined {
  const { change, proposed } = recommendation;
  if (recommendation.action !== 'change' || !change || !proposed) return undefined;
  const from = recommendation.current.configuration;
  const to = proposed.configuration;
  const savedUsdPerHour = recommendation.current.costPerHourUsd - proposed.costPerHourUsd;
  const money = Number.isFinite(savedUsdPerHour) && Math.abs(savedUsdPerHour) >= 0.005 ? ` (${savedUsdPerHour > 0 ? '-' : '+'}${Math.abs(savedUsdPerHour).toFixed(2)} USD/h)` : '';
  const at = now.toISOString();
  const branch = branchName(recommendation.deploymentId);
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
    title: `Optimize ${recommendation.deploymentId}: ${describeConfiguration(to)}${money}`,
    labels: [BOT_LABEL, recommendation.environment, riskLabel(recommendation.risk)],
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
      },
    ],
    fingerprint: fingerprintOf(secret, 'optimize', recommendation.deploymentId, to),
    recommendation,
  };
}

/** The revert of a merged proposal that failed verification: back to the configuration it replaced. */
export function revertProposal(deployment: FleetDeployment, restore: Configuration, mergedAt: Date, verdict: Verdict, now: Date, secret: string): Proposal {
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
    title: `Revert ${deployment.id} to ${describeConfiguration(restore)}: the merged change failed verification`,
    labels: [BOT_LABEL, deployment.environment.name, 'rollback'],
    ledger: [
      { kind: 'merge', at, deploymentId: deployment.id, mergedAt: mergedAt.toISOString(), outcome: 'failed' },
      { kind: 'rollback', at, deploymentId: deployment.id, reason, failed: ledgerConfiguration(failed), restored: ledgerConfiguration(restore) },
    ],
    fingerprint: fingerprintOf(secret, 'revert', deployment.id, restore),
    verdict,
  };
}
