/**
 * The bot's Renovate-like lifecycle against the GitHub stand-in and real git:
 * a base that moves without conflict pushes nothing, a conflict rebuilds, a
 * proposal whose evidence is gone is closed with a comment, a declined one
 * keeps its neighbourhood out until the evidence moves, an edited branch is
 * left alone until its checkbox hands it back, the dashboard, and comment
 * commands.
 */
import { describe, expect, it } from 'vitest';
import type { Fleet } from '../fleet/fleet.ts';
import { inNeighbourhood } from '../optimizer/neighbourhood.ts';
import type { Observation } from '../optimizer/observe.ts';
import { planFleet, type PlanOptions } from '../optimizer/plan.ts';
import type { Recommendation } from '../optimizer/recommendation.ts';
import { PrometheusClient } from '../prometheus/client.ts';
import { DANA, git, MALLORY } from '../testing/bot-harness.ts';
import { botWorldPerTest } from '../testing/bot-world-per-test.ts';
import { editFile } from '../testing/fixture-fleet.ts';
import { lastWednesdayAfternoon, steadyScenario } from '../testing/plan-harness.ts';
import { answerMarker } from './commands.ts';
import { HANDS_OFF_MARKER, runCycle, type CycleOptions } from './cycle.ts';
import { CLOSED_MARKER, DECLINED_MARKER } from './lifecycle.ts';
import { DASHBOARD_TITLE } from './dashboard.ts';
import { parseLedger } from './ledger.ts';
import { parseMetadata } from './pull-request-body.ts';

const AT = new Date(lastWednesdayAfternoon().getTime() - 60 * 60_000);
const BRANCH = 'llmops/production/llama-3-1-8b-instruct';
const ID = 'production/llama-3-1-8b-instruct';
const current = botWorldPerTest(steadyScenario([ID], 5), AT);

const world = () => current.world;
const cycle = async (overrides: Partial<CycleOptions> = {}) =>
  runCycle({ repository: world().repository(await world().botClone()), github: world().client(), prometheus: new PrometheusClient(current.prometheus.url), now: AT, ...overrides });
const remoteBranch = async () => (await git(world().bare, 'for-each-ref', '--format=%(objectname)', `refs/heads/${BRANCH}`)).trim();
const pull = (number: number) => world().github.pulls.find((candidate) => candidate.number === number)!;
const commentsOn = (number: number) => world().github.comments.filter((comment) => comment.issue === number);
const dashboards = () => world().github.issues.filter((issue) => issue.title === DASHBOARD_TITLE);
/** Makes the stand-in's pull requests look an hour older, so the policy's hourly limit does not hold a new one back. */
const anHourAgo = () =>
  world().github.pulls.forEach((candidate) => {
    candidate.createdAt = new Date(AT.getTime() - 2 * 3_600_000).toISOString();
  });

/** A person's commit on main, pushed. */
async function onMain(message: string, edit?: (clone: string) => Promise<void>): Promise<void> {
  const clone = world().human;
  await git(clone, 'checkout', '--quiet', 'main');
  await git(clone, 'pull', '--quiet', '--ff-only');
  if (edit) await edit(clone);
  await git(clone, 'commit', '--quiet', '--all', '--allow-empty', '-m', message);
  await git(clone, 'push', '--quiet', 'origin', 'main');
}

/** The real planner, with what it was asked recorded. */
function recordingPlanner() {
  const calls: { fleet: Fleet; options: PlanOptions; recommendations: Recommendation[] }[] = [];
  const planner = async (fleet: Fleet, options: PlanOptions) => {
    const recommendations = await planFleet(fleet, new PrometheusClient(current.prometheus.url), options);
    calls.push({ fleet, options, recommendations });
    return recommendations;
  };
  /** The exclusion the last plan applied to the 8B, evaluated on what it observed. */
  const exclusionOf8B = () => {
    const { fleet, options, recommendations } = calls[calls.length - 1]!;
    const deployment = fleet.deployments.find((candidate) => candidate.id === ID)!;
    return options.excluded?.(deployment, recommendations.find((recommendation) => recommendation.deploymentId === ID)!.observed as Observation);
  };
  return { planner, calls, exclusionOf8B };
}

