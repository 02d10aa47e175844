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
import { currentConfiguration } from '../optimizer/decide.ts';
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
import { blockedSafetyActions, dashboardStateOf, renderDashboard } from './dashboard.ts';
import { declinesOf, type Decline } from './declines.ts';
import { declineEntries, exclusionLines, exclusions, revertBan } from './exclusions.ts';
import { applyDeclarationChange, DeclarationEditError } from './edit-declaration.ts';
import { RateLimitedError, type GitHubRepository, type PullRequest } from './github.ts';
import { answerAfterPlan, closeStale, findDashboards, liftRetries, noteDeclines, obeyCommands, remember, replaceIfDraftChanged, writeDashboard, type PullRequests } from './lifecycle.ts';
import { appendLedger, deploymentHistory, ledgerFile, LedgerError, parseLedger, type LedgerEntry } from './ledger.ts';
import type { OptimizerMetrics } from './metrics.ts';
import { changeWords, optimizationProposal, revertProposal, type Proposal } from './proposal.ts';
import { inNeighbourhood, materialChange } from '../optimizer/neighbourhood.ts';
import { MAX_BODY_CHARACTERS, parseMetadata, rebaseRequested, renderPullRequestBody, type BodyContext } from './pull-request-body.ts';
import { signalLinks } from './prometheus-links.ts';
import { reviewersFor } from './reviewers.ts';
import { isOwnPullRequest } from './trust.ts';
import { verifyMerge, type Verdict } from './verify.ts';

/** Marker of the one comment the bot leaves on a branch someone else committed to. */
export const HANDS_OFF_MARKER = '<!-- llmops-gitops:hands-off -->';

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
      const history = deploymentHistory(entries, landedAt);
      if (history.lastChangeAt) lastChanges.set(deployment.id, history.lastChangeAt);
      if (!history.unverified || !landedAt) continue;
      const verdict = await verifyMerge(options.prometheus, deployment, landedAt, now, history.unverified.prediction);
      const savingUsdPerMonth = Math.max(0, (history.unverified.costPerHourUsd.current - history.unverified.costPerHourUsd.proposed) * 730);
      judged.push({ deploymentId: deployment.id, mergedAt: landedAt, verdict, savingUsdPerMonth });
      if (verdict.status === 'failed') {
        const ban = revertBan(deployment, entries, declines, currentConfiguration(deployment), `reverted: ${verdict.evidence.join('; ')}`, now);
        work.push({ deployment, proposal: revertProposal(deployment, history.unverified.from as Configuration, landedAt, verdict, now, repository.identity.secret, ban) });
        waiting.add(deployment.id);
      } else if (verdict.status === 'pending') {
        outcomes.push({
          deploymentId: deployment.id,
          kind: 'verifying',
          detail: verdict.windowEnd ? `${verdict.start.detail}; verifying until ${verdict.windowEnd.toISOString()}` : verdict.start.detail,
        });
        waiting.add(deployment.id);
      } else {
        verifiedEntries.set(deployment.id, { kind: 'merge', at: now.toISOString(), deploymentId: deployment.id, mergedAt: landedAt.toISOString(), outcome: 'verified' });
        // Counted when its verification passes, once: the next cycles find the same change verified again until a commit records it.
        options.metrics?.countSaving(`${deployment.id}@${landedAt.toISOString()}`, savingUsdPerMonth);
      }
    }
    const planOptions: PlanOptions = { ...options.plan, now, lastChanges, excluded: exclusions(declines, ledgers, now) };
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
    work.sort(
      (a, b) =>
        Number(b.proposal.kind === 'revert') - Number(a.proposal.kind === 'revert') ||
        (b.proposal.recommendation?.proposed?.improvementPct ?? 0) - (a.proposal.recommendation?.proposed?.improvementPct ?? 0),
    );
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

const describeForeign = (pull: PullRequest) =>
  `#${pull.number} on ${pull.headRef} was opened by ${pull.author ?? 'a deleted account'} from ${pull.headRepository ?? 'a deleted repository'}, not by the bot from this repository: the bot leaves it alone`;

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
    excluded: exclusionLines(deployment, state.ledgers.get(deployment.id) ?? [], state.declines, observation, state.now),
  };
}

/** The body, within GitHub's limit (the diffs shortened when it would not fit). */
function bodyOf(proposal: Proposal, context: BodyContext): string {
  const body = renderPullRequestBody(proposal, context);
  if (body.length <= MAX_BODY_CHARACTERS) return body;
  return renderPullRequestBody(proposal, { ...context, generatedDiff: context.generatedDiff.slice(0, 50), declarationDiff: context.declarationDiff.slice(0, 20_000) });
}

/** GitHub's auto-merge applies: the policy asks for it, the environment syncs by itself, and the change is a low-risk optimization (not a draft for a person). */
const automergeable = ({ proposal, deployment }: Work) =>
  deployment.policy.pullRequests.automerge && deployment.environment.sync === 'auto' && proposal.kind === 'optimize' && !proposal.draft && proposal.labels.includes('risk:low');

