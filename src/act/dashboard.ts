/**
 * The bot's dashboard: one issue per repository, "llmops dashboard", like
 * Renovate's Dependency Dashboard. Rewritten in place every cycle (never a
 * second one; only an issue the bot's own login opened counts), and written
 * only when its text changes. Safety actions a pause or freeze blocks come
 * first; then what is paused or frozen, the open proposals, those held back by
 * limits, branches people took over, declined proposals (each with a box to
 * retry it), what is being verified, and recent verifications and reverts.
 * Pure: the cycle gathers its state, this turns it into the text.
 */
import type { Fleet } from '../fleet/fleet.ts';
import { describeBreaches } from '../optimizer/breach.ts';
import { NEEDS_DECISION_LABEL } from './proposal.ts';
import type { Configuration } from '../optimizer/predict.ts';
import type { Recommendation } from '../optimizer/recommendation.ts';
import { declinedHow, declinesOf, reopenedBy } from './declines.ts';
import type { PullRequest } from './github.ts';
import type { LedgerEntry } from './ledger.ts';
import type { Verdict } from './verify.ts';

export const DASHBOARD_TITLE = 'llmops dashboard';
const MARKER = '<!-- llmops-gitops:dashboard -->';
const retryMarker = (pullRequest: number) => `<!-- llmops-gitops:retry #${pullRequest} -->`;

export interface DashboardState {
  /** Deployments whose SLO breach a pause or freeze keeps the bot from answering. */
  readonly blockedSafety: readonly { readonly deploymentId: string; readonly detail: string }[];
  /** Deployments the bot leaves alone for now: paused, frozen. */
  readonly stopped: readonly { readonly deploymentId: string; readonly detail: string }[];
  readonly open: readonly { readonly number: number; readonly title: string; readonly labels: readonly string[]; readonly autoMerge: boolean }[];
  readonly limited: readonly { readonly deploymentId: string; readonly detail: string }[];
  readonly handsOff: readonly { readonly deploymentId: string; readonly pullRequest?: number; readonly detail: string }[];
  readonly declined: readonly { readonly pullRequest: number; readonly deploymentId: string; readonly what: string; readonly how: string; readonly reopenedBy?: string }[];
  readonly verifying: readonly { readonly deploymentId: string; readonly detail: string }[];
  /** Newest first. */
  readonly recent: readonly { readonly at: Date; readonly deploymentId: string; readonly detail: string }[];
  readonly failed: readonly { readonly deploymentId: string; readonly detail: string }[];
}

const section = <T>(title: string, items: readonly T[], line: (item: T) => string, empty?: string): string[] =>
  items.length > 0 ? [`## ${title}`, '', ...items.map(line), ''] : empty ? [`## ${title}`, '', empty, ''] : [];

const day = (at: Date) => `${at.toISOString().slice(0, 16).replace('T', ' ')} UTC`;

