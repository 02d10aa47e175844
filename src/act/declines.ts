/**
 * Declined proposals: a bot pull request a person closed without merging (or
 * `/llmops ignore`d). Each keeps its neighbourhood of configurations out of the
 * plan (src/optimizer/neighbourhood.ts) until the evidence it was made on moves
 * materially, or someone checks its retry box on the dashboard. The source is
 * the bot's own closed pull requests and their metadata; the ledger records
 * each decline with the bot's next commit for the deployment. Pure.
 */
import type { FleetDeployment } from '../fleet/fleet.ts';
import { describeNeighbourhood, evidenceOf, inNeighbourhood, materialChange, type Evidence } from '../optimizer/neighbourhood.ts';
import type { Signals } from '../optimizer/observe.ts';
import type { PlanOptions } from '../optimizer/plan.ts';
import type { Configuration } from '../optimizer/predict.ts';
import type { PullRequest } from './github.ts';
import type { LedgerEntry } from './ledger.ts';
import { parseMetadata, type PullRequestMetadata } from './pull-request-body.ts';

export interface Decline {
  readonly pullRequest: PullRequest;
  readonly metadata: PullRequestMetadata;
  readonly deploymentId: string;
  readonly configuration: Configuration;
  /** What the proposal was made on; empty for bodies written before the bot recorded it. */
  readonly evidence: Evidence;
}

/** The bot's optimizations that a person closed without merging and nobody asked to retry. */
export function declinesOf(pulls: readonly PullRequest[]): Decline[] {
  return pulls.flatMap((pull) => {
    const metadata = parseMetadata(pull.body);
    if (pull.state !== 'closed' || pull.mergedAt || !metadata || metadata.kind !== 'optimize' || metadata.autoClosed || metadata.retried) return [];
    return [{ pullRequest: pull, metadata, deploymentId: metadata.deploymentId, configuration: metadata.to, evidence: metadata.evidence ?? {} }];
  });
}

/** Whether a decline still holds for what is observed now (undefined), or what moved enough to reopen the question. */
export function reopenedBy(decline: Decline, deployment: FleetDeployment, observed: Signals | undefined): string | undefined {
  return observed ? materialChange(decline.evidence, evidenceOf(observed), deployment.policy.neighbourhood) : undefined;
}

/** The planner's exclusions: per deployment, the neighbourhoods of its declines that still hold. */
export function exclusions(declines: readonly Decline[]): NonNullable<PlanOptions['excluded']> {
  return (deployment, observation) => {
    const holding = declines.filter((decline) => decline.deploymentId === deployment.id && reopenedBy(decline, deployment, observation) === undefined);
    if (holding.length === 0) return undefined;
    return (configuration) => holding.some((decline) => inNeighbourhood(decline.configuration, configuration, deployment.policy.neighbourhood));
  };
}

/** Who declined, in words. */
export const declinedHow = (decline: Pick<Decline, 'pullRequest' | 'metadata'>) =>
  decline.metadata.declined?.by ? `ignored by @${decline.metadata.declined.by} with /llmops ignore (#${decline.pullRequest.number})` : `closed without merging (#${decline.pullRequest.number})`;

const evidenceWords = (evidence: Evidence) =>
  [
    evidence.requestsPerSecond === undefined ? undefined : `${evidence.requestsPerSecond} requests/s`,
    evidence.peakRequestsPerSecond === undefined ? undefined : `peak ${evidence.peakRequestsPerSecond} requests/s`,
    evidence.meanPromptTokens === undefined ? undefined : `${evidence.meanPromptTokens} prompt tokens`,
    evidence.meanOutputTokens === undefined ? undefined : `${evidence.meanOutputTokens} output tokens`,
  ]
    .filter(Boolean)
    .join(', ') || 'no recorded evidence';

/** The comment that says what the bot ignores now, and until when. */
export function declineComment(decline: Pick<Decline, 'pullRequest' | 'metadata' | 'configuration' | 'evidence'>, deployment: FleetDeployment | undefined): string {
  const tolerance = deployment?.policy.neighbourhood ?? { tolerancePct: 25, toleranceUnits: 1, materialChangePct: 50 };
  return [
    `Declined: ${declinedHow(decline)}. The bot will not propose this configuration or its neighbourhood again — ${describeNeighbourhood(decline.configuration, tolerance)} —`,
    `until the evidence it was made on (${evidenceWords(decline.evidence)}) moves by more than ${tolerance.materialChangePct} %.`,
    'To have it reconsidered now, check its box on the "llmops dashboard" issue.',
  ].join(' ');
}

/** A decline in the bot's words for a pull-request body: what was excluded and why. */
export function exclusionLine(decline: Decline, deployment: FleetDeployment): string {
  return `${describeNeighbourhood(decline.configuration, deployment.policy.neighbourhood)}: ${declinedHow(decline)}, on ${evidenceWords(decline.evidence)}`;
}

/** Ledger lines for the declines of a deployment the base's ledger does not record yet. */
export function declineEntries(declines: readonly Decline[], deploymentId: string, recorded: readonly LedgerEntry[], now: Date): LedgerEntry[] {
  const known = new Set(recorded.flatMap((entry) => (entry.kind === 'decline' ? [entry.pullRequest] : [])));
  return declines
    .filter((decline) => decline.deploymentId === deploymentId && !known.has(decline.pullRequest.number))
    .map((decline) => ({
      kind: 'decline',
      at: decline.metadata.declined?.at ?? now.toISOString(),
      deploymentId,
      pullRequest: decline.pullRequest.number,
      configuration: JSON.parse(JSON.stringify(decline.configuration)),
      reason: `${declinedHow(decline)}: its neighbourhood is not proposed until the evidence moves by more than the policy's materialChangePct`,
      evidence: { ...decline.evidence },
    }));
}
