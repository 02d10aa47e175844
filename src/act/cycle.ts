/**
 * One bot cycle: read the base branch, verify merged changes, plan, and turn
 * each proposal into (at most) one branch and one pull request. Each
 * deployment is one unit of work — edit, synth, commit, push, pull request —
 * and a stop request (SIGTERM) is honoured only between units, so a cycle
 * never leaves a branch pushed without its pull request.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { formatIssue } from '../declarations/issues.ts';
import type { Fleet, FleetDeployment } from '../fleet/fleet.ts';
import { loadFleet } from '../fleet/load.ts';
import type { Configuration } from '../optimizer/predict.ts';
import { planFleet, type PlanOptions } from '../optimizer/plan.ts';
import type { Recommendation } from '../optimizer/recommendation.ts';
import type { PrometheusClient } from '../prometheus/client.ts';
import { synthesize } from '../synth/steps.ts';
import { SynthesisError } from '../synth/synthesizer.ts';
import { writeTreeAtomically } from '../synth/write.ts';
import { BOT_BRANCH_PREFIX, type BotRepository, type BuiltCommit } from './bot-repository.ts';
import { applyDeclarationChange, DeclarationEditError } from './edit-declaration.ts';
import { RateLimitedError, type GitHubRepository, type PullRequest } from './github.ts';
import { appendLedger, deploymentHistory, ledgerFile, LedgerError, parseLedger, type LedgerEntry } from './ledger.ts';
import type { OptimizerMetrics } from './metrics.ts';
import { optimizationProposal, revertProposal, type Proposal } from './proposal.ts';
import { MAX_BODY_CHARACTERS, parseMetadata, renderPullRequestBody } from './pull-request-body.ts';
import { isOwnPullRequest } from './trust.ts';
import { verifyMerge } from './verify.ts';

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
}

export type OutcomeKind = 'opened' | 'updated' | 'unchanged' | 'local' | 'hands-off' | 'foreign' | 'declined' | 'limited' | 'lost-race' | 'failed' | 'verifying';

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
}

/** A proposal and the deployment it changes. */
interface Work {
  readonly proposal: Proposal;
  readonly deployment: FleetDeployment;
}

const changeTypes = (proposal: Proposal): string[] =>
  proposal.kind === 'revert'
    ? ['revert']
    : [proposal.change.replicas ? 'replicas' : '', proposal.change.gpu ? 'gpu' : '', proposal.change.engineArgs || proposal.change.removeEngineArgs ? 'engine_args' : ''].filter(Boolean);

/** Reads the base branch: the fleet, every deployment's ledger history, verdicts on merged changes, and the plan. */
async function planFromBase(options: CycleOptions, baseSha: string, now: Date): Promise<{ work: Work[]; outcomes: DeploymentOutcome[]; fleet?: Fleet; problem?: string }> {
  const { repository } = options;
  return repository.withWorktree(baseSha, async (root) => {
    const loaded = await loadFleet(root);
    if (!loaded.ok) return { work: [], outcomes: [], problem: `the base branch does not validate:\n${loaded.issues.map(formatIssue).join('\n')}` };
    const fleet = loaded.fleet;
    const work: Work[] = [];
    const outcomes: DeploymentOutcome[] = [];
    const lastChanges = new Map<string, Date>();
    const rejected = new Map<string, Configuration[]>();
    const verifiedEntries = new Map<string, LedgerEntry>();
    const waiting = new Set<string>();
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
      const landedAt = entries.length > 0 ? await repository.landedAt(baseSha, file) : undefined;
      const history = deploymentHistory(entries, landedAt, now, deployment.policy.limits.cooldownMinutes);
      if (history.lastChangeAt) lastChanges.set(deployment.id, history.lastChangeAt);
      rejected.set(deployment.id, history.rejected as Configuration[]);
      if (!history.unverified || !landedAt) continue;
      const verdict = await verifyMerge(options.prometheus, deployment, landedAt, now);
      if (verdict.status === 'failed') {
        work.push({ deployment, proposal: revertProposal(deployment, history.unverified.from as Configuration, landedAt, verdict, now, repository.identity.secret) });
        waiting.add(deployment.id);
      } else if (verdict.status === 'pending') {
        outcomes.push({ deploymentId: deployment.id, kind: 'verifying', detail: `merged ${landedAt.toISOString()}; verifying until ${verdict.windowEnd.toISOString()}` });
        waiting.add(deployment.id);
      } else {
        verifiedEntries.set(deployment.id, { kind: 'merge', at: now.toISOString(), deploymentId: deployment.id, mergedAt: landedAt.toISOString(), outcome: 'verified' });
        options.metrics?.costSaved.inc(Math.max(0, (history.unverified.costPerHourUsd.current - history.unverified.costPerHourUsd.proposed) * 730));
      }
    }
    const planOptions: PlanOptions = { ...options.plan, now, lastChanges, rejected };
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
    return { work, outcomes, fleet };
  });
}

