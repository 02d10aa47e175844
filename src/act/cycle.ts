/**
 * One bot cycle, Renovate-style: read the base branch, answer the comment
 * commands and dashboard boxes people left, note declined proposals, verify
 * merged changes from their Argo CD sync, plan (declined neighbourhoods kept
 * out), turn each proposal into (at most) one branch and one pull request,
 * close the pull requests whose evidence is gone, and rewrite the dashboard
 * issue. Each deployment is one unit of work — edit, synth, commit, publish,
 * pull request — and a stop request (SIGTERM) is honoured only between units,
 * so a cycle never leaves a branch pushed without its pull request.
 *
 * A branch is regenerated only when its proposal changed, when merging it into
 * the base would conflict or differ from what the bot builds on the base now,
 * or when a person asks (the checkbox in the body, `/llmops rebase`): an
 * unrelated commit to the base pushes nothing.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { formatIssue } from '../declarations/issues.ts';
import { CODE_OWNERS_LOCATIONS } from '../fleet/code-owners.ts';
import type { Fleet, FleetDeployment } from '../fleet/fleet.ts';
import { loadFleet } from '../fleet/load.ts';
import { argocdApplicationName } from '../fleet/naming.ts';
import { windowSeconds } from '../optimizer/observe.ts';
import type { Configuration } from '../optimizer/predict.ts';
import { planFleet, type PlanOptions } from '../optimizer/plan.ts';
import type { Recommendation } from '../optimizer/recommendation.ts';
import type { PrometheusClient } from '../prometheus/client.ts';
import { synthesize } from '../synth/steps.ts';
import { SynthesisError } from '../synth/synthesizer.ts';
import { writeTreeAtomically } from '../synth/write.ts';
import { publishThroughApi, TreeMismatchError } from './api-commit.ts';
import { BOT_BRANCH_PREFIX, type BotRepository, type BuiltCommit } from './bot-repository.ts';
import { answer, pendingCommands, refusal, type PendingCommand } from './commands.ts';
import { DASHBOARD_TITLE, renderDashboard, retryRequests, type DashboardState } from './dashboard.ts';
import { declineComment, declineEntries, declinedHow, declinesOf, exclusionLine, exclusions, reopenedBy, type Decline } from './declines.ts';
import { applyDeclarationChange, DeclarationEditError } from './edit-declaration.ts';
import { explanation } from './explain.ts';
import { RateLimitedError, type GitHubRepository, type Issue, type PullRequest } from './github.ts';
import { appendLedger, deploymentHistory, ledgerFile, LedgerError, parseLedger, type LedgerEntry } from './ledger.ts';
import type { OptimizerMetrics } from './metrics.ts';
import { optimizationProposal, revertProposal, type Proposal } from './proposal.ts';
import { MAX_BODY_CHARACTERS, parseMetadata, rebaseRequested, renderPullRequestBody, withMetadata, type BodyContext, type PullRequestMetadata } from './pull-request-body.ts';
import { signalLinks } from './prometheus-links.ts';
import { reviewersFor } from './reviewers.ts';
import { isOwnPullRequest } from './trust.ts';
import { verifyMerge, type Verdict } from './verify.ts';

/** Marker of the one comment the bot leaves on a branch someone else committed to. */
export const HANDS_OFF_MARKER = '<!-- llmops-gitops:hands-off -->';
/** Marker of the comment the bot leaves on a pull request it closes because its evidence is gone. */
export const CLOSED_MARKER = '<!-- llmops-gitops:closed -->';
/** Marker of the comment that says what a decline makes the bot ignore. */
export const DECLINED_MARKER = '<!-- llmops-gitops:declined -->';

/** How far back the dashboard lists verifications and reverts. */
const RECENT_DAYS = 14;

export interface CycleOptions {
  readonly repository: BotRepository;
  /** Absent: local mode (branches in the local repository, bodies printed). */
  readonly github?: GitHubRepository;
  readonly prometheus: PrometheusClient;
  /** When the cycle runs (for windows, cooldowns and the ledger). Default: now. */
  readonly now?: Date;
  /** Planning options passed through (window, recent). */
  readonly plan?: Pick<PlanOptions, 'window' | 'recent'>;
  /** Replaces the planner (tests): receives the fleet and the ledger-derived options. */
  readonly planner?: (fleet: Fleet, options: PlanOptions) => Promise<Recommendation[]>;
  /** Aborted: finish the current deployment, start no other. */
  readonly signal?: AbortSignal;
  readonly metrics?: OptimizerMetrics;
  readonly log?: (line: string) => void;
  /** The Prometheus UI the pull requests link their figures to (one reviewers can open). Default: the Prometheus the bot reads. */
  readonly prometheusLinkUrl?: string;
}

export type OutcomeKind = 'opened' | 'updated' | 'unchanged' | 'local' | 'hands-off' | 'foreign' | 'declined' | 'closed' | 'limited' | 'lost-race' | 'failed' | 'verifying';

export interface DeploymentOutcome {
  readonly deploymentId: string;
  readonly kind: OutcomeKind;
  readonly proposal?: Proposal['kind'];
  readonly pullRequest?: number;
  /** Local mode: the body the pull request would have. */
  readonly body?: string;
  readonly detail?: string;
}