export function renderDashboard(state: DashboardState): string {
  return [
    MARKER,
    'What the llmops bot is doing in this repository, rewritten by every run. Check a box below to have the next run act on it.',
    '',
    ...section('⚠ Safety actions blocked', state.blockedSafety, (item) => `- **\`${item.deploymentId}\`**: ${item.detail}`),
    ...section('Paused or frozen', state.stopped, (item) => `- \`${item.deploymentId}\`: ${item.detail}`),
    ...section(
      'Open proposals',
      state.open,
      (item) =>
        `- #${item.number} ${item.title} (${item.labels.filter((label) => label.startsWith('risk:') || label === 'rollback' || label === NEEDS_DECISION_LABEL).join(', ') || 'no risk label'}${item.autoMerge ? ', auto-merge on' : ''})`,
      'None.',
    ),
    ...section('Held back by limits', state.limited, (item) => `- \`${item.deploymentId}\`: ${item.detail}`),
    ...section(
      'Branches a person committed to',
      state.handsOff,
      (item) => `- \`${item.deploymentId}\`${item.pullRequest ? ` #${item.pullRequest}` : ''}: ${item.detail}; check the box in the pull request to hand it back`,
    ),
    ...section('Declined and ignored', state.declined, (item) =>
      item.reopenedBy
        ? `- [ ] ${retryMarker(item.pullRequest)} #${item.pullRequest} \`${item.deploymentId}\` ${item.what}: ${item.how}; the evidence has moved since (${item.reopenedBy}), so it may be proposed again`
        : `- [ ] ${retryMarker(item.pullRequest)} #${item.pullRequest} \`${item.deploymentId}\` ${item.what}: ${item.how}; its neighbourhood is ignored until the evidence changes — check to retry now`,
    ),
    ...section('Being verified', state.verifying, (item) => `- \`${item.deploymentId}\`: ${item.detail}`),
    ...section('Recent verifications and reverts', state.recent, (item) => `- ${day(item.at)} \`${item.deploymentId}\`: ${item.detail}`, 'None in the last 14 days.'),
    ...section('Failed this run', state.failed, (item) => `- \`${item.deploymentId}\`: ${item.detail.split('\n')[0]}`),
  ]
    .join('\n')
    .trimEnd()
    .concat('\n');
}