/** Edits the declaration, appends the ledger, synthesizes generated/ and commits — all in a worktree at the base. */
async function buildCommit(repository: BotRepository, baseSha: string, proposal: Proposal): Promise<BuiltCommit> {
  return repository.withWorktree(baseSha, async (root, git) => {
    const source = path.join(root, proposal.sourceFile);
    await writeFile(source, applyDeclarationChange(proposal.sourceFile, await readFile(source, 'utf8'), proposal.model, proposal.change));
    const ledger = path.join(root, ledgerFile(proposal.deploymentId));
    const loaded = await loadFleet(root);
    if (!loaded.ok) throw new BuildError(`the edited declarations do not validate:\n${loaded.issues.map(formatIssue).join('\n')}`);
    await writeTreeAtomically(root, synthesize(loaded.fleet));
    await mkdir(path.dirname(ledger), { recursive: true });
    await writeFile(ledger, appendLedger(await readFile(ledger, 'utf8').catch(() => ''), proposal.ledger));
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
  /** The bot's own (its metadata, fingerprints and limits come from these only); new ones are added as they open. */
  readonly own: PullRequest[];
  readonly foreign: readonly PullRequest[];
}

/** One deployment's unit of work. */
async function act(options: CycleOptions, baseSha: string, fleet: Fleet, { own: pulls, foreign }: PullRequests, { proposal, deployment }: Work, now: Date): Promise<DeploymentOutcome> {
  const { repository, github } = options;
  const outcome = (kind: OutcomeKind, extra: Partial<DeploymentOutcome> = {}): DeploymentOutcome => ({ deploymentId: proposal.deploymentId, kind, proposal: proposal.kind, ...extra });
  // GitHub allows one open pull request per branch of this repository: someone else's on the bot's branch takes it over. One from a fork does not.
  const someoneElses = github && foreign.find((pull) => pull.state === 'open' && pull.headRef === proposal.branch && pull.headRepository?.toLowerCase() === github.fullName.toLowerCase());
  if (someoneElses) return outcome('foreign', { pullRequest: someoneElses.number, detail: describeForeign(someoneElses) });
  const state = await repository.inspect(proposal.branch, baseSha, proposal.fingerprint);
  const open = pulls.find((pull) => pull.state === 'open' && pull.headRef === proposal.branch);

  if (state.kind === 'foreign') {
    if (github && open) {
      const text = `${state.authors.join(', ')} committed to \`${proposal.branch}\`, so the bot leaves this branch alone from now on: no more force pushes or updates. Close the pull request or delete the branch to hand it back.`;
      await github.commentOnce(open.number, HANDS_OFF_MARKER, text);
    }
    return outcome('hands-off', { pullRequest: open?.number, detail: `committed to by ${state.authors.join(', ')}` });
  }
  const declined = pulls.find((pull) => pull.state === 'closed' && !pull.mergedAt && pull.headRef === proposal.branch && parseMetadata(pull.body)?.fingerprint === proposal.fingerprint);
  if (github && declined && !open) return outcome('declined', { pullRequest: declined.number, detail: 'a reviewer closed this exact proposal' });

  if (github && !open && proposal.kind !== 'revert') {
    const limit = withinLimits(deployment, pulls, fleet, now);
    if (limit) return outcome('limited', { detail: limit });
  }

  let sha: string;
  let generatedDiff: BuiltCommit['generatedDiff'];
  if (state.kind === 'current') {
    sha = state.sha;
    generatedDiff = await repository.generatedDiff(baseSha, sha);
    if (open && sameLabels(open.labels, proposal.labels)) return outcome('unchanged', { pullRequest: open.number });
  } else {
    try {
      ({ sha, generatedDiff } = await buildCommit(repository, baseSha, proposal));
    } catch (error) {
      if (error instanceof BuildError || error instanceof DeclarationEditError || error instanceof SynthesisError) return outcome('failed', { detail: `${error.message}\nNothing was committed or pushed.` });
      throw error;
    }
    if (!(await repository.publish(proposal.branch, sha, state.kind === 'absent' ? undefined : state.sha))) {
      return outcome('lost-race', { detail: `${proposal.branch} moved while this run built it; the run that moved it owns it` });
    }
    for (const type of changeTypes(proposal)) options.metrics?.configChanges.inc({ type });
    if (proposal.kind === 'revert') options.metrics?.rollbacks.inc();
  }

  let body = renderPullRequestBody(proposal, generatedDiff);
  if (body.length > MAX_BODY_CHARACTERS) body = renderPullRequestBody(proposal, generatedDiff.slice(0, 50));
  if (!github) return outcome('local', { body, detail: `branch ${proposal.branch} at ${sha.slice(0, 12)}` });

  const { base } = repository;
  if (!open) {
    const { pullRequest, created } = await github.createPullRequest({ branch: proposal.branch, base, title: proposal.title, body });
    // Another run, or someone else, opened one for the branch first: only the bot's own is taken over.
    if (!created && !isOwnPullRequest(pullRequest, await github.login(), github.fullName)) return outcome('foreign', { pullRequest: pullRequest.number, detail: describeForeign(pullRequest) });
    if (!sameLabels(pullRequest.labels, proposal.labels)) await github.addLabels(pullRequest.number, proposal.labels.filter((label) => !pullRequest.labels.includes(label)));
    pulls.push(pullRequest);
    return outcome(created ? 'opened' : 'updated', { pullRequest: pullRequest.number });
  }
  const changes = { ...(open.title !== proposal.title ? { title: proposal.title } : {}), ...(state.kind !== 'current' && open.body !== body ? { body } : {}) };
  if (Object.keys(changes).length > 0) await github.updatePullRequest(open.number, changes);
  const labelsAdded = !sameLabels(open.labels, proposal.labels);
  if (labelsAdded) await github.addLabels(open.number, proposal.labels.filter((label) => !open.labels.includes(label)));
  return outcome(Object.keys(changes).length > 0 || labelsAdded || state.kind !== 'current' ? 'updated' : 'unchanged', { pullRequest: open.number });
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
    const planned = await planFromBase(options, baseSha, now);
    if (planned.problem || !planned.fleet) {
      log(`${planned.problem}\nNo pull requests this cycle.`);
      result = 'failure';
      return { baseSha, outcomes: [], stopped: planned.problem };
    }
    outcomes.push(...planned.outcomes);
    for (const skipped of planned.outcomes.filter((outcome) => outcome.kind === 'failed')) log(`${skipped.deploymentId}: failed: ${skipped.detail}`);
    const pulls = github ? await ownAndForeign(github, log) : { own: [], foreign: [] };
    for (const work of planned.work) {
      if (options.signal?.aborted) {
        result = 'stopped';
        log(`stop requested: ${planned.work.length - (outcomes.length - planned.outcomes.length)} deployment(s) left for the next cycle`);
        return { baseSha, outcomes, stopped: 'stop requested' };
      }
      log(`${work.proposal.deploymentId}: ${work.proposal.kind} on ${work.proposal.branch}`);
      try {
        const done = await act(options, baseSha, planned.fleet, pulls, work, now);
        outcomes.push(done);
        log(`${done.deploymentId}: ${done.kind}${done.pullRequest ? ` #${done.pullRequest}` : ''}${done.detail ? ` (${done.detail})` : ''}`);
      } catch (error) {
        if (error instanceof RateLimitedError) throw error;
        outcomes.push({ deploymentId: work.proposal.deploymentId, kind: 'failed', proposal: work.proposal.kind, detail: error instanceof Error ? error.message : String(error) });
        log(`${work.proposal.deploymentId}: failed: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    if (outcomes.some((outcome) => outcome.kind === 'failed')) result = 'failure';
    return { baseSha, outcomes, foreign: pulls.foreign.filter((pull) => pull.state === 'open') };
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