export interface CycleReport {
  readonly baseSha: string;
  readonly outcomes: readonly DeploymentOutcome[];
  /** The cycle stopped early: a stop request or a rate limit. */
  readonly stopped?: string;
  /** Open pull requests on the bot's branches that are not the bot's (another author, or a fork): left alone. */
  readonly foreign?: readonly PullRequest[];
  /** Comment commands answered this cycle. */
  readonly commands?: readonly { readonly pullRequest: number; readonly command: string; readonly by: string; readonly obeyed: boolean }[];
  /** The dashboard issue, and whether this cycle rewrote it. */
  readonly dashboard?: { readonly number: number; readonly written: boolean };
}

/** A proposal and the deployment it changes. */
interface Work {
  readonly proposal: Proposal;
  readonly deployment: FleetDeployment;
}

/** A merged change judged this cycle. */
interface Judged {
  readonly deploymentId: string;
  readonly mergedAt: Date;
  readonly verdict: Verdict;
  readonly savingUsdPerMonth: number;
}

interface Planned {
  readonly work: Work[];
  readonly outcomes: DeploymentOutcome[];
  readonly fleet?: Fleet;
  readonly problem?: string;
  readonly recommendations: readonly Recommendation[];
  /** Every deployment's ledger on the base. */
  readonly ledgers: ReadonlyMap<string, readonly LedgerEntry[]>;
  /** Deployments that wait for a verification (no proposal for them this cycle). */
  readonly waiting: ReadonlySet<string>;
  readonly judged: readonly Judged[];
}

const changeTypes = (proposal: Proposal): string[] =>
  proposal.kind === 'revert'
    ? ['revert']
    : [proposal.change.replicas ? 'replicas' : '', proposal.change.gpu ? 'gpu' : '', proposal.change.engineArgs || proposal.change.removeEngineArgs ? 'engine_args' : ''].filter(Boolean);

/** Reads the base branch: the fleet, every deployment's ledger history, verdicts on merged changes, and the plan. */
async function planFromBase(options: CycleOptions, baseSha: string, now: Date, declines: readonly Decline[]): Promise<Planned> {
  const { repository } = options;
  const empty = { recommendations: [], ledgers: new Map(), waiting: new Set<string>(), judged: [] };
  return repository.withWorktree(baseSha, async (root) => {
    const loaded = await loadFleet(root);
    if (!loaded.ok) return { ...empty, work: [], outcomes: [], problem: `the base branch does not validate:\n${loaded.issues.map(formatIssue).join('\n')}` };
    const fleet = loaded.fleet;
    const work: Work[] = [];
    const outcomes: DeploymentOutcome[] = [];
    const lastChanges = new Map<string, Date>();
    const rejected = new Map<string, Configuration[]>();
    const verifiedEntries = new Map<string, LedgerEntry>();
    const waiting = new Set<string>();
    const ledgers = new Map<string, LedgerEntry[]>();
    const judged: Judged[] = [];
    for (const deployment of fleet.deployments) {
      const file = ledgerFile(deployment.id);
      let entries: LedgerEntry[];
      try {
        entries = parseLedger(file, (await repository.show(baseSha, file)) ?? '');
      } catch (error) {
        if (!(error instanceof LedgerError)) throw error;
        // A damaged ledger stops only its own deployment: without its history the bot cannot verify or pace it.
        outcomes.push({ deploymentId: deployment.id, kind: 'failed', detail: `${error.message}; this deployment is skipped until the line is fixed or removed` });
        waiting.add(deployment.id);
        continue;
      }
      ledgers.set(deployment.id, entries);
      const landedAt = entries.length > 0 ? await repository.landedAt(baseSha, file) : undefined;
      const history = deploymentHistory(entries, landedAt, now, deployment.policy.limits.cooldownMinutes);
      if (history.lastChangeAt) lastChanges.set(deployment.id, history.lastChangeAt);
      rejected.set(deployment.id, history.rejected as Configuration[]);
      if (!history.unverified || !landedAt) continue;
      const verdict = await verifyMerge(options.prometheus, deployment, landedAt, now);
      const savingUsdPerMonth = Math.max(0, (history.unverified.costPerHourUsd.current - history.unverified.costPerHourUsd.proposed) * 730);
      judged.push({ deploymentId: deployment.id, mergedAt: landedAt, verdict, savingUsdPerMonth });
      if (verdict.status === 'failed') {
        work.push({ deployment, proposal: revertProposal(deployment, history.unverified.from as Configuration, landedAt, verdict, now, repository.identity.secret) });
        waiting.add(deployment.id);
      } else if (verdict.status === 'pending') {
        outcomes.push({ deploymentId: deployment.id, kind: 'verifying', detail: verdict.windowEnd ? `${verdict.start.detail}; verifying until ${verdict.windowEnd.toISOString()}` : verdict.start.detail });
        waiting.add(deployment.id);
      } else {
        verifiedEntries.set(deployment.id, { kind: 'merge', at: now.toISOString(), deploymentId: deployment.id, mergedAt: landedAt.toISOString(), outcome: 'verified' });
        // Counted when its verification passes, once: the next cycles find the same change verified again until a commit records it.
        options.metrics?.countSaving(`${deployment.id}@${landedAt.toISOString()}`, savingUsdPerMonth);
      }
    }
    const planOptions: PlanOptions = { ...options.plan, now, lastChanges, rejected, excluded: exclusions(declines) };
    const recommendations = await (options.planner ?? ((planned, planning) => planFleet(planned, options.prometheus, planning)))(fleet, planOptions);
    for (const recommendation of recommendations) {
      if (waiting.has(recommendation.deploymentId)) continue;
      const proposal = optimizationProposal(recommendation, now, repository.identity.secret);
      const deployment = fleet.deployments.find((candidate) => candidate.id === recommendation.deploymentId);
      if (!proposal || !deployment) continue;
      const verified = verifiedEntries.get(deployment.id);
      work.push({ deployment, proposal: verified ? { ...proposal, ledger: [verified, ...proposal.ledger] } : proposal });
    }
    // Reverts first, then the largest expected gains.
    work.sort((a, b) => Number(b.proposal.kind === 'revert') - Number(a.proposal.kind === 'revert') || (b.proposal.recommendation?.proposed?.improvementPct ?? 0) - (a.proposal.recommendation?.proposed?.improvementPct ?? 0));
    options.metrics?.deploymentsActive.set(fleet.deployments.filter((deployment) => !deployment.policy.paused).length);
    return { work, outcomes, fleet, recommendations, ledgers, waiting, judged };
  });
}

