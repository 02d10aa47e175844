/**
 * What people ask of the bot between its runs, and what it tells them: comment
 * commands (obeyed once, only from people with write access), declined pull
 * requests (noted once, with what the bot now ignores), retry boxes on the
 * dashboard, pull requests closed because their evidence is gone, and the
 * dashboard issue itself. The cycle (src/act/cycle.ts) calls these around its
 * plan; each changes GitHub and the cycle's copy of its pull requests together.
 */
import type { Fleet, FleetDeployment } from '../fleet/fleet.ts';
import type { Recommendation } from '../optimizer/recommendation.ts';
import type { BotRepository } from './bot-repository.ts';
import { answer, pendingCommands, refusal, type PendingCommand } from './commands.ts';
import { DASHBOARD_TITLE, retryRequests } from './dashboard.ts';
import { declineComment, declinedHow, declinesOf, type Decline } from './declines.ts';
import { exclusionLines } from './exclusions.ts';
import { explanation } from './explain.ts';
import type { GitHubRepository, Issue, PullRequest } from './github.ts';
import type { LedgerEntry } from './ledger.ts';
import { parseMetadata, withMetadata, type PullRequestMetadata } from './pull-request-body.ts';

/** Marker of the comment the bot leaves on a pull request it closes because its evidence is gone. */
export const CLOSED_MARKER = '<!-- llmops-gitops:closed -->';
/** Marker of the comment that says what a decline makes the bot ignore. */
export const DECLINED_MARKER = '<!-- llmops-gitops:declined -->';

/** What the plan left for the answers that need it. */
export interface PlannedState {
  readonly fleet: Fleet;
  readonly pulls: PullRequests;
  readonly declines: readonly Decline[];
  readonly recommendations: readonly Recommendation[];
  /** Every deployment's ledger on the base (its reverts' bans). */
  readonly ledgers: ReadonlyMap<string, readonly LedgerEntry[]>;
  readonly now: Date;
}

/** A pull request the bot closed, or a decline it noted. */
export interface Closed {
  readonly deploymentId: string;
  readonly pullRequest: number;
  readonly detail: string;
}
export type Noted = Closed;

/** The bot's pull requests and the others on its branches, by what GitHub says of author and head repository. */
export interface PullRequests {
  /** The bot's own (its metadata, fingerprints and limits come from these only); kept current as the cycle changes them. */
  readonly own: PullRequest[];
  readonly foreign: readonly PullRequest[];
}

/** Replaces the bot's copy of a pull request after the cycle changed it on GitHub. */
export function remember(pulls: PullRequests, pull: PullRequest): void {
  const index = pulls.own.findIndex((candidate) => candidate.number === pull.number);
  if (index >= 0) pulls.own[index] = pull;
  else pulls.own.push(pull);
}

/** Rewrites a pull request's metadata (and state) on GitHub and in the cycle's copy. */
export async function updateMetadata(github: GitHubRepository, pulls: PullRequests, pull: PullRequest, metadata: PullRequestMetadata, state?: 'closed'): Promise<void> {
  const body = withMetadata(pull.body, metadata);
  await github.updatePullRequest(pull.number, { body, ...(state ? { state } : {}) });
  remember(pulls, { ...pull, body, ...(state ? { state } : {}) });
}

/** The bot's dashboard issues (by its own login and title), oldest first: one, unless runs raced. */
export async function findDashboards(github: GitHubRepository): Promise<Issue[]> {
  const login = await github.login();
  return (await github.listIssuesBy(login)).filter((issue) => issue.author === login && issue.title === DASHBOARD_TITLE).sort((a, b) => a.number - b.number);
}

/**
 * Obeys the comment commands before planning: `rebase` marks the branch, `ignore` closes the pull request as
 * declined (so the plan leaves its neighbourhood out); their answers that need the plan (`ignore`, `explain`) wait for it.
 */