/** The pull requests whose retry box a person checked. */
export function retryRequests(body: string): number[] {
  return [...body.matchAll(/^\s*[-*] \[[xX]\] <!-- llmops-gitops:retry #(\d+) -->/gm)].map((match) => Number(match[1]));
}

/** A safety action a person's stop (pause, freeze window) holds back: the breach, and what to do by hand. */
export interface BlockedSafety {
  readonly deploymentId: string;
  /** `paused` or `freeze-window`. */
  readonly rule: string;
  readonly detail: string;
}

/** The deployments breaching an SLO that a pause or freeze keeps the bot from answering. */
export function blockedSafetyActions(fleet: Fleet, recommendations: readonly Recommendation[]): BlockedSafety[] {
  return recommendations.flatMap((recommendation) => {
    const deployment = fleet.deployments.find((candidate) => candidate.id === recommendation.deploymentId);
    if (!deployment || (recommendation.rule !== 'paused' && recommendation.rule !== 'freeze-window')) return [];
    const breach = describeBreaches(recommendation.observed, deployment.environment.slos);
    return breach
      ? [
          {
            deploymentId: recommendation.deploymentId,
            rule: recommendation.rule,
            detail: `SLO breached (${breach}) and the bot may not act: ${recommendation.reason}. Scale out by hand or lift the ${recommendation.rule === 'paused' ? 'pause' : 'freeze'}.`,
          },
        ]
      : [];
  });
}

/** What a cycle knows when it writes the dashboard. */
export interface DashboardInput {
  readonly fleet: Fleet;
  /** The bot's own pull requests, as the cycle left them. */
  readonly pulls: readonly PullRequest[];
  readonly now: Date;
  readonly recommendations: readonly Recommendation[];
  /** Every deployment's ledger on the base. */
  readonly ledgers: ReadonlyMap<string, readonly LedgerEntry[]>;
  /** Merged changes judged this cycle. */
  readonly judged: readonly { readonly deploymentId: string; readonly verdict: Verdict; readonly savingUsdPerMonth: number }[];
  /** The cycle's outcomes per deployment. */
  readonly outcomes: readonly { readonly deploymentId: string; readonly kind: string; readonly pullRequest?: number; readonly detail?: string }[];
}

/** How far back the dashboard lists verifications and reverts. */
const RECENT_DAYS = 14;

/** What the dashboard shows after a cycle. */
export function dashboardStateOf(input: DashboardInput): DashboardState {
  const { outcomes } = input;
  const state = { fleet: input.fleet, now: input.now, pulls: { own: input.pulls } };
  const planned = { recommendations: input.recommendations, ledgers: input.ledgers, judged: input.judged };
  const deploymentOf = (id: string) => state.fleet.deployments.find((candidate) => candidate.id === id);
  const stoppedRules = planned.recommendations.filter((recommendation) => recommendation.rule === 'paused' || recommendation.rule === 'freeze-window');
  const blocked = blockedSafetyActions(state.fleet, planned.recommendations);
  const since = state.now.getTime() - RECENT_DAYS * 86_400_000;
  const recent = [
    ...[...planned.ledgers].flatMap(([deploymentId, entries]) =>
      entries.flatMap((entry) =>
        entry.kind === 'merge'
          ? [{ at: new Date(entry.at), deploymentId, detail: `${entry.outcome === 'verified' ? 'verified' : 'failed verification'} (merged ${entry.mergedAt})` }]
          : entry.kind === 'rollback'
            ? [{ at: new Date(entry.at), deploymentId, detail: `reverted: ${entry.reason}` }]
            : [],
      ),
    ),
    ...planned.judged
      .filter((judged) => judged.verdict.status === 'verified')
      .map((judged) => ({ at: state.now, deploymentId: judged.deploymentId, detail: `verified: ${judged.verdict.start.detail}; saves ${Math.round(judged.savingUsdPerMonth)} USD/month` })),
    ...planned.judged
      .filter((judged) => judged.verdict.status === 'failed')
      .map((judged) => ({ at: state.now, deploymentId: judged.deploymentId, detail: `failed verification, revert proposed: ${judged.verdict.evidence.join('; ')}` })),
  ]
    .filter((item) => item.at.getTime() >= since)
    .sort((a, b) => b.at.getTime() - a.at.getTime() || a.deploymentId.localeCompare(b.deploymentId))
    .slice(0, 20);
  return {
    blockedSafety: blocked.map(({ deploymentId, detail }) => ({ deploymentId, detail })),
    stopped: stoppedRules
      .filter((recommendation) => !blocked.some((item) => item.deploymentId === recommendation.deploymentId))
      .map((recommendation) => ({ deploymentId: recommendation.deploymentId, detail: recommendation.reason })),
    open: state.pulls.own
      .filter((pull) => pull.state === 'open')
      .map((pull) => ({ number: pull.number, title: pull.title, labels: pull.labels, autoMerge: pull.autoMerge }))
      .sort((a, b) => a.number - b.number),
    limited: outcomes.filter((outcome) => outcome.kind === 'limited').map((outcome) => ({ deploymentId: outcome.deploymentId, detail: outcome.detail ?? '' })),
    handsOff: outcomes.filter((outcome) => outcome.kind === 'hands-off').map((outcome) => ({ deploymentId: outcome.deploymentId, pullRequest: outcome.pullRequest, detail: outcome.detail ?? '' })),
    declined: declinesOf(state.pulls.own)
      .map((decline) => {
        const deployment = deploymentOf(decline.deploymentId);
        const observed = planned.recommendations.find((recommendation) => recommendation.deploymentId === decline.deploymentId)?.observed;
        return {
          pullRequest: decline.pullRequest.number,
          deploymentId: decline.deploymentId,
          what: describeTarget(decline.configuration),
          how: declinedHow(decline),
          reopenedBy: deployment ? reopenedBy(decline, deployment, observed) : 'the deployment is no longer declared',
        };
      })
      .sort((a, b) => b.pullRequest - a.pullRequest),
    verifying: outcomes.filter((outcome) => outcome.kind === 'verifying').map((outcome) => ({ deploymentId: outcome.deploymentId, detail: outcome.detail ?? '' })),
    recent,
    failed: outcomes.filter((outcome) => outcome.kind === 'failed').map((outcome) => ({ deploymentId: outcome.deploymentId, detail: outcome.detail ?? '' })),
  };
}

const describeTarget = (configuration: Configuration) =>
  `${configuration.gpuCount}x ${configuration.gpuType}${configuration.quantization ? ` ${configuration.quantization}` : ''}, ${configuration.replicasMin}–${configuration.replicasMax} replicas, max-num-seqs ${configuration.maxNumSeqs}`;