/** Edits the declaration, appends `ledgerLines` to the ledger, synthesizes generated/ and commits — all in a worktree at the base. */
async function buildCommit(repository: BotRepository, baseSha: string, proposal: Proposal, ledgerLines: string): Promise<BuiltCommit> {
  return repository.withWorktree(baseSha, async (root, git) => {
    const source = path.join(root, proposal.sourceFile);
    await writeFile(source, applyDeclarationChange(proposal.sourceFile, await readFile(source, 'utf8'), proposal.model, proposal.change));
    const ledger = path.join(root, ledgerFile(proposal.deploymentId));
    const loaded = await loadFleet(root);
    if (!loaded.ok) throw new BuildError(`the edited declarations do not validate:\n${loaded.issues.map(formatIssue).join('\n')}`);
    await writeTreeAtomically(root, synthesize(loaded.fleet));
    await mkdir(path.dirname(ledger), { recursive: true });
    const before = await readFile(ledger, 'utf8').catch(() => '');
    await writeFile(ledger, (before === '' || before.endsWith('\n') ? before : `${before}\n`) + ledgerLines);
    const body = proposal.kind === 'revert' ? (proposal.verdict?.evidence.join('\n') ?? '') : (proposal.recommendation?.reason ?? '');
    return repository.commit(git, baseSha, proposal.title, body, proposal.fingerprint);
  });
}

class BuildError extends Error {
  override readonly name = 'BuildError';
}

/** Limits of a policy on new pull requests, counted over the bot's pull requests. */
function withinLimits(deployment: FleetDeployment, pulls: readonly PullRequest[], fleet: Fleet, now: Date): string | undefined {
  const { limits, name } = deployment.policy;
  const ofPolicy = (pull: PullRequest) => fleet.deployments.some((candidate) => candidate.policy.name === name && pull.headRef === `${BOT_BRANCH_PREFIX}${candidate.id}`);
  const open = pulls.filter((pull) => pull.state === 'open' && ofPolicy(pull)).length;
  if (open >= limits.maxOpenPullRequests) return `policy ${name} allows ${limits.maxOpenPullRequests} open pull request(s) (${open} open)`;
  const lastHour = pulls.filter((pull) => ofPolicy(pull) && now.getTime() - new Date(pull.createdAt).getTime() < 3_600_000).length;
  if (lastHour >= limits.maxPullRequestsPerHour) return `policy ${name} allows ${limits.maxPullRequestsPerHour} new pull request(s) per hour (${lastHour} in the last hour)`;
  return undefined;
}

const sameLabels = (have: readonly string[], want: readonly string[]) => want.every((label) => have.includes(label));

const describeForeign = (pull: PullRequest) => `#${pull.number} on ${pull.headRef} was opened by ${pull.author ?? 'a deleted account'} from ${pull.headRepository ?? 'a deleted repository'}, not by the bot from this repository: the bot leaves it alone`;

/** The bot's pull requests and the others on its branches, by what GitHub says of author and head repository. */
interface PullRequests {
  /** The bot's own (its metadata, fingerprints and limits come from these only); kept current as the cycle changes them. */
  readonly own: PullRequest[];
  readonly foreign: readonly PullRequest[];
}

/** Replaces the bot's copy of a pull request after the cycle changed it on GitHub. */
function remember(pulls: PullRequests, pull: PullRequest): void {
  const index = pulls.own.findIndex((candidate) => candidate.number === pull.number);
  if (index >= 0) pulls.own[index] = pull;
  else pulls.own.push(pull);
}

/** What one cycle knows while it acts. */
interface CycleState {
  readonly baseSha: string;
  readonly fleet: Fleet;
  readonly pulls: PullRequests;
  readonly now: Date;
  readonly declines: readonly Decline[];
  readonly ledgers: ReadonlyMap<string, readonly LedgerEntry[]>;
  /** Pull requests whose branch a person asked to regenerate (`/llmops rebase`). */
  readonly rebase: ReadonlySet<number>;
  readonly codeOwners?: string;
}

