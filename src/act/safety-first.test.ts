/**
 * Issue 12, rule 1 through the real Prometheus and the GitHub stand-in: a safety
 * scale-out goes before the pull-request limits and a pending cost proposal,
 * and only a person's stop (a freeze window) holds it — said loudly.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { PrometheusClient } from '../prometheus/client.ts';
import { git } from '../testing/bot-harness.ts';
import { botWorldPerTest } from '../testing/bot-world-per-test.ts';
import { editFile, runCli } from '../testing/fixture-fleet.ts';
import { DAY_OF_HISTORY, EXAMPLE_TRUTH, lastWednesdayAfternoon } from '../testing/plan-harness.ts';
import { runCycle, type CycleOptions } from './cycle.ts';
import { OptimizerMetrics } from './metrics.ts';
import { parseMetadata } from './pull-request-body.ts';

const END = lastWednesdayAfternoon();
const minutesBefore = (minutes: number) => new Date(END.getTime() - minutes * 60_000);
/** The first cycle: both deployments still quiet. The second, 30 minutes later: both drown. */
const [QUIET, BREACHED] = [minutesBefore(30), END];
const LLAMA = 'production/llama-3-1-8b-instruct';
const QWEN = 'production/qwen2-5-7b-instruct';

/**
 * Production's 8B idles on two L4s, then at minute 102 gets 15 req/s; production's Qwen sees a trickle (too little
 * to decide on), then 20 req/s. Both share policy conservative: one new pull request an hour.
 */
const SCENARIO = {
  durationMinutes: 130,
  seed: 12,
  // A cost proposal that shrinks needs the policy's seasonality of history (rule 6).
  history: DAY_OF_HISTORY,
  deployments: {
    [LLAMA]: { traffic: { kind: 'steps', requestsPerSecond: 0.4, steps: [{ atMinute: 102, requestsPerSecond: 15 }] }, promptTokens: { mean: 600 }, outputTokens: { mean: 100 } },
    [QWEN]: { traffic: { kind: 'steps', requestsPerSecond: 0.03, steps: [{ atMinute: 102, requestsPerSecond: 20 }] }, promptTokens: { mean: 400 }, outputTokens: { mean: 120 } },
  },
  truth: { 'llama-3-1-8b-instruct': EXAMPLE_TRUTH['llama-3-1-8b-instruct'], 'qwen2-5-7b-instruct': EXAMPLE_TRUTH['qwen2-5-7b-instruct'] },
};

let standInNow = QUIET;
const current = botWorldPerTest(SCENARIO, END, '', () => standInNow);
beforeEach(() => {
  standInNow = QUIET;
});

async function cycle(now: Date, overrides: Partial<CycleOptions> = {}) {
  standInNow = now;
  return runCycle({
    repository: current.world.repository(await current.world.botClone()),
    github: current.world.client(),
    prometheus: new PrometheusClient(current.prometheus.url),
    now,
    ...overrides,
  });
}

const pullOf = (branch: string) => current.world.github.pulls.find((pull) => pull.state === 'open' && pull.head === `llmops/${branch}`);

describe("safety before everything but a person's stop", () => {
  it('lands the scale-out in the next cycle with a cost pull request open and the hourly limit used', async () => {
    // Arrange: the quiet cycle opens a cost proposal for the 8B, which uses conservative's one pull request an hour.
    const quiet = await cycle(QUIET);
    expect(quiet.outcomes.filter((outcome) => outcome.kind === 'opened')).toEqual([expect.objectContaining({ deploymentId: LLAMA, pullRequest: 1 })]);
    expect(pullOf(LLAMA)!.title).toMatch(/^Scale production\/llama-3-1-8b-instruct 2–8 → 1–\d+ replicas \(−\d+ USD\/month\)$/);

    // Act: 30 minutes later both deployments breach their TTFT SLO.
    const breached = await cycle(BREACHED);

    // Assert: the Qwen's scale-out opens despite the hourly limit; the 8B's cost proposal is rewritten into its scale-out.
    expect(breached.outcomes).toEqual(
      expect.arrayContaining([expect.objectContaining({ deploymentId: QWEN, kind: 'opened' }), expect.objectContaining({ deploymentId: LLAMA, kind: 'updated', pullRequest: 1 })]),
    );
    expect(breached.outcomes.some((outcome) => outcome.kind === 'limited')).toBe(false);
    const qwen = pullOf(QWEN)!;
    expect(qwen.title).toMatch(/^Scale production\/qwen2-5-7b-instruct 2–4 → \d+–\d+ replicas/);
    expect(parseMetadata(qwen.body)).toMatchObject({ rule: 'safety-slo-breach' });
    const llama = pullOf(LLAMA)!;
    expect(parseMetadata(llama.body)).toMatchObject({ rule: 'safety-slo-breach' });
    const [, min] = /2–8 → (\d+)–\d+ replicas/.exec(llama.title)!;
    // In one step: more than conservative's 25 % a change would allow (2 → 3).
    expect(Number(min)).toBeGreaterThan(3);
    expect(llama.body).toContain('in one step');
    expect(current.world.github.contractViolations).toEqual([]);
  }, 240_000);

  it('holds the scale-out in a freeze window, and says so in the log, the metric and the dashboard', async () => {
    // Arrange: a person freezes production for the whole Wednesday.
    await editFile(current.world.human, 'policies/conservative.ts', 'freezeWindows: [', "freezeWindows: [{ reason: 'release freeze', cron: '0 0 * * 3', durationMinutes: 1440, timeZone: 'UTC' }, ");
    expect((await runCli(['synth', '--root', current.world.human])).exitCode).toBe(0);
    await git(current.world.human, 'commit', '--quiet', '--all', '-m', 'Release freeze');
    await git(current.world.human, 'push', '--quiet', 'origin', 'main');
    const [lines, metrics] = [[] as string[], new OptimizerMetrics()];

    // Act
    const report = await cycle(BREACHED, { log: (line) => lines.push(line), metrics });

    // Assert
    expect(report.outcomes.filter((outcome) => outcome.kind === 'opened' || outcome.kind === 'updated')).toEqual([]);
    expect(lines.filter((line) => line.includes('SAFETY ACTION BLOCKED'))).toEqual([
      expect.stringMatching(new RegExp(`^${LLAMA}: SAFETY ACTION BLOCKED by freeze-window: SLO breached \\(TTFT p95 \\d+ ms > 800 ms`)),
      expect.stringMatching(new RegExp(`^${QWEN}: SAFETY ACTION BLOCKED by freeze-window: SLO breached \\(TTFT p95 \\d+ ms > 800 ms`)),
    ]);
    const metric = await metrics.registry.getSingleMetricAsString('optimizer_safety_actions_blocked');
    expect(metric).toContain(`optimizer_safety_actions_blocked{deployment="${LLAMA}",rule="freeze-window"} 1`);
    expect(metric).toContain(`optimizer_safety_actions_blocked{deployment="${QWEN}",rule="freeze-window"} 1`);
    const dashboard = current.world.github.issues.find((issue) => issue.title === 'llmops dashboard')!;
    expect(dashboard.body).toContain('## ⚠ Safety actions blocked');
    expect(dashboard.body).toMatch(
      new RegExp(`- \\*\\*\`${QWEN}\`\\*\\*: SLO breached \\(TTFT p95 \\d+ ms > 800 ms.*inside the freeze window "release freeze".*Scale out by hand or lift the freeze\\.`),
    );
  }, 240_000);
});