describe('rebasing only when it is needed', () => {
  it('pushes nothing when main moves without touching the proposal', async () => {
    await cycle();
    const [sha, writes] = [await remoteBranch(), world().github.writes.length];
    await onMain('Unrelated change on main');

    const report = await cycle();

    expect(report.outcomes).toEqual([expect.objectContaining({ deploymentId: ID, kind: 'unchanged', pullRequest: 1, detail: 'the base moved without conflict: the branch stays as it is' })]);
    expect(await remoteBranch()).toBe(sha);
    expect(world().github.writes.length).toBe(writes);
  }, 120_000);

  it('rebuilds the branch on main when main changed the lines it edits', async () => {
    await cycle();
    const sha = await remoteBranch();
    // A comment right above the line the bot edits: git cannot merge the two.
    await onMain('Note on the 8B', (clone) =>
      editFile(
        clone,
        'environments/production.ts',
        '      expectedRequestsPerMinute: 600,\n      replicas: { min: 2, max: 8 },',
        '      expectedRequestsPerMinute: 600,\n      // Reviewed by Dana.\n      replicas: { min: 2, max: 8 },',
      ),
    );

    const report = await cycle();

    expect(report.outcomes).toEqual([expect.objectContaining({ kind: 'updated', pullRequest: 1, detail: expect.stringContaining('regenerated: it conflicted with the base branch') })]);
    expect(await remoteBranch()).not.toBe(sha);
    expect((await git(world().bare, 'rev-parse', `${BRANCH}^`)).trim()).toBe((await git(world().bare, 'rev-parse', 'main')).trim());
    expect(await git(world().bare, 'show', `${BRANCH}:environments/production.ts`)).toContain('      // Reviewed by Dana.\n      replicas: { min: 1,');
    expect(world().github.pulls).toHaveLength(1);
    expect(world().github.contractViolations).toEqual([]);
  }, 120_000);
});

describe('closing what no longer holds', () => {
  it('closes a proposal whose evidence is gone, with a comment, and proposes again later without counting it as declined', async () => {
    await cycle();
    const evidenceGone = async (fleet: Fleet, options: PlanOptions) =>
      (await planFleet(fleet, new PrometheusClient(current.prometheus.url), options)).map(
        (recommendation): Recommendation =>
          recommendation.deploymentId === ID
            ? {
                ...recommendation,
                action: 'none',
                rule: 'no-better-configuration',
                reason: 'no change: no configuration beats the current one by 15 % (best 3.1 %)',
                change: undefined,
                proposed: undefined,
              }
            : recommendation,
      );

    const closing = await cycle({ planner: evidenceGone });

    expect(closing.outcomes).toEqual([expect.objectContaining({ deploymentId: ID, kind: 'closed', pullRequest: 1, detail: 'no change: no configuration beats the current one by 15 % (best 3.1 %)' })]);
    expect(pull(1).state).toBe('closed');
    expect(
      commentsOn(1)
        .filter((comment) => comment.body.startsWith(CLOSED_MARKER))
        .map((comment) => comment.body.split('\n')[1]),
    ).toEqual([
      'The proposal no longer holds: no change: no configuration beats the current one by 15 % (best 3.1 %). The bot closed this pull request; it proposes again when the evidence calls for a change. This is not a decline.',
    ]);
    expect(parseMetadata(pull(1).body)?.autoClosed).toBe('no change: no configuration beats the current one by 15 % (best 3.1 %)');

    anHourAgo();
    const again = await cycle();

    expect(again.outcomes).toEqual([expect.objectContaining({ deploymentId: ID, kind: 'opened', pullRequest: 3 })]);
    expect(commentsOn(1).filter((comment) => comment.body.startsWith(DECLINED_MARKER))).toEqual([]);
  }, 180_000);
});