/** The body's context for a commit of a proposal. */
async function bodyContext(options: CycleOptions, state: CycleState, work: Work, commit: string): Promise<BodyContext> {
  const { repository } = options;
  const { deployment, proposal } = work;
  const windowLength = options.plan?.window ?? '1h';
  const start = new Date(state.now.getTime() - windowSeconds(windowLength) * 1000);
  const target = { namespace: deployment.environment.namespace, model: deployment.model.name };
  const observation = proposal.recommendation?.observed;
  return {
    generatedDiff: await repository.generatedDiff(state.baseSha, commit),
    declarationDiff: await repository.fileDiff(state.baseSha, commit, proposal.sourceFile),
    sync: deployment.environment.sync,
    argocdApplication: argocdApplicationName(deployment.environment.name),
    verificationWindowMinutes: deployment.policy.verificationWindowMinutes,
    window: { start, end: state.now, peakHours: 24 },
    links: signalLinks(options.prometheusLinkUrl ?? options.prometheus.baseUrl, target, windowLength, state.now),
    excluded: state.declines.filter((decline) => decline.deploymentId === deployment.id && reopenedBy(decline, deployment, observation) === undefined).map((decline) => exclusionLine(decline, deployment)),
  };
}

/** The body, within GitHub's limit (the diffs shortened when it would not fit). */
function bodyOf(proposal: Proposal, context: BodyContext): string {
  const body = renderPullRequestBody(proposal, context);
  if (body.length <= MAX_BODY_CHARACTERS) return body;
  return renderPullRequestBody(proposal, { ...context, generatedDiff: context.generatedDiff.slice(0, 50), declarationDiff: context.declarationDiff.slice(0, 20_000) });
}

/** GitHub's auto-merge applies: the policy asks for it, the environment syncs by itself, and the change is a low-risk optimization. */
const automergeable = ({ proposal, deployment }: Work) => deployment.policy.pullRequests.automerge && deployment.environment.sync === 'auto' && proposal.kind === 'optimize' && proposal.labels.includes('risk:low');

/** Requests reviewers and turns on auto-merge where the policy asks; returns what it did, in words. */
async function reviewAndMerge(options: CycleOptions, state: CycleState, work: Work, pull: PullRequest, head: string, created: boolean): Promise<string[]> {
  const github = options.github!;
  const notes: string[] = [];
  if (created) {
    const files = (await options.repository.changedFiles(state.baseSha, head)).map((file) => file.path);
    const reviewers = reviewersFor(work.deployment.policy.pullRequests.reviewers, state.codeOwners, files, [await github.login()]);
    if (reviewers.users.length + reviewers.teams.length > 0) {
      try {
        await github.requestReviewers(pull.number, reviewers.users, reviewers.teams);
        notes.push(`review requested from ${[...reviewers.users.map((user) => `@${user}`), ...reviewers.teams.map((team) => `team ${team}`)].join(', ')}`);
      } catch (error) {
        if ((error as { status?: number }).status !== 422) throw error;
        notes.push(`GitHub refused the reviewers (${(error as Error).message})`);
      }
    }
  }
  if (automergeable(work) && (created || !pull.autoMerge || pull.headSha !== head)) {
    const result = await github.enableAutoMerge(pull, head);
    notes.push(result.enabled ? 'auto-merge on: GitHub merges once the required checks pass' : `auto-merge not turned on: ${result.reason}`);
  }
  return notes;
}

