/**
 * Issue 12, rules 4 and 7 through the real Prometheus: a conservative production
 * deployment breaching TTFT on a GPU too slow for its prompts, where every fix is
 * blocked by the policy, gets a draft pull request labelled needs-decision with
 * the evidence; `llmops plan` names the rule that decided; and reruns at the same
 * `--at` propose byte-identical changes.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { PrometheusClient } from '../prometheus/client.ts';
import type { PrometheusServer } from '../prometheus/server.ts';
import { createBotWorld, git, type BotWorld } from '../testing/bot-harness.ts';
import { editFile, preparedFixture, runCli } from '../testing/fixture-fleet.ts';
import { EXAMPLE_TRUTH, lastWednesdayAfternoon, prometheusWithScenario } from '../testing/plan-harness.ts';
import { runCycle } from './cycle.ts';
import { parseMetadata } from './pull-request-body.ts';

const END = lastWednesdayAfternoon();
const ID = 'production/llama-3-1-8b-instruct';

/** 8,000-token prompts at 0.3 req/s on production's L4s: no queue, but prefill alone takes seconds against an 800 ms TTFT SLO. */
const SCENARIO = {
  durationMinutes: 70,
  seed: 4,
  deployments: { [ID]: { traffic: { kind: 'steady', requestsPerSecond: 0.3 }, promptTokens: { mean: 8000 }, outputTokens: { mean: 100 } } },
  truth: { 'llama-3-1-8b-instruct': EXAMPLE_TRUTH['llama-3-1-8b-instruct'] },
};

let prometheus: PrometheusServer;
let world: BotWorld;
beforeAll(async () => {
  prometheus = await prometheusWithScenario(SCENARIO, END);
}, 120_000);
afterAll(async () => prometheus?.stop());
beforeEach(async () => {
  world = await createBotWorld(() => END);
  // Room on the H100 pool for the 8B next to the 70B (which fills two nodes with its canary surge): the fix is blocked by the policy, not by the pool.
  await editFile(world.human, 'environments/production.ts', "capacity: 'on-demand', minNodes: 1, maxNodes: 2 }", "capacity: 'on-demand', minNodes: 1, maxNodes: 3 }");
  expect((await runCli(['synth', '--root', world.human])).exitCode).toBe(0);
  await git(world.human, 'commit', '--quiet', '--all', '-m', 'A third H100 node');
  await git(world.human, 'push', '--quiet', 'origin', 'main');
}, 120_000);
afterEach(async () => world?.remove());

describe('a breach the policy lets nothing fix', () => {
  it('opens a draft pull request labelled needs-decision with the breach, the fixes considered and the rule that blocked each', async () => {
    // Act
    const report = await runCycle({ repository: world.repository(await world.botClone()), github: world.client(), prometheus: new PrometheusClient(prometheus.url), now: END });

    // Assert
    expect(report.outcomes).toEqual([expect.objectContaining({ deploymentId: ID, kind: 'opened', pullRequest: 1 })]);
    const pull = world.github.pulls.find((candidate) => candidate.number === 1)!;
    expect(pull.draft).toBe(true);
    expect(pull.labels).toEqual(expect.arrayContaining(['llmops', 'production', 'needs-decision']));
    expect(pull.autoMerge).toBeUndefined();
    expect(parseMetadata(pull.body)).toMatchObject({ rule: 'needs-decision' });
    expect(pull.body).toMatch(
      /### A person decides\n\nThe SLO is breached \(TTFT p95 \d+ ms > 800 ms\) and every fix the bot found is blocked by the policy `conservative`, so this is a \*\*draft\*\*/,
    );
    const fixes = pull.body.split('\n').filter((line) => /^\| \dx nvidia-/.test(line));
    expect(fixes.length).toBeGreaterThanOrEqual(2);
    for (const fix of fixes)
      expect(fix).toMatch(
        /\| confidence 0\.\d\d < 0\.9(?: and risk 0\.\d\d > 0\.05)? \(thresholds of conservative\) \|$|\| GPU type .* is outside the policy's search space \(searchSpace\.gpuTypes\) \|$/,
      );
    // The draft carries a GPU move: the L4's prefill is what is too slow.
    expect(pull.title).toMatch(/^Move production\/llama-3-1-8b-instruct 1x nvidia-l4 → 1x nvidia-h100-80gb/);
    expect(world.github.contractViolations).toEqual([]);
    // GitHub refuses to merge a draft until a person marks it ready.
    await expect(world.github.merge(1)).rejects.toMatchObject({ status: 405, body: { message: 'Pull Request is still a draft' } });
  }, 240_000);

  it('replaces the draft by a pull request ready for review once the policy lets the bot act (closed by the bot, not declined)', async () => {
    const cycle = async () => runCycle({ repository: world.repository(await world.botClone()), github: world.client(), prometheus: new PrometheusClient(prometheus.url), now: END });
    await cycle();
    await editFile(world.human, 'policies/conservative.ts', "strategy: 'conservative',", "strategy: 'conservative',\n  thresholds: { minConfidence: 0.7 },");
    expect((await runCli(['synth', '--root', world.human])).exitCode).toBe(0);
    await git(world.human, 'commit', '--quiet', '--all', '-m', 'Trust the model more');
    await git(world.human, 'push', '--quiet', 'origin', 'main');

    const report = await cycle();

    expect(report.outcomes).toEqual([expect.objectContaining({ deploymentId: ID, kind: 'opened' })]);
    const [draft, ready] = [world.github.pulls.find((pull) => pull.number === 1)!, world.github.pulls.find((pull) => pull.number === report.outcomes[0]!.pullRequest)!];
    expect(draft.state).toBe('closed');
    expect(parseMetadata(draft.body)).toMatchObject({ autoClosed: expect.stringMatching(/^the bot can now act without a person's decision/) });
    expect(ready.state).toBe('open');
    expect(ready.draft).toBeFalsy();
    expect(parseMetadata(ready.body)).toMatchObject({ rule: 'safety-slo-breach' });
    expect(ready.labels).not.toContain('needs-decision');
    expect(world.github.contractViolations).toEqual([]);
  }, 240_000);

  it('prints the rule that decided in `llmops plan`, and the same proposal byte for byte when rerun at the same --at', async () => {
    const root = await preparedFixture();
    const run = (json: boolean) => runCli(['plan', '--root', root, '--prometheus', prometheus.url, '--at', String(END.getTime() / 1000), ...(json ? ['--json'] : [])]);

    const [table, first, second] = [await run(false), await run(true), await run(true)];

    expect(table.exitCode).toBe(0);
    expect(table.stdout).toMatch(
      new RegExp(
        `${ID}: SLO breached \\(TTFT p95 \\d+ ms > 800 ms\\) and every fix is blocked by the policy: a person decides \\(draft\\); this one was blocked because confidence 0\\.\\d\\d < 0\\.9 \\(thresholds of conservative\\)`,
      ),
    );
    expect(table.stdout).not.toContain('no configuration beats');
    expect(first.exitCode).toBe(0);
    expect(second.stdout).toBe(first.stdout);
    const proposed = (JSON.parse(first.stdout) as { deploymentId: string; change?: object }[]).find((recommendation) => recommendation.deploymentId === ID);
    expect(proposed?.change).toMatchObject({ gpu: { type: 'nvidia-h100-80gb', count: 1 } });
  }, 240_000);
});