/** An answer to an SLO breach: a safety change, or the draft of one a person must decide. */
const isSafety = (proposal: Proposal) => proposal.recommendation?.rule === 'safety-slo-breach' || proposal.recommendation?.rule === 'needs-decision';

/** Whether the open pull request's proposal may be kept instead of `proposal`: both optimizations of the same rule (a safety answer always replaces a cost proposal). */
function hysteresisApplies(open: PullRequest, proposal: Proposal): boolean {
  const metadata = parseMetadata(open.body);
  return (
    metadata?.kind === 'optimize' && proposal.kind === 'optimize' && metadata.rule !== undefined && metadata.rule === proposal.recommendation?.rule && metadata.fingerprint !== proposal.fingerprint
  );
}

/**
 * Hysteresis: the open pull request stays as it is while the new recommendation stays in its neighbourhood (the
 * policy's tolerance, src/optimizer/neighbourhood.ts) and the evidence it was made on has not moved materially —
 * a recommendation moving within its own uncertainty does not rewrite a pull request under review. In words, or
 * undefined when the proposal must be rewritten.
 */
function withinHysteresis(open: PullRequest, proposal: Proposal, deployment: FleetDeployment): string | undefined {
  if (!hysteresisApplies(open, proposal)) return undefined;
  const metadata = parseMetadata(open.body)!;
  const tolerance = deployment.policy.neighbourhood;
  if (!inNeighbourhood(metadata.to, proposal.to, tolerance)) return undefined;
  if (!metadata.evidence || !proposal.evidence || materialChange(metadata.evidence, proposal.evidence, tolerance) !== undefined) return undefined;
  return `kept: the new recommendation (${changeWords(proposal.from, proposal.to)}) is within ${tolerance.tolerancePct} % or ${tolerance.toleranceUnits} of this one and its evidence moved less than ${tolerance.materialChangePct} %`;
}

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
  let open = pulls.own.find((pull) => pull.state === 'open' && pull.headRef === proposal.branch);
  const branch = await repository.inspect(proposal.branch, baseSha, proposal.fingerprint);
  if (github && open && branch.kind !== 'foreign' && (await replaceIfDraftChanged(github, pulls, open, proposal.draft ?? false))) open = undefined;
  const rebase = open !== undefined && (rebaseRequested(open.body) || state.rebase.has(open.number));

  if (branch.kind === 'foreign' && !rebase) {
    if (github && open) {
      const text = `${branch.authors.join(', ')} committed to \`${proposal.branch}\`, so the bot leaves this branch alone from now on: no more pushes or updates. To hand it back, check the box "regenerate this branch" in the description (your commits are then replaced by the bot's one), or comment \`/llmops rebase\`; close the pull request to decline it.`;
      await github.commentOnce(open.number, `${HANDS_OFF_MARKER}<!-- ${branch.firstForeign} -->`, text);
    }
    return outcome('hands-off', { pullRequest: open?.number, detail: `committed to by ${branch.authors.join(', ')}` });
  }
  // Reverts and answers to an SLO breach go before the policy's pull-request limits: everything else yields to safety.
  if (github && !open && proposal.kind !== 'revert' && !isSafety(proposal)) {
    const limit = withinLimits(deployment, pulls.own, fleet, now);
    if (limit) return outcome('limited', { detail: limit });
  }
  // Hysteresis: the branch still holds the open pull request's own proposal on the current base, and the new one is close to it.
  const steady = open && !rebase ? withinHysteresis(open, proposal, deployment) : undefined;
  if (steady && (await repository.inspect(proposal.branch, baseSha, parseMetadata(open!.body)!.fingerprint)).kind === 'current')
    return outcome('unchanged', { pullRequest: open!.number, detail: steady });

  // The commit the branch should hold, and whether it must be published.
  let head: string;
  let built: BuiltCommit | undefined;
  let why: string | undefined;
  // Without its pull request a branch is rebuilt: the new one gets fresh ledger lines (and the declines since).
  const keep = !rebase && open !== undefined;
  if (branch.kind === 'current' && keep) {
    head = branch.sha;
  } else {
    const ledgerText = appendLedger('', [...declineEntries(state.declines, deployment, state.ledgers.get(deployment.id) ?? [], now), ...proposal.ledger]);
    // A branch on an older base is rebuilt with the ledger lines it carries, so that "merges into what the bot would build" can be checked exactly.
    const carried = branch.kind === 'behind' && keep ? await repository.appendedLines(branch.sha, branch.parent, ledgerFile(deployment.id)) : undefined;
    try {
      built = await buildCommit(repository, baseSha, proposal, carried ?? ledgerText);
    } catch (error) {
      if (error instanceof BuildError || error instanceof DeclarationEditError || error instanceof SynthesisError)
        return outcome('failed', { detail: `${error.message}\nNothing was committed or pushed.` });
      throw error;
    }
    if (branch.kind === 'behind' && keep && carried !== undefined) {
      const merged = await repository.mergedTree(baseSha, branch.sha);
      if (merged === built.tree) {
        head = branch.sha;
        built = undefined;
      } else {
        why = merged === undefined ? 'it conflicted with the base branch' : 'merging the base branch into it would not give what the bot builds on the base (generated/ or the ledger would be stale)';
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
    if (labels)
      await github!.addLabels(
        open.number,
        proposal.labels.filter((label) => !open.labels.includes(label)),
      );
    const notes = await reviewAndMerge(options, state, work, open, head, false);
    const kept = branch.kind === 'behind' ? ['the base moved without conflict: the branch stays as it is'] : [];
    return outcome(title || labels || notes.length > 0 ? 'updated' : 'unchanged', { pullRequest: open.number, ...([...kept, ...notes].length > 0 ? { detail: [...kept, ...notes].join('; ') } : {}) });
  }

  const body = bodyOf(proposal, await bodyContext(options, state, work, built?.sha ?? head));
  if (!github) return outcome('local', { body, detail: `branch ${proposal.branch} at ${head.slice(0, 12)}` });

  if (!open) {
    const { pullRequest, created } = await github.createPullRequest({ branch: proposal.branch, base: repository.base, title: proposal.title, body, ...(proposal.draft ? { draft: true } : {}) });
    // Another run, or someone else, opened one for the branch first: only the bot's own is taken over.
    if (!created && !isOwnPullRequest(pullRequest, await github.login(), github.fullName)) return outcome('foreign', { pullRequest: pullRequest.number, detail: describeForeign(pullRequest) });
    if (!sameLabels(pullRequest.labels, proposal.labels))
      await github.addLabels(
        pullRequest.number,
        proposal.labels.filter((label) => !pullRequest.labels.includes(label)),
      );
    remember(pulls, { ...pullRequest, labels: [...new Set([...pullRequest.labels, ...proposal.labels])] });
    const notes = await reviewAndMerge(options, state, work, pullRequest, head, created);
    const detail = [...commitNote, ...notes].join('; ');
    return outcome(created ? 'opened' : 'updated', { pullRequest: pullRequest.number, ...(detail ? { detail } : {}) });
  }
  const changes = { ...(open.title !== proposal.title ? { title: proposal.title } : {}), ...(open.body !== body ? { body } : {}) };
  if (Object.keys(changes).length > 0) await github.updatePullRequest(open.number, changes);
  if (!sameLabels(open.labels, proposal.labels))
    await github.addLabels(
      open.number,
      proposal.labels.filter((label) => !open.labels.includes(label)),
    );
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
    const dashboards = github ? await findDashboards(github) : [];

    // What people asked for since the last run, before anything is planned.
    let commands: Awaited<ReturnType<typeof obeyCommands>> = { rebase: new Set(), later: [], answered: [] };
    if (github) {
      commands = await obeyCommands(github, pulls, now, log);
      await liftRetries(github, pulls, dashboards[0]?.body, log);
    }
    const declines = declinesOf(pulls.own);
    const planned = await planFromBase(options, baseSha, now, declines);
    if (planned.problem || !planned.fleet) {
      log(`${planned.problem}\nNo pull requests this cycle.`);
      result = 'failure';
      return { baseSha, outcomes: [], stopped: planned.problem };
    }
    // A person's stop holds a safety action back: said loudly, in the log, the metric and (below) the dashboard.
    options.metrics?.safetyActionsBlocked.reset();
    for (const blocked of blockedSafetyActions(planned.fleet, planned.recommendations)) {
      log(`${blocked.deploymentId}: SAFETY ACTION BLOCKED by ${blocked.rule}: ${blocked.detail}`);
      options.metrics?.safetyActionsBlocked.set({ deployment: blocked.deploymentId, rule: blocked.rule }, 1);
    }
    const fleetOf = (id: string) => planned.fleet!.deployments.find((deployment) => deployment.id === id);
    if (github) outcomes.push(...(await noteDeclines(github, pulls, fleetOf, now)).map((noted): DeploymentOutcome => ({ ...noted, kind: 'declined' })));
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
      const planState = { ...state, recommendations: planned.recommendations, waiting: planned.waiting };
      const closed = await closeStale(github, repository, planState, handled);
      outcomes.push(...closed.map((item): DeploymentOutcome => ({ ...item, kind: 'closed', proposal: 'optimize' })));
      for (const item of closed) log(`${item.deploymentId}: closed #${item.pullRequest} (${item.detail})`);
      await answerAfterPlan(github, planState, commands.later);
      const text = renderDashboard(
        dashboardStateOf({ fleet: state.fleet, pulls: pulls.own, now, recommendations: planned.recommendations, ledgers: planned.ledgers, judged: planned.judged, outcomes }),
      );
      written = await writeDashboard(github, dashboards, text);
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