/** One deployment's unit of work. */
async function act(options: CycleOptions, state: CycleState, work: Work): Promise<DeploymentOutcome> {
  const { repository, github } = options;
  const { proposal, deployment } = work;
  const { baseSha, fleet, pulls, now } = state;
  const outcome = (kind: OutcomeKind, extra: Partial<DeploymentOutcome> = {}): DeploymentOutcome => ({ deploymentId: proposal.deploymentId, kind, proposal: proposal.kind, ...extra });
  // GitHub allows one open pull request per branch of this repository: someone else's on the bot's branch takes it over. One from a fork does not.
  const someoneElses = github && pulls.foreign.find((pull) => pull.state === 'open' && pull.headRef === proposal.branch && pull.headRepository?.toLowerCase() === github.fullName.toLowerCase());
  if (someoneElses) return outcome('foreign', { pullRequest: someoneElses.number, detail: describeForeign(someoneElses) });
  const branch = await repository.inspect(proposal.branch, baseSha, proposal.fingerprint);
  const open = pulls.own.find((pull) => pull.state === 'open' && pull.headRef === proposal.branch);
  const rebase = open !== undefined && (rebaseRequested(open.body) || state.rebase.has(open.number));

  if (branch.kind === 'foreign' && !rebase) {
    if (github && open) {
      const text = `${branch.authors.join(', ')} committed to \`${proposal.branch}\`, so the bot leaves this branch alone from now on: no more pushes or updates. To hand it back, check the box "regenerate this branch" in the description (your commits are then replaced by the bot's one), or comment \`/llmops rebase\`; close the pull request to decline it.`;
      await github.commentOnce(open.number, `${HANDS_OFF_MARKER}<!-- ${branch.firstForeign} -->`, text);
    }
    return outcome('hands-off', { pullRequest: open?.number, detail: `committed to by ${branch.authors.join(', ')}` });
  }
  if (github && !open && proposal.kind !== 'revert') {
    const limit = withinLimits(deployment, pulls.own, fleet, now);
    if (limit) return outcome('limited', { detail: limit });
  }

  // The commit the branch should hold, and whether it must be published.
  let head: string;
  let built: BuiltCommit | undefined;
  let why: string | undefined;
  // Without its pull request a branch is rebuilt: the new one gets fresh ledger lines (and the declines since).
  const keep = !rebase && open !== undefined;
  if (branch.kind === 'current' && keep) {
    head = branch.sha;
  } else {
    const ledgerText = appendLedger('', [...declineEntries(state.declines, deployment.id, state.ledgers.get(deployment.id) ?? [], now), ...proposal.ledger]);
    // A branch on an older base is rebuilt with the ledger lines it carries, so that "merges into what the bot would build" can be checked exactly.
    const carried = branch.kind === 'behind' && keep ? await repository.appendedLines(branch.sha, branch.parent, ledgerFile(deployment.id)) : undefined;
    try {
      built = await buildCommit(repository, baseSha, proposal, carried ?? ledgerText);
    } catch (error) {
      if (error instanceof BuildError || error instanceof DeclarationEditError || error instanceof SynthesisError) return outcome('failed', { detail: `${error.message}\nNothing was committed or pushed.` });
      throw error;
    }
    if (branch.kind === 'behind' && keep && carried !== undefined) {
      const merged = await repository.mergedTree(baseSha, branch.sha);
      if (merged === built.tree) {
        head = branch.sha;
        built = undefined;
      } else {
        why = merged === undefined ? 'it conflicted with the base branch' : "merging the base branch into it would not give what the bot builds on the base (generated/ or the ledger would be stale)";
      }
    } else {
      why = rebase ? 'a person asked for it' : branch.kind === 'absent' || !open ? undefined : 'the proposal changed';
    }
  }
  let verified: boolean | undefined;
  if (built) {
    const expected = branch.kind === 'absent' ? undefined : branch.sha;
    if (github) {
      let published;
      try {
        published = await publishThroughApi(repository, github, proposal.branch, built, expected);
      } catch (error) {
        if (error instanceof TreeMismatchError) return outcome('failed', { detail: error.message });
        throw error;
      }
      if (!published) return outcome('lost-race', { detail: `${proposal.branch} moved while this run built it; the run that moved it owns it` });
      head = published.sha;
      verified = published.verified;
    } else {
      if (!(await repository.publish(proposal.branch, built.sha, expected))) return outcome('lost-race', { detail: `${proposal.branch} moved while this run built it; the run that moved it owns it` });
      head = built.sha;
    }
    for (const type of changeTypes(proposal)) options.metrics?.configChanges.inc({ type });
    if (proposal.kind === 'revert') options.metrics?.rollbacks.inc();
  }
  head = head!;
  const regenerated = why ? `regenerated: ${why}` : undefined;
  const commitNote = verified === undefined ? [] : [verified ? 'commit verified by GitHub' : 'commit not signed by GitHub'];

  if (!built && open) {
    // Nothing new on the branch: the title and labels follow the proposal; the body stays as it was.
    const title = open.title !== proposal.title;
    if (title) await github!.updatePullRequest(open.number, { title: proposal.title });
    const labels = !sameLabels(open.labels, proposal.labels);
    if (labels) await github!.addLabels(open.number, proposal.labels.filter((label) => !open.labels.includes(label)));
    const notes = await reviewAndMerge(options, state, work, open, head, false);
    const kept = branch.kind === 'behind' ? ['the base moved without conflict: the branch stays as it is'] : [];
    return outcome(title || labels || notes.length > 0 ? 'updated' : 'unchanged', { pullRequest: open.number, ...([...kept, ...notes].length > 0 ? { detail: [...kept, ...notes].join('; ') } : {}) });
  }

  const body = bodyOf(proposal, await bodyContext(options, state, work, built?.sha ?? head));
  if (!github) return outcome('local', { body, detail: `branch ${proposal.branch} at ${head.slice(0, 12)}` });

  if (!open) {
    const { pullRequest, created } = await github.createPullRequest({ branch: proposal.branch, base: repository.base, title: proposal.title, body });
    // Another run, or someone else, opened one for the branch first: only the bot's own is taken over.
    if (!created && !isOwnPullRequest(pullRequest, await github.login(), github.fullName)) return outcome('foreign', { pullRequest: pullRequest.number, detail: describeForeign(pullRequest) });
    if (!sameLabels(pullRequest.labels, proposal.labels)) await github.addLabels(pullRequest.number, proposal.labels.filter((label) => !pullRequest.labels.includes(label)));
    remember(pulls, { ...pullRequest, labels: [...new Set([...pullRequest.labels, ...proposal.labels])] });
    const notes = await reviewAndMerge(options, state, work, pullRequest, head, created);
    const detail = [...commitNote, ...notes].join('; ');
    return outcome(created ? 'opened' : 'updated', { pullRequest: pullRequest.number, ...(detail ? { detail } : {}) });
  }
  const changes = { ...(open.title !== proposal.title ? { title: proposal.title } : {}), ...(open.body !== body ? { body } : {}) };
  if (Object.keys(changes).length > 0) await github.updatePullRequest(open.number, changes);
  if (!sameLabels(open.labels, proposal.labels)) await github.addLabels(open.number, proposal.labels.filter((label) => !open.labels.includes(label)));
  remember(pulls, { ...open, ...changes, headSha: head });
  const notes = await reviewAndMerge(options, state, work, open, head, false);
  return outcome('updated', { pullRequest: open.number, detail: [regenerated, ...commitNote, ...notes].filter(Boolean).join('; ') });
}

/** Lists the pull requests on the bot's branches and tells the bot's own from the others (which are logged). */
async function ownAndForeign(github: GitHubRepository, log: (line: string) => void): Promise<PullRequests> {
  const [login, all] = await Promise.all([github.login(), github.listPullRequests(BOT_BRANCH_PREFIX, 'all')]);
  const own = all.filter((pull) => isOwnPullRequest(pull, login, github.fullName));
  const foreign = all.filter((pull) => !own.includes(pull));
  for (const pull of foreign.filter((candidate) => candidate.state === 'open')) log(describeForeign(pull));
  return { own, foreign };
}

