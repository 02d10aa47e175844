/**
 * Declined proposals: a bot pull request a person closed without merging (or
 * `/llmops ignore`d). Each keeps its neighbourhood of configurations out of the
 * plan (src/optimizer/neighbourhood.ts) until the evidence it was made on moves
 * materially, its ban ends (src/optimizer/bans.ts, src/act/exclusions.ts), or
 * someone checks its retry box on the dashboard. The source is the bot's own
 * closed pull requests and their metadata; the ledger records each decline
 * with the bot's next commit for the deployment. Pure.
 */
import type { FleetDeployment } from '../fleet/fleet.ts';
import { describeNeighbourhood, evidenceOf, materialChange, type Evidence } from '../optimizer/neighbourhood.ts';
import type { Signals } from '../optimizer/observe.ts';
import type { Configuration } from '../optimizer/predict.ts';
import type { PullRequest } from './github.ts';
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

/** Who declined, in words. */
export const declinedHow = (decline: Pick<Decline, 'pullRequest' | 'metadata'>) =>
  decline.metadata.declined?.by ? `ignored by @${decline.metadata.declined.by} with /llmops ignore (#${decline.pullRequest.number})` : `closed without merging (#${decline.pullRequest.number})`;

export const evidenceWords = (evidence: Evidence) =>
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
  const tolerance = deployment?.policy.neighbourhood ?? { tolerancePct: 25, toleranceUnits: 1, materialChangePct: 50, banDays: 7 };
  return [
    `Declined: ${declinedHow(decline)}. The bot will not propose this configuration or its neighbourhood again — ${describeNeighbourhood(decline.configuration, tolerance)} —`,
    `for ${tolerance.banDays} days (twice as long for each earlier ban of the same neighbourhood), or until the evidence it was made on (${evidenceWords(decline.evidence)}) moves by more than ${tolerance.materialChangePct} %.`,
    'To have it reconsidered now, check its box on the "llmops dashboard" issue.',
  ].join(' ');
}