export async function obeyCommands(github: GitHubRepository, pulls: PullRequests, now: Date, log: (line: string) => void) {
  const rebase = new Set<number>();
  const later: PendingCommand[] = [];
  const answered: { pullRequest: number; command: string; by: string; obeyed: boolean }[] = [];
  for (const pending of await pendingCommands(
    github,
    pulls.own.filter((pull) => pull.state === 'open'),
  )) {
    answered.push({ pullRequest: pending.pull.number, command: pending.command, by: pending.by, obeyed: pending.allowed });
    log(`#${pending.pull.number}: /llmops ${pending.command} by ${pending.by}${pending.allowed ? '' : ' (no write access: refused)'}`);
    if (!pending.allowed) {
      await answer(github, pending, refusal(pending));
      continue;
    }
    const pull = pulls.own.find((candidate) => candidate.number === pending.pull.number)!;
    const metadata = parseMetadata(pull.body);
    if (pending.command === 'rebase') {
      rebase.add(pull.number);
      await answer(github, pending, 'regenerating this branch on the base branch in this run.');
    } else if (pending.command === 'ignore' && metadata?.kind === 'optimize') {
      await updateMetadata(github, pulls, pull, { ...metadata, declined: { at: now.toISOString(), by: pending.by } }, 'closed');
      later.push(pending);
    } else if (pending.command === 'ignore') {
      await answer(github, pending, 'a revert is not ignored: it brings git back in line with what failed. Close it if you mean to keep the failed configuration.');
    } else {
      later.push(pending);
    }
  }
  return { rebase, later, answered };
}

/** The answers that needed the plan: what `/llmops ignore` makes the bot ignore, and `/llmops explain`. */
export async function answerAfterPlan(github: GitHubRepository, state: PlannedState, later: readonly PendingCommand[]): Promise<void> {
  const deploymentOf = (id: string | undefined) => state.fleet.deployments.find((deployment) => deployment.id === id);
  for (const pending of later) {
    const pull = state.pulls.own.find((candidate) => candidate.number === pending.pull.number) ?? pending.pull;
    const metadata = parseMetadata(pull.body);
    if (pending.command === 'ignore' && metadata) {
      await answer(
        github,
        pending,
        `${DECLINED_MARKER}\n${declineComment({ pullRequest: pull, metadata, configuration: metadata.to, evidence: metadata.evidence ?? {} }, deploymentOf(metadata.deploymentId))}`,
      );
      continue;
    }
    const recommendation = state.recommendations.find((candidate) => candidate.deploymentId === metadata?.deploymentId);
    const deployment = deploymentOf(metadata?.deploymentId);
    const excluded = deployment ? exclusionLines(deployment, state.ledgers.get(deployment.id) ?? [], state.declines, recommendation?.observed, state.now) : [];
    await answer(github, pending, explanation(recommendation, metadata?.deploymentId ?? pull.headRef, excluded));
  }
}

/** Notes the declines nobody has noted: the closing comment that says what is ignored, and the mark in the metadata. */
export async function noteDeclines(github: GitHubRepository, pulls: PullRequests, fleet: (id: string) => FleetDeployment | undefined, now: Date): Promise<Noted[]> {
  const noted: Noted[] = [];
  for (const decline of declinesOf(pulls.own).filter((candidate) => !candidate.metadata.declined)) {
    const metadata: PullRequestMetadata = { ...decline.metadata, declined: { at: now.toISOString() } };
    await github.commentOnce(decline.pullRequest.number, DECLINED_MARKER, declineComment({ ...decline, metadata }, fleet(decline.deploymentId)));
    await updateMetadata(github, pulls, decline.pullRequest, metadata);
    noted.push({ deploymentId: decline.deploymentId, pullRequest: decline.pullRequest.number, detail: declinedHow({ ...decline, metadata }) });
  }
  return noted;
}