/** Rewrites a pull request's metadata (and state) on GitHub and in the cycle's copy. */
async function updateMetadata(github: GitHubRepository, pulls: PullRequests, pull: PullRequest, metadata: PullRequestMetadata, state?: 'closed'): Promise<void> {
  const body = withMetadata(pull.body, metadata);
  await github.updatePullRequest(pull.number, { body, ...(state ? { state } : {}) });
  remember(pulls, { ...pull, body, ...(state ? { state } : {}) });
}

/** The dashboard issue the bot opened (by its own login and title), if any. */
async function findDashboard(github: GitHubRepository) {
  const login = await github.login();
  const mine = (await github.listIssuesBy(login)).filter((issue) => issue.author === login && issue.title === DASHBOARD_TITLE);
  return mine.find((issue) => issue.state === 'open') ?? mine[0];
}

/**
 * Obeys the comment commands before planning: `rebase` marks the branch, `ignore` closes the pull request as
 * declined (so the plan leaves its neighbourhood out); their answers that need the plan (`ignore`, `explain`) wait for it.
 */
async function obeyCommands(github: GitHubRepository, pulls: PullRequests, now: Date, log: (line: string) => void) {
  const rebase = new Set<number>();
  const later: PendingCommand[] = [];
  const answered: { pullRequest: number; command: string; by: string; obeyed: boolean }[] = [];
  for (const pending of await pendingCommands(github, pulls.own.filter((pull) => pull.state === 'open'))) {
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
async function answerAfterPlan(github: GitHubRepository, state: CycleState, planned: Planned, later: readonly PendingCommand[]): Promise<void> {
  const deploymentOf = (id: string | undefined) => state.fleet.deployments.find((deployment) => deployment.id === id);
  for (const pending of later) {
    const pull = state.pulls.own.find((candidate) => candidate.number === pending.pull.number) ?? pending.pull;
    const metadata = parseMetadata(pull.body);
    if (pending.command === 'ignore' && metadata) {
      await answer(github, pending, `${DECLINED_MARKER}\n${declineComment({ pullRequest: pull, metadata, configuration: metadata.to, evidence: metadata.evidence ?? {} }, deploymentOf(metadata.deploymentId))}`);
      continue;
    }
    const recommendation = planned.recommendations.find((candidate) => candidate.deploymentId === metadata?.deploymentId);
    const deployment = deploymentOf(metadata?.deploymentId);
    const excluded = deployment ? state.declines.filter((decline) => decline.deploymentId === deployment.id && reopenedBy(decline, deployment, recommendation?.observed) === undefined).map((decline) => exclusionLine(decline, deployment)) : [];
    await answer(github, pending, explanation(recommendation, metadata?.deploymentId ?? pull.headRef, excluded));
  }
}

/** Notes the declines nobody has noted: the closing comment that says what is ignored, and the mark in the metadata. */
async function noteDeclines(github: GitHubRepository, pulls: PullRequests, fleet: (id: string) => FleetDeployment | undefined, now: Date): Promise<DeploymentOutcome[]> {
  const noted: DeploymentOutcome[] = [];
  for (const decline of declinesOf(pulls.own).filter((candidate) => !candidate.metadata.declined)) {
    const metadata: PullRequestMetadata = { ...decline.metadata, declined: { at: now.toISOString() } };
    await github.commentOnce(decline.pullRequest.number, DECLINED_MARKER, declineComment({ ...decline, metadata }, fleet(decline.deploymentId)));
    await updateMetadata(github, pulls, decline.pullRequest, metadata);
    noted.push({ deploymentId: decline.deploymentId, kind: 'declined', pullRequest: decline.pullRequest.number, detail: declinedHow({ ...decline, metadata }) });
  }
  return noted;
}

/** Closes the bot's open optimizations whose evidence is gone (or whose deployment is), with a comment. */
async function closeStale(options: CycleOptions, state: CycleState, planned: Planned, handled: ReadonlySet<number>): Promise<DeploymentOutcome[]> {
  const github = options.github!;
  const closed: DeploymentOutcome[] = [];
  for (const pull of state.pulls.own.filter((candidate) => candidate.state === 'open' && !handled.has(candidate.number))) {
    const metadata = parseMetadata(pull.body);
    if (!metadata || metadata.kind !== 'optimize' || planned.waiting.has(metadata.deploymentId)) continue;
    const deployment = state.fleet.deployments.find((candidate) => candidate.id === metadata.deploymentId);
    const recommendation = planned.recommendations.find((candidate) => candidate.deploymentId === metadata.deploymentId);
    const reason = !deployment ? `${metadata.deploymentId} is no longer declared on ${options.repository.base}` : recommendation?.action === 'none' && recommendation.rule === 'no-better-configuration' ? recommendation.reason : undefined;
    if (!reason) continue;
    // A branch a person took over is theirs to close.
    if ((await options.repository.inspect(pull.headRef, state.baseSha, metadata.fingerprint)).kind === 'foreign') continue;
    await github.commentOnce(pull.number, CLOSED_MARKER, `The proposal no longer holds: ${reason}. The bot closed this pull request; it proposes again when the evidence calls for a change. This is not a decline.`);
    await updateMetadata(github, state.pulls, pull, { ...metadata, autoClosed: reason }, 'closed');
    closed.push({ deploymentId: metadata.deploymentId, kind: 'closed', proposal: 'optimize', pullRequest: pull.number, detail: reason });
  }
  return closed;
}

/** Lifts the declines whose retry box a person checked on the dashboard. */
async function liftRetries(github: GitHubRepository, pulls: PullRequests, dashboardBody: string | undefined, log: (line: string) => void): Promise<void> {
  const asked = new Set(retryRequests(dashboardBody ?? ''));
  for (const decline of declinesOf(pulls.own).filter((candidate) => asked.has(candidate.pullRequest.number))) {
    await updateMetadata(github, pulls, decline.pullRequest, { ...decline.metadata, retried: true });
    log(`#${decline.pullRequest.number}: retry asked on the dashboard; its neighbourhood may be proposed again`);
  }
}

const ms = (seconds: number | undefined) => (seconds === undefined ? '-' : `${Math.round(seconds * 1000)} ms`);

/** An SLO the deployment breaches now, in words (for a safety action a pause or freeze blocks). */
function breachOf(recommendation: Recommendation, deployment: FleetDeployment): string | undefined {
  const { observed } = recommendation;
  const { slos } = deployment.environment;
  const breaches = [
    ['TTFT p95', observed.ttftP95Seconds, slos.ttftP95Ms],
    ['end-to-end p95', observed.e2eP95Seconds, slos.e2eP95Ms],
    ['inter-token p95', observed.interTokenP95Seconds, slos.interTokenP95Ms],
  ]
    .filter(([, seconds, limit]) => seconds !== undefined && (seconds as number) * 1000 > (limit as number))
    .map(([name, seconds, limit]) => `${name} ${ms(seconds as number)} > ${limit} ms`);
  if (observed.errorRatio !== undefined && observed.errorRatio > slos.errorRateRatio) breaches.push(`error ratio ${(observed.errorRatio * 100).toFixed(2)} % > ${(slos.errorRateRatio * 100).toFixed(2)} %`);
  return breaches.length > 0 ? breaches.join(', ') : undefined;
}

/** What the dashboard shows after this cycle. */
function dashboardState(state: CycleState, planned: Planned, outcomes: readonly DeploymentOutcome[]): DashboardState {
  const deploymentOf = (id: string) => state.fleet.deployments.find((candidate) => candidate.id === id);
  const stoppedRules = planned.recommendations.filter((recommendation) => recommendation.rule === 'paused' || recommendation.rule === 'freeze-window');
  const blocked = stoppedRules.flatMap((recommendation) => {
    const breach = breachOf(recommendation, deploymentOf(recommendation.deploymentId)!);
    return breach ? [{ deploymentId: recommendation.deploymentId, detail: `SLO breached (${breach}) and the bot may not act: ${recommendation.reason}. Scale out by hand or lift the ${recommendation.rule === 'paused' ? 'pause' : 'freeze'}.` }] : [];
  });
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
    ...planned.judged.filter((judged) => judged.verdict.status === 'verified').map((judged) => ({ at: state.now, deploymentId: judged.deploymentId, detail: `verified: ${judged.verdict.start.detail}; saves ${Math.round(judged.savingUsdPerMonth)} USD/month` })),
    ...planned.judged.filter((judged) => judged.verdict.status === 'failed').map((judged) => ({ at: state.now, deploymentId: judged.deploymentId, detail: `failed verification, revert proposed: ${judged.verdict.evidence.join('; ')}` })),
  ]
    .filter((item) => item.at.getTime() >= since)
    .sort((a, b) => b.at.getTime() - a.at.getTime() || a.deploymentId.localeCompare(b.deploymentId))
    .slice(0, 20);
  return {
    blockedSafety: blocked,
    stopped: stoppedRules.filter((recommendation) => !blocked.some((item) => item.deploymentId === recommendation.deploymentId)).map((recommendation) => ({ deploymentId: recommendation.deploymentId, detail: recommendation.reason })),
    open: state.pulls.own.filter((pull) => pull.state === 'open').map((pull) => ({ number: pull.number, title: pull.title, labels: pull.labels, autoMerge: pull.autoMerge })).sort((a, b) => a.number - b.number),
    limited: outcomes.filter((outcome) => outcome.kind === 'limited').map((outcome) => ({ deploymentId: outcome.deploymentId, detail: outcome.detail ?? '' })),
    handsOff: outcomes.filter((outcome) => outcome.kind === 'hands-off').map((outcome) => ({ deploymentId: outcome.deploymentId, pullRequest: outcome.pullRequest, detail: outcome.detail ?? '' })),
    declined: declinesOf(state.pulls.own)
      .map((decline) => {
        const deployment = deploymentOf(decline.deploymentId);
        const observed = planned.recommendations.find((recommendation) => recommendation.deploymentId === decline.deploymentId)?.observed;
        return { pullRequest: decline.pullRequest.number, deploymentId: decline.deploymentId, what: describeTarget(decline.configuration), how: declinedHow(decline), reopenedBy: deployment ? reopenedBy(decline, deployment, observed) : 'the deployment is no longer declared' };
      })
      .sort((a, b) => b.pullRequest - a.pullRequest),
    verifying: outcomes.filter((outcome) => outcome.kind === 'verifying').map((outcome) => ({ deploymentId: outcome.deploymentId, detail: outcome.detail ?? '' })),
    recent,
    failed: outcomes.filter((outcome) => outcome.kind === 'failed').map((outcome) => ({ deploymentId: outcome.deploymentId, detail: outcome.detail ?? '' })),
  };
}

const describeTarget = (configuration: Configuration) => `${configuration.gpuCount}x ${configuration.gpuType}${configuration.quantization ? ` ${configuration.quantization}` : ''}, ${configuration.replicasMin}–${configuration.replicasMax} replicas, max-num-seqs ${configuration.maxNumSeqs}`;

/** Writes the dashboard when its text changed (opening it the first time, reopening it if someone closed it). */
async function writeDashboard(github: GitHubRepository, existing: Issue | undefined, text: string): Promise<{ number: number; written: boolean }> {
  if (!existing) return { number: await github.createIssue(DASHBOARD_TITLE, text), written: true };
  if (existing.body === text && existing.state === 'open') return { number: existing.number, written: false };
  await github.updateIssue(existing.number, { body: text, state: 'open' });
  return { number: existing.number, written: true };
}

/** Runs one cycle. Errors of one deployment are reported and the cycle goes on; a rate limit stops it. */
export async function runCycle(options: CycleOptions): Promise<CycleReport> {
  const log = options.log ?? (() => {});
  const now = options.now ?? new Date();
  const stopTimer = options.metrics?.duration.startTimer();
  const { repository, github } = options;
  let result: 'failure' | 'stopped' | 'rate_limited' | undefined;
  let baseSha = '';
  const outcomes: DeploymentOutcome[] = [];
  try {
    const pruned = await repository.pruneStaleWorktrees();
    if (pruned > 0) log(`removed ${pruned} worktree(s) left by bot runs that were killed`);
    await repository.fetch();
    baseSha = await repository.baseSha();
    const pulls: PullRequests = github ? await ownAndForeign(github, log) : { own: [], foreign: [] };
    const dashboard = github ? await findDashboard(github) : undefined;

    // What people asked for since the last run, before anything is planned.
    let commands: Awaited<ReturnType<typeof obeyCommands>> = { rebase: new Set(), later: [], answered: [] };
    if (github) {
      commands = await obeyCommands(github, pulls, now, log);
      await liftRetries(github, pulls, dashboard?.body, log);
    }
    const declines = declinesOf(pulls.own);
    const planned = await planFromBase(options, baseSha, now, declines);
    if (planned.problem || !planned.fleet) {
      log(`${planned.problem}\nNo pull requests this cycle.`);
      result = 'failure';
      return { baseSha, outcomes: [], stopped: planned.problem };
    }
    const fleetOf = (id: string) => planned.fleet!.deployments.find((deployment) => deployment.id === id);
    if (github) outcomes.push(...(await noteDeclines(github, pulls, fleetOf, now)));
    outcomes.push(...planned.outcomes);
    for (const skipped of planned.outcomes.filter((outcome) => outcome.kind === 'failed')) log(`${skipped.deploymentId}: failed: ${skipped.detail}`);
    const codeOwners = (await Promise.all(CODE_OWNERS_LOCATIONS.map((file) => repository.show(baseSha, file)))).find((text) => text !== undefined);
    const state: CycleState = { baseSha, fleet: planned.fleet, pulls, now, declines: declinesOf(pulls.own), ledgers: planned.ledgers, rebase: commands.rebase, codeOwners };
    const handled = new Set<number>();
    for (const work of planned.work) {
      if (options.signal?.aborted) {
        result = 'stopped';
        log(`stop requested: ${planned.work.length - planned.work.indexOf(work)} deployment(s) left for the next cycle`);
        return { baseSha, outcomes, stopped: 'stop requested', commands: commands.answered };
      }
      log(`${work.proposal.deploymentId}: ${work.proposal.kind} on ${work.proposal.branch}`);
      try {
        const done = await act(options, state, work);
        outcomes.push(done);
        if (done.pullRequest) handled.add(done.pullRequest);
        log(`${done.deploymentId}: ${done.kind}${done.pullRequest ? ` #${done.pullRequest}` : ''}${done.detail ? ` (${done.detail})` : ''}`);
      } catch (error) {
        if (error instanceof RateLimitedError) throw error;
        outcomes.push({ deploymentId: work.proposal.deploymentId, kind: 'failed', proposal: work.proposal.kind, detail: error instanceof Error ? error.message : String(error) });
        log(`${work.proposal.deploymentId}: failed: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    let written: CycleReport['dashboard'];
    if (github) {
      const closed = await closeStale(options, state, planned, handled);
      outcomes.push(...closed);
      for (const item of closed) log(`${item.deploymentId}: closed #${item.pullRequest} (${item.detail})`);
      await answerAfterPlan(github, state, planned, commands.later);
      written = await writeDashboard(github, dashboard, renderDashboard(dashboardState(state, planned, outcomes)));
    }
    if (outcomes.some((outcome) => outcome.kind === 'failed')) result = 'failure';
    return { baseSha, outcomes, foreign: pulls.foreign.filter((pull) => pull.state === 'open'), commands: commands.answered, ...(written ? { dashboard: written } : {}) };
  } catch (error) {
    if (error instanceof RateLimitedError) {
      result = 'rate_limited';
      log(`${error.message}; stopping this cycle, the next run continues`);
      return { baseSha, outcomes, stopped: error.message };
    }
    result = 'failure';
    throw error;
  } finally {
    options.metrics?.attempts.inc({ result: result ?? 'success' });
    stopTimer?.();
  }
}
