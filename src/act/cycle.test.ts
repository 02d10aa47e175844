import { beforeEach, describe, expect, it } from 'vitest';
import type { Fleet } from '../fleet/fleet.ts';
import { planFleet, type PlanOptions } from '../optimizer/plan.ts';
import type { Recommendation } from '../optimizer/recommendation.ts';
import { PrometheusClient } from '../prometheus/client.ts';
import { git } from '../testing/bot-harness.ts';
import { botWorldPerTest } from '../testing/bot-world-per-test.ts';
import { runCli } from '../testing/fixture-fleet.ts';
import { FAILING_PRODUCTION_8B, lastWednesdayAfternoon } from '../testing/plan-harness.ts';
import { HANDS_OFF_MARKER, runCycle, type CycleOptions } from './cycle.ts';
import { parseLedger } from './ledger.ts';
import { OptimizerMetrics } from './metrics.ts';
import { parseMetadata } from './pull-request-body.ts';

const END = lastWednesdayAfternoon();
/** Proposals are made an hour before END; the hour after the merge is the verification window. */
const PROPOSE_AT = new Date(END.getTime() - 60 * 60_000);
const BRANCH = 'llmops/production/llama-3-1-8b-instruct';
const ID = 'production/llama-3-1-8b-instruct';

let standInNow = PROPOSE_AT;
const current = botWorldPerTest(FAILING_PRODUCTION_8B, END, '', () => standInNow);
beforeEach(() => {
  standInNow = PROPOSE_AT;
});

async function cycle(overrides: Partial<CycleOptions> = {}, clone?: string) {
  const root = clone ?? (await current.world.botClone());
  return runCycle({ repository: current.world.repository(root), github: current.world.client(), prometheus: new PrometheusClient(current.prometheus.url), now: PROPOSE_AT, ...overrides });
}

const remoteBranch = async () => (await git(current.world.bare, 'for-each-ref', '--format=%(objectname)', `refs/heads/${BRANCH}`)).trim();
const openPulls = () => current.world.github.pulls.filter((pull) => pull.state === 'open' && pull.head === BRANCH);