/** Closes the bot's open optimizations whose evidence is gone (or whose deployment is), with a comment. */
export async function closeStale(
  github: GitHubRepository,
  repository: BotRepository,
  state: PlannedState & { readonly baseSha: string; readonly waiting: ReadonlySet<string> },
  handled: ReadonlySet<number>,
): Promise<Closed[]> {
  const closed: Closed[] = [];
  for (const pull of state.pulls.own.filter((candidate) => candidate.state === 'open' && !handled.has(candidate.number))) {
    const metadata = parseMetadata(pull.body);
    if (metadata?.kind !== 'optimize' || state.waiting.has(metadata.deploymentId)) continue;
    const deployment = state.fleet.deployments.find((candidate) => candidate.id === metadata.deploymentId);
    const recommendation = state.recommendations.find((candidate) => candidate.deploymentId === metadata.deploymentId);
    const reason = !deployment
      ? `${metadata.deploymentId} is no longer declared on ${repository.base}`
      : recommendation?.action === 'none' && recommendation.rule === 'no-better-configuration'
        ? recommendation.reason
        : undefined;
    if (!reason) continue;
    // A branch a person took over is theirs to close.
    if ((await repository.inspect(pull.headRef, state.baseSha, metadata.fingerprint)).kind === 'foreign') continue;
    await closeByTheBot(
      github,
      state.pulls,
      pull,
      `The proposal no longer holds: ${reason}. The bot closed this pull request; it proposes again when the evidence calls for a change. This is not a decline.`,
      reason,
    );
    closed.push({ deploymentId: metadata.deploymentId, pullRequest: pull.number, detail: reason });
  }
  return closed;
}

/** Closes one of the bot's own pull requests with a comment, marked closed by the bot (`reason`): not a decline. */
export async function closeByTheBot(github: GitHubRepository, pulls: PullRequests, pull: PullRequest, comment: string, reason: string): Promise<void> {
  const metadata = parseMetadata(pull.body);
  if (!metadata) return;
  await github.commentOnce(pull.number, CLOSED_MARKER, comment);
  await updateMetadata(github, pulls, pull, { ...metadata, autoClosed: reason }, 'closed');
}

/**
 * GitHub's REST API cannot turn a pull request into a draft or a draft into one ready for review: when a proposal
 * changes between the two (a breach now needs a person, or no longer does), the open one is closed — not declined —
 * for a new one. Returns whether it closed it.
 */
export async function replaceIfDraftChanged(github: GitHubRepository, pulls: PullRequests, open: PullRequest, draft: boolean): Promise<boolean> {
  if (Boolean(open.draft) === draft) return false;
  const reason = draft
    ? "the SLO breach now needs a person's decision: a draft pull request replaces this one"
    : "the bot can now act without a person's decision: a pull request ready for review replaces this draft";
  await closeByTheBot(github, pulls, open, `Replaced: ${reason}. This is not a decline.`, reason);
  return true;
}

/** Lifts the declines whose retry box a person checked on the dashboard. */
export async function liftRetries(github: GitHubRepository, pulls: PullRequests, dashboardBody: string | undefined, log: (line: string) => void): Promise<void> {
  const asked = new Set(retryRequests(dashboardBody ?? ''));
  for (const decline of declinesOf(pulls.own).filter((candidate) => asked.has(candidate.pullRequest.number))) {
    await updateMetadata(github, pulls, decline.pullRequest, { ...decline.metadata, retried: true });
    log(`#${decline.pullRequest.number}: retry asked on the dashboard; its neighbourhood may be proposed again`);
  }
}

/**
 * Writes the dashboard when its text changed: into the oldest of the bot's dashboard issues (opened the first time,
 * reopened if someone closed it); any other the bot opened (two runs at once) is closed, so there is only ever one.
 */
export async function writeDashboard(github: GitHubRepository, existing: readonly Issue[], text: string): Promise<{ number: number; written: boolean }> {
  const [kept, ...extra] = existing;
  for (const duplicate of extra.filter((issue) => issue.state === 'open')) await github.updateIssue(duplicate.number, { state: 'closed' });
  if (!kept) {
    const created = await github.createIssue(DASHBOARD_TITLE, text);
    // Another run may have opened one meanwhile: the oldest stays, this one closes.
    const oldest = (await findDashboards(github))[0];
    if (!oldest || oldest.number === created) return { number: created, written: true };
    await github.updateIssue(created, { state: 'closed' });
    return writeDashboard(github, [oldest], text);
  }
  if (kept.body === text && kept.state === 'open') return { number: kept.number, written: false };
  await github.updateIssue(kept.number, { body: text, state: 'open' });
  return { number: kept.number, written: true };
}
