/**
 * Verification from the Argo CD sync, through the real Prometheus: production
 * syncs manually, two hours after the merge. The verification window starts at
 * the sync, so errors that begin after it fail the change (a window from the
 * merge would have passed it), and a healthy change's saving is counted once.
 */
import { describe, expect, it } from 'vitest';
import type { Fleet } from '../fleet/fleet.ts';
import { planFleet, type PlanOptions } from '../optimizer/plan.ts';
import type { Recommendation } from '../optimizer/recommendation.ts';
import { PrometheusClient } from '../prometheus/client.ts';
import { argoCdOpenMetrics } from '../testing/argo-cd-series.ts';
import { DAY_OF_HISTORY, EXAMPLE_TRUTH, lastWednesdayAfternoon } from '../testing/plan-harness.ts';
import { botWorldPerTest } from '../testing/bot-world-per-test.ts';
import { runCycle } from './cycle.ts';
import { OptimizerMetrics } from './metrics.ts';

const END = lastWednesdayAfternoon();
const minute = (minutes: number) => new Date(END.getTime() - (280 - minutes) * 60_000);
const LLAMA = 'production/llama-3-1-8b-instruct';
const QWEN = 'production/qwen2-5-7b-instruct';
const steady = { traffic: { kind: 'steady', requestsPerSecond: 0.4 }, promptTokens: { mean: 600 }, outputTokens: { mean: 100 } };
/** 280 minutes: proposals at minute 60, merged at 70, synced by hand at 190; the 8B errors from minute 200 on. */
const SCENARIO = {
  durationMinutes: 280,
  seed: 7,
  history: DAY_OF_HISTORY,
  deployments: { [LLAMA]: { ...steady, errorSpike: { fromMinute: 200, toMinute: 280, errorRatio: 0.05 } }, [QWEN]: steady },
  truth: EXAMPLE_TRUTH,
};
const ARGO_CD = argoCdOpenMetrics({
  application: 'llmops-production',
  destinationNamespace: 'llm-prod',
  automated: false,
  start: minute(0),
  end: END,
  outOfSyncAt: [minute(73)],
  syncedAt: [minute(190)],
});

let clock = minute(60);
const current = botWorldPerTest(SCENARIO, END, ARGO_CD, () => clock);

/** The real planner, proposing for one deployment only (the policy allows one new pull request an hour). */
const only = (id: string) => async (fleet: Fleet, options: PlanOptions) =>
  (await planFleet(fleet, new PrometheusClient(current.prometheus.url), options)).map(
    (recommendation): Recommendation => (recommendation.deploymentId === id ? recommendation : { ...recommendation, action: 'none', change: undefined, proposed: undefined }),
  );

async function cycleAt(minutes: number, id: string, metrics?: OptimizerMetrics) {
  clock = minute(minutes);
  return runCycle({
    repository: current.world.repository(await current.world.botClone()),
    github: current.world.client(),
    prometheus: new PrometheusClient(current.prometheus.url),
    now: clock,
    planner: only(id),
    metrics,
  });
}

/** Opens the deployment's proposal at minute 60 and merges it at minute 70. */
async function proposeAndMerge(id: string): Promise<number> {
  const opened = await cycleAt(60, id);
  const number = opened.outcomes.find((outcome) => outcome.deploymentId === id && outcome.kind === 'opened')!.pullRequest!;
  clock = minute(70);
  await current.world.github.merge(number);
  return number;
}

describe('verification from the Argo CD sync', () => {
  it('waits for a manual sync hours after the merge, then judges the new configuration from the sync', async () => {
    await proposeAndMerge(LLAMA);

    const waiting = await cycleAt(150, LLAMA);
    const dashboard = current.world.github.issues[0]!.body;
    const judged = await cycleAt(260, LLAMA);

    expect(waiting.outcomes).toEqual([
      expect.objectContaining({
        deploymentId: LLAMA,
        kind: 'verifying',
        detail: `merged ${minute(70).toISOString()}; Argo CD has not synced llmops-production since (production syncs manually: \`argocd app sync llmops-production\`)`,
      }),
    ]);
    expect(dashboard).toContain(`## Being verified\n\n- \`${LLAMA}\`: merged ${minute(70).toISOString()}; Argo CD has not synced llmops-production since`);
    expect(judged.outcomes).toEqual([expect.objectContaining({ deploymentId: LLAMA, kind: 'opened', proposal: 'revert' })]);
    const revert = current.world.github.pulls.find((pull) => pull.number === judged.outcomes[0]!.pullRequest)!;
    // The window began when Argo CD had synced and reported Healthy (minute 192), not at the merge (minute 70, before the errors).
    expect(revert.body).toContain(`Argo CD synced llmops-production and reported it Healthy at ${minute(192).toISOString()}`);
    expect(revert.body).toMatch(/- error ratio \d\.\d\d % > 1\.00 % \(rollback threshold \/ SLO\), 0\.\d\d % before the sync/);
  }, 240_000);

  it('counts a verified saving once, however many cycles find it verified', async () => {
    await proposeAndMerge(QWEN);
    const metrics = new OptimizerMetrics();
    const saved = async () => (await metrics.registry.getSingleMetric('optimizer_cost_saved_usd_total')!.get()).values[0]?.value ?? 0;

    await cycleAt(150, QWEN, metrics);
    const beforeTheWindowEnded = await saved();
    const verified = await cycleAt(260, QWEN, metrics);
    const once = await saved();
    await cycleAt(270, QWEN, metrics);
    await cycleAt(275, QWEN, metrics);

    expect(beforeTheWindowEnded).toBe(0);
    expect(once).toBeGreaterThan(0);
    expect(await saved()).toBe(once);
    expect(verified.outcomes.filter((outcome) => outcome.kind === 'verifying')).toEqual([]);
    expect(current.world.github.issues[0]!.body).toMatch(
      new RegExp(
        `## Recent verifications and reverts\\n\\n- [^\\n]* \`${QWEN}\`: verified: merged ${minute(70).toISOString()}; Argo CD synced llmops-production and reported it Healthy at ${minute(192).toISOString()}; saves ${Math.round(once)} USD/month`,
      ),
    );
  }, 240_000);
});