describe('llmops optimize against the GitHub stand-in', () => {
  it('opens one pull request with one bot commit that edits only the declaration, generated/ and the ledger', async () => {
    // Act
    const report = await cycle();

    // Assert
    expect(report.outcomes).toEqual([expect.objectContaining({ deploymentId: ID, kind: 'opened', pullRequest: 1 })]);
    expect(current.world.github.contractViolations).toEqual([]);
    const [pull] = openPulls();
    expect(pull!.labels).toEqual(['llmops', 'production', 'risk:low']);
    // The change and its monthly effect, not the target state.
    expect(pull!.title).toMatch(/^Scale production\/llama-3-1-8b-instruct 2–8 → 1–\d+ replicas \(−\d+ USD\/month\)$/);
    expect(pull!.body).toContain('| Replicas (min–max) | 2–8 | 1–');
    const chart = /```mermaid\nquadrantChart\n([\s\S]*?)```/.exec(pull!.body)![1]!.trim().split('\n');
    const points = chart.filter((line) => !/^\s*(title|x-axis|y-axis) /.test(line));
    expect(points.length).toBeGreaterThanOrEqual(2);
    // Mermaid's grammar: unquoted labels of letters, digits and spaces; coordinates 0–1.
    for (const point of points) expect(point).toMatch(/^ {4}[A-Za-z0-9 ]+: \[0\.\d{3}, 0\.\d{3}\]( radius: 8 color: #[0-9a-f]{6})?$/);
    expect(points.some((point) => point.startsWith('    proposed: '))).toBe(true);
    expect(pull!.body).toContain('| 1 | 1 % | 15 min | yes |');
    expect(pull!.body).toMatch(/<summary>generated\/ changes: \d+ file\(s\)/);
    expect(parseMetadata(pull!.body)).toMatchObject({ deploymentId: ID, kind: 'optimize' });

    // One commit, made through the Git Data API by the bot's account (no custom author: GitHub signs it).
    const log = await git(current.world.bare, 'log', '--format=%H|%an <%ae>|%s', `main..${BRANCH}`);
    const [sha, author, subject] = log.trim().split('|');
    expect(log.trim().split('\n')).toHaveLength(1);
    expect([author, subject]).toEqual([`llmops-bot <${current.world.github.noreplyEmail('llmops-bot')}>`, pull!.title]);
    expect(current.world.github.apiCommits.get(sha!)).toEqual({ verified: true, author: `llmops-bot <${current.world.github.noreplyEmail('llmops-bot')}>` });
    expect(await git(current.world.bare, 'merge-base', 'main', BRANCH)).toBe(await git(current.world.bare, 'rev-parse', 'main'));
    const files = (await git(current.world.bare, 'diff', '--name-only', 'main', BRANCH)).trim().split('\n');
    expect(files.filter((file) => !file.startsWith('generated/production/'))).toEqual(['environments/production.ts', 'generated/optimizer/ledger/production/llama-3-1-8b-instruct.jsonl']);
    const declarationDiff = await git(current.world.bare, 'diff', '--unified=0', 'main', BRANCH, '--', 'environments/production.ts');
    expect(declarationDiff.split('\n').filter((line) => /^[-+] /.test(line))).toEqual(['-      replicas: { min: 2, max: 8 },', expect.stringMatching(/^\+ {6}replicas: \{ min: 1, max: \d+ \},$/)]);
    const ledger = parseLedger('ledger', await git(current.world.bare, 'show', `${BRANCH}:generated/optimizer/ledger/${ID}.jsonl`));
    expect(ledger.map((entry) => entry.kind)).toEqual(['decision', 'proposal']);

    // The branch is what `llmops synth --check` accepts.
    const checkout = await current.world.botClone();
    await git(checkout, 'checkout', '--quiet', BRANCH);
    expect((await runCli(['synth', '--check', '--root', checkout])).exitCode).toBe(0);
  }, 120_000);

  it('makes no API writes and no push when run again with the same recommendation', async () => {
    await cycle();
    const [writes, sha] = [current.world.github.writes.length, await remoteBranch()];

    const report = await cycle();

    expect(report.outcomes).toEqual([expect.objectContaining({ kind: 'unchanged', pullRequest: 1 })]);
    expect(current.world.github.writes.length).toBe(writes);
    expect(await remoteBranch()).toBe(sha);
  }, 120_000);

  it('says updated, not unchanged, when it only put back a label someone removed', async () => {
    await cycle();
    current.world.github.pulls[0]!.labels = ['llmops', 'production'];

    const report = await cycle();

    expect(report.outcomes).toEqual([expect.objectContaining({ kind: 'updated', pullRequest: 1 })]);
    expect(current.world.github.pulls[0]!.labels).toEqual(['llmops', 'production', 'risk:low']);
  }, 120_000);

  /** The planner, with the recommendation for the 8B moved to `replicas`. */
  const movedTo = (replicas: { min: number; max: number }) => async (fleet: Fleet, options: PlanOptions) =>
    (await planFleet(fleet, new PrometheusClient(current.prometheus.url), options)).map(
      (recommendation): Recommendation =>
        recommendation.deploymentId === ID
          ? {
              ...recommendation,
              change: { ...recommendation.change, replicas },
              proposed: { ...recommendation.proposed!, configuration: { ...recommendation.proposed!.configuration, replicasMin: replicas.min, replicasMax: replicas.max } },
            }
          : recommendation,
    );

  it('regenerates the branch and updates the one pull request when the recommendation leaves its neighbourhood', async () => {
    await cycle();
    const first = await remoteBranch();

    const report = await cycle({ planner: movedTo({ min: 3, max: 5 }) });

    expect(report.outcomes).toEqual([expect.objectContaining({ kind: 'updated', pullRequest: 1 })]);
    expect(openPulls()).toHaveLength(1);
    expect(openPulls()[0]!.title).toContain('2–8 → 3–5 replicas');
    expect(await remoteBranch()).not.toBe(first);
    expect(await git(current.world.bare, 'rev-list', '--count', `main..${BRANCH}`)).toBe('1\n');
    expect(current.world.github.contractViolations).toEqual([]);
  }, 120_000);

  it('keeps the open pull request as it is while the recommendation moves within its neighbourhood on the same evidence (hysteresis)', async () => {
    await cycle();
    const [first, writes, title] = [await remoteBranch(), current.world.github.writes.length, openPulls()[0]!.title];
    const [, max] = /→ 1–(\d+) replicas/.exec(title)!;

    const report = await cycle({ planner: movedTo({ min: 1, max: Number(max) + 1 }) });

    expect(report.outcomes).toEqual([
      expect.objectContaining({
        kind: 'unchanged',
        pullRequest: 1,
        detail: expect.stringMatching(/^kept: the new recommendation \(2–8 → 1–\d+ replicas\) is within 25 % or 1 of this one and its evidence moved less than 50 %$/),
      }),
    ]);
    expect(openPulls()[0]!.title).toBe(title);
    expect(await remoteBranch()).toBe(first);
    expect(current.world.github.writes.length).toBe(writes);
  }, 120_000);

  it('leaves a branch alone, with one comment, once a person has committed to it', async () => {
    await cycle();
    await git(current.world.human, 'fetch', '--quiet');
    await git(current.world.human, 'checkout', '--quiet', BRANCH);
    await git(current.world.human, 'commit', '--quiet', '--allow-empty', '-m', 'Keep max at 8 please');
    await git(current.world.human, 'push', '--quiet', 'origin', BRANCH);
    const sha = await remoteBranch();

    const first = await cycle();
    const second = await cycle();

    expect(first.outcomes).toEqual([expect.objectContaining({ kind: 'hands-off', pullRequest: 1 })]);
    expect(second.outcomes).toEqual([expect.objectContaining({ kind: 'hands-off' })]);
    expect(current.world.github.comments.filter((comment) => comment.body.startsWith(HANDS_OFF_MARKER))).toHaveLength(1);
    expect(await remoteBranch()).toBe(sha);
  }, 120_000);

  it('opens exactly one pull request when five runs start at once', async () => {
    const clones = await Promise.all([1, 2, 3, 4, 5].map(() => current.world.botClone()));

    const reports = await Promise.all(clones.map((clone) => cycle({}, clone)));

    expect(current.world.github.pulls).toHaveLength(1);
    expect(await git(current.world.bare, 'rev-list', '--count', `main..${BRANCH}`)).toBe('1\n');
    const kinds = reports.flatMap((report) => report.outcomes.map((outcome) => outcome.kind));
    expect(kinds.filter((kind) => kind === 'opened')).toHaveLength(1);
    expect(current.world.github.issues.filter((issue) => issue.state === 'open').map((issue) => issue.title)).toEqual(['llmops dashboard']);
    expect(
      kinds.filter((kind) => !['opened', 'updated', 'unchanged', 'lost-race'].includes(kind)),
      JSON.stringify(reports.flatMap((report) => report.outcomes)),
    ).toEqual([]);
    expect(current.world.github.contractViolations).toEqual([]);
  }, 180_000);

  it('waits out a secondary rate limit, a 502 and a slow response, then succeeds', async () => {
    current.world.github.inject({ status: 403, retryAfterSeconds: 1, method: 'POST' });
    current.world.github.inject({ status: 502, method: 'GET' });
    current.world.github.inject({ delayMs: 6000, method: 'POST' });

    const report = await cycle();

    expect(report.outcomes).toEqual([expect.objectContaining({ kind: expect.stringMatching(/^(opened|updated)$/) })]);
    expect(current.world.github.pulls).toHaveLength(1);
    expect(current.world.github.requests.filter((request) => request.status === 403 || request.status === 502)).toHaveLength(2);
  }, 120_000);

  it('stops the cycle cleanly when GitHub asks for a longer wait than allowed', async () => {
    current.world.github.inject({ status: 429, retryAfterSeconds: 3600, method: 'GET' });
    const metrics = new OptimizerMetrics();

    const report = await runCycle({
      repository: current.world.repository(await current.world.botClone()),
      github: current.world.client({ maxRateLimitWaitSeconds: 60 }),
      prometheus: new PrometheusClient(current.prometheus.url),
      now: PROPOSE_AT,
      metrics,
    });

    expect(report.stopped).toMatch(/secondary rate limit on GET .*wait 3600 s/);
    expect(current.world.github.pulls).toHaveLength(0);
    expect(await remoteBranch()).toBe('');
    expect(await metrics.registry.getSingleMetricAsString('optimizer_attempts_total')).toContain('optimizer_attempts_total{result="rate_limited"} 1');
  }, 120_000);

  it("holds a new pull request back when the policy's hourly limit is used up", async () => {
    const lastHour = new Date(PROPOSE_AT.getTime() - 10 * 60_000).toISOString();
    current.world.github.pulls.push({
      number: 41,
      title: 'Optimize production/qwen2-5-7b-instruct',
      body: '',
      head: 'llmops/production/qwen2-5-7b-instruct',
      base: 'main',
      state: 'closed',
      labels: ['llmops'],
      createdAt: lastHour,
      updatedAt: lastHour,
      mergedAt: lastHour,
    });

    const report = await cycle();

    expect(report.outcomes).toEqual([expect.objectContaining({ kind: 'limited', detail: 'policy conservative allows 1 new pull request(s) per hour (1 in the last hour)' })]);
    expect(await remoteBranch()).toBe('');
  }, 120_000);

  it('pushes nothing and opens nothing when the edited declarations do not validate', async () => {
    const broken = async (fleet: Fleet, options: PlanOptions) =>
      (await planFleet(fleet, new PrometheusClient(current.prometheus.url), options)).map(
        (recommendation): Recommendation => (recommendation.deploymentId === ID ? { ...recommendation, change: { gpu: { type: 'nvidia-t4', count: 1 } } } : recommendation),
      );

    const report = await cycle({ planner: broken });

    expect(report.outcomes).toEqual([expect.objectContaining({ kind: 'failed', detail: expect.stringContaining('environments/production.ts') })]);
    expect(report.outcomes[0]!.detail).toContain('Nothing was committed or pushed.');
    expect(await remoteBranch()).toBe('');
    expect(current.world.github.pulls).toHaveLength(0);
  }, 120_000);

  it("opens a revert pull request with the evidence when the merged change's canary aborts and errors break the SLO, and records it in the ledger", async () => {
    await cycle();
    await current.world.github.merge(1);
    const metrics = new OptimizerMetrics();
    standInNow = END;

    const report = await cycle({ now: END, metrics });

    expect(report.outcomes).toEqual([expect.objectContaining({ deploymentId: ID, kind: 'opened', proposal: 'revert' })]);
    const revert = current.world.github.pulls.find((pull) => pull.number === report.outcomes[0]!.pullRequest)!;
    expect(revert.labels).toEqual(['llmops', 'production', 'rollback']);
    expect(revert.title).toMatch(/^Revert production\/llama-3-1-8b-instruct 1–\d+ → 2–8 replicas: the merged change failed verification$/);
    // Without Argo CD's metrics in Prometheus the window starts at the merge, and the body says so.
    expect(revert.body).toContain('Prometheus has no argocd_app_info for the Argo CD Application llmops-production');
    expect(revert.body).toMatch(/- error ratio \d\.\d\d % > 1\.00 %/);
    const declarationDiff = await git(current.world.bare, 'diff', '--unified=0', 'main', BRANCH, '--', 'environments/production.ts');
    expect(declarationDiff).toContain('+      replicas: { min: 2, max: 8 },');
    const ledger = parseLedger('ledger', await git(current.world.bare, 'show', `${BRANCH}:generated/optimizer/ledger/${ID}.jsonl`));
    expect(ledger.map((entry) => entry.kind)).toEqual(['decision', 'proposal', 'merge', 'rollback']);
    expect(ledger[2]).toMatchObject({ outcome: 'failed', mergedAt: PROPOSE_AT.toISOString() });
    expect(await metrics.registry.getSingleMetricAsString('optimizer_rollbacks_total')).toContain('optimizer_rollbacks_total 1');
    expect(current.world.github.contractViolations).toEqual([]);
  }, 180_000);
});