describe('a declined proposal', () => {
  it('keeps its neighbourhood out of the plan, says so once, and lets it back when the evidence moves materially', async () => {
    await cycle();
    const declined = parseMetadata(pull(1).body)!.to;
    pull(1).state = 'closed';
    const recording = recordingPlanner();

    const first = await cycle({ planner: recording.planner });
    await cycle({ planner: recording.planner });

    expect(first.outcomes).toContainEqual(expect.objectContaining({ deploymentId: ID, kind: 'declined', pullRequest: 1, detail: 'closed without merging (#1)' }));
    const noted = commentsOn(1).filter((comment) => comment.body.startsWith(DECLINED_MARKER));
    expect(noted).toHaveLength(1);
    expect(noted[0]!.body).toContain(
      `The bot will not propose this configuration or its neighbourhood again — nvidia-l4, no quantization, every number within 25 % or 1 step of 1 GPU(s), replicas ${declined.replicasMin}–${declined.replicasMax}, max-num-seqs 128, max-num-batched-tokens 4096 — for 7 days (twice as long for each earlier ban of the same neighbourhood), or until the evidence`,
    );
    // Its neighbourhood, not just its exact configuration: one replica more is the same question, another GPU is not.
    const excluded = recording.exclusionOf8B()!;
    expect([
      excluded(declined),
      excluded({ ...declined, replicasMax: declined.replicasMax + 1 }),
      excluded({ ...declined, maxNumSeqs: 112 }),
      excluded({ ...declined, gpuType: 'nvidia-a100-80gb' }),
      excluded({ ...declined, quantization: 'fp8' }),
    ]).toEqual([true, true, true, false, false]);
    for (const { recommendations } of recording.calls) {
      const proposed = recommendations.find((recommendation) => recommendation.deploymentId === ID)?.proposed?.configuration;
      if (proposed) expect(inNeighbourhood(declined, proposed, { tolerancePct: 25, toleranceUnits: 1, materialChangePct: 50 })).toBe(false);
    }
    const board = dashboards()[0]!.body;
    expect(board).toContain('- [ ] <!-- llmops-gitops:retry #1 --> #1 `production/llama-3-1-8b-instruct`');
    expect(board).toContain('its neighbourhood is ignored until the evidence changes — check to retry now');

    // Arrange: the decline was made on a tenth of today's traffic.
    const metadata = parseMetadata(pull(1).body)!;
    pull(1).body = pull(1).body.replace(JSON.stringify(metadata), JSON.stringify({ ...metadata, evidence: { ...metadata.evidence, requestsPerSecond: metadata.evidence!.requestsPerSecond! / 10 } }));
    world().github.pulls.forEach((candidate) => {
      candidate.state === 'open' && (candidate.state = 'closed');
    });
    anHourAgo();

    const reopened = await cycle({ planner: recording.planner });

    expect(recording.exclusionOf8B()).toBeUndefined();
    expect(reopened.outcomes).toContainEqual(expect.objectContaining({ deploymentId: ID, kind: 'opened' }));
    expect(dashboards()[0]!.body).toMatch(/#1 `production\/llama-3-1-8b-instruct` .*the evidence has moved since \(request rate [\d.]+ → 0\.4\d* \(\+\d+ %\)\), so it may be proposed again/);
    // The next commit for the deployment records the decline in the ledger, with why.
    const ledger = parseLedger('ledger', await git(world().bare, 'show', `${BRANCH}:generated/optimizer/ledger/${ID}.jsonl`));
    expect(ledger.filter((entry) => entry.kind === 'decline')).toEqual([
      expect.objectContaining({ pullRequest: 1, configuration: declined, reason: expect.stringContaining('closed without merging (#1)') }),
    ]);
  }, 240_000);

  it('is lifted by its retry box on the dashboard', async () => {
    await cycle();
    pull(1).state = 'closed';
    const recording = recordingPlanner();
    await cycle({ planner: recording.planner });
    expect(recording.exclusionOf8B()).toBeDefined();
    const board = dashboards()[0]!;
    board.body = board.body.replace('- [ ] <!-- llmops-gitops:retry #1 -->', '- [x] <!-- llmops-gitops:retry #1 -->');

    await cycle({ planner: recording.planner });

    expect(recording.exclusionOf8B()).toBeUndefined();
    expect(parseMetadata(pull(1).body)?.retried).toBe(true);
    expect(dashboards()[0]!.body).not.toContain('retry #1');
  }, 180_000);
});

describe('a branch a person edited', () => {
  it('is left alone, with one comment, until its checkbox hands it back', async () => {
    await cycle();
    await git(world().human, 'fetch', '--quiet');
    await git(world().human, 'checkout', '--quiet', '-B', 'edit', `origin/${BRANCH}`);
    await git(world().human, 'commit', '--quiet', '--allow-empty', '-m', 'Keep max at 8 please');
    await git(world().human, 'push', '--quiet', 'origin', `edit:${BRANCH}`);
    const edited = await remoteBranch();

    const first = await cycle();
    const second = await cycle();

    expect([first.outcomes[0]!.kind, second.outcomes[0]!.kind]).toEqual(['hands-off', 'hands-off']);
    expect(await remoteBranch()).toBe(edited);
    expect(pull(1).state).toBe('open');
    const handsOff = commentsOn(1).filter((comment) => comment.body.startsWith(HANDS_OFF_MARKER));
    expect(handsOff).toHaveLength(1);
    expect(handsOff[0]!.body).toContain('To hand it back, check the box "regenerate this branch" in the description');

    pull(1).body = pull(1).body.replace('- [ ] <!-- llmops-gitops:rebase -->', '- [x] <!-- llmops-gitops:rebase -->');
    const handedBack = await cycle();

    expect(handedBack.outcomes).toEqual([expect.objectContaining({ kind: 'updated', pullRequest: 1, detail: expect.stringContaining('regenerated: a person asked for it') })]);
    expect(await git(world().bare, 'log', '--format=%s', `main..${BRANCH}`)).toBe(`${pull(1).title}\n`);
    expect(pull(1).body).toContain('- [ ] <!-- llmops-gitops:rebase -->');
    expect(world().github.pulls).toHaveLength(1);
  }, 180_000);
});

describe('the dashboard issue', () => {
  it('is one issue of the bot’s, edited in place and written only when it changes; an impostor is left alone', async () => {
    const impostor = await world().client({ token: MALLORY.token }).createIssue(DASHBOARD_TITLE, 'not the bot');

    const first = await cycle();
    const writes = world().github.writes.length;
    const second = await cycle();

    expect(dashboards().map((issue) => issue.author)).toEqual(['mallory', 'llmops-bot']);
    expect(world().github.issues.find((issue) => issue.number === impostor)!.body).toBe('not the bot');
    expect(first.dashboard).toEqual({ number: 3, written: true });
    expect(second.dashboard).toEqual({ number: 3, written: false });
    expect(world().github.writes.length).toBe(writes);
    const board = dashboards()[1]!.body;
    expect(board).toContain(`## Open proposals\n\n- #2 ${pull(2).title} (risk:low)`);
    expect(board).toContain('## Recent verifications and reverts\n\nNone in the last 14 days.');
    expect(world().github.contractViolations).toEqual([]);
  }, 120_000);
});

describe('comment commands', () => {
  it('obeys people with write access once, refuses the others once, and never runs a command twice', async () => {
    await cycle();
    const sha = await remoteBranch();
    const mallory = world().client({ token: MALLORY.token });
    const dana = world().client({ token: DANA.token });
    await mallory.comment(1, '/llmops rebase');
    await dana.comment(1, 'Why this?\n/llmops explain');

    const first = await cycle();
    const again = await cycle();

    expect(first.commands).toEqual([
      { pullRequest: 1, command: 'rebase', by: 'mallory', obeyed: false },
      { pullRequest: 1, command: 'explain', by: 'dana', obeyed: true },
    ]);
    expect(again.commands).toEqual([]);
    expect(await remoteBranch()).toBe(sha);
    const [refusedTo, explainedTo] = world().github.comments.filter((comment) => comment.user === 'mallory' || comment.user === 'dana');
    const answers = commentsOn(1).filter((comment) => comment.user === 'llmops-bot');
    expect(answers.filter((comment) => comment.body.includes(answerMarker(refusedTo!.id))).map((comment) => comment.body.split('\n')[1])).toEqual([
      '@mallory: `/llmops rebase` needs write access to this repository; nothing was done.',
    ]);
    const explained = answers.filter((comment) => comment.body.includes(answerMarker(explainedTo!.id)));
    expect(explained).toHaveLength(1);
    expect(explained[0]!.body).toContain('**Explain `production/llama-3-1-8b-instruct`** — rule `optimizer` of policy `conservative`');

    await dana.comment(1, '/llmops rebase');
    const refUpdates = () => world().github.requests.filter((request) => request.method === 'PATCH' && request.path.includes('/git/refs/')).length;
    const before = refUpdates();
    const rebased = await cycle();

    // Rebuilt and pushed again (the stand-in's clock stands still, so the commit comes out identical).
    expect(rebased.outcomes).toEqual([expect.objectContaining({ kind: 'updated', detail: expect.stringContaining('regenerated: a person asked for it') })]);
    expect(refUpdates()).toBe(before + 1);

    await dana.comment(1, '/llmops ignore');
    const ignored = await cycle();

    expect(ignored.commands).toEqual([{ pullRequest: 1, command: 'ignore', by: 'dana', obeyed: true }]);
    expect(pull(1).state).toBe('closed');
    expect(parseMetadata(pull(1).body)?.declined).toEqual({ at: AT.toISOString(), by: 'dana' });
    expect(commentsOn(1).filter((comment) => comment.body.includes(DECLINED_MARKER))).toHaveLength(1);
    expect(dashboards()[0]!.body).toContain('ignored by @dana with /llmops ignore (#1)');
    expect(world().github.contractViolations).toEqual([]);
  }, 240_000);
});
