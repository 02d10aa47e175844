import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Fleet, FleetDeployment } from '../fleet/fleet.ts';
import { loadFleet } from '../fleet/load.ts';
import { startPrometheus, type PrometheusServer } from '../prometheus/server.ts';
import { readRunningDeployments } from '../simulator/manifests.ts';
import { simulateToOpenMetrics } from '../simulator/openmetrics.ts';
import { Scenario } from '../simulator/scenario.ts';
import { FleetSimulation } from '../simulator/simulation.ts';
import { copyFixtureFleet, editFile, preparedFixture, removeFleet, runCli } from '../testing/fixture-fleet.ts';
import { DAY_OF_HISTORY, EXAMPLE_TRUTH, lastWednesdayAfternoon, simulateAndPlan } from '../testing/plan-harness.ts';
import type { Configuration } from './predict.ts';
import type { Recommendation } from './recommendation.ts';

const END = lastWednesdayAfternoon();
const steady = (requestsPerSecond: number, promptTokens = 600, outputTokens = 100) => ({
  traffic: { kind: 'steady', requestsPerSecond },
  promptTokens: { mean: promptTokens },
  outputTokens: { mean: outputTokens },
});

/** Production 8B idles on two L4s; production Qwen drowns on two (about 7.7 req/s each at most); dev sees a trickle; staging's prompts grow 5x at minute 55. */
const MIXED = {
  durationMinutes: 70,
  seed: 11,
  history: DAY_OF_HISTORY,
  deployments: {
    'production/llama-3-1-8b-instruct': steady(0.4),
    'production/qwen2-5-7b-instruct': steady(20, 400, 120),
    'dev/llama-3-1-8b-instruct': steady(0.02),
    'staging/llama-3-1-8b-instruct': { ...steady(0.6), shift: { atMinute: 55, promptTokens: { mean: 3000 }, outputTokens: { mean: 100 } } },
  },
  truth: EXAMPLE_TRUTH,
};
/** The same hour without the day before it: enough for the rules that shrink nothing (and a quarter of the simulation). */
const MIXED_HOUR = { ...MIXED, history: undefined };

let fleet: Fleet;
beforeAll(async () => {
  const result = await loadFleet(await preparedFixture());
  if (!result.ok) throw new Error('the example fleet is invalid');
  fleet = result.fleet;
});

const find = (recommendations: Recommendation[], id: string) => recommendations.find((recommendation) => recommendation.deploymentId === id)!;

describe('llmops plan on simulated traffic in the real Prometheus', () => {
  let recommendations: Recommendation[];

  beforeAll(async () => {
    recommendations = await simulateAndPlan(fleet, MIXED, END);
  });

  it('recommends fewer replicas for an over-provisioned deployment, predicted to hold the SLOs', () => {
    const recommendation = find(recommendations, 'production/llama-3-1-8b-instruct');

    expect(recommendation).toMatchObject({ action: 'change', rule: 'optimizer', sourceFile: 'environments/production.ts' });
    expect(recommendation.change?.replicas?.min).toBeLessThan(2);
    expect(recommendation.proposed!.costPerHourUsd).toBeLessThan(recommendation.current.costPerHourUsd);
    expect(recommendation.proposed!.feasible).toBe(true);
    expect(recommendation.proposed!.prediction.e2eP95Seconds * 1000).toBeLessThan(30000);
    expect(recommendation.confidence).toBeGreaterThanOrEqual(0.9);
    expect(recommendation.risk).toBeLessThanOrEqual(0.05);
    expect(recommendation.canaryPlan.steps.map((step) => step.weightPct)).toEqual([1, 5, 25, 50, 100]);
    expect(recommendation.pareto.length).toBeGreaterThan(0);
  });

  it('scales out an under-provisioned deployment that breaches its SLOs (safety first)', () => {
    const recommendation = find(recommendations, 'production/qwen2-5-7b-instruct');

    expect(recommendation).toMatchObject({ action: 'change', rule: 'safety-slo-breach' });
    // In one step: sized to the observed peak with headroom, not bounded by the policy's 25 % change per step (2 → 3).
    expect(recommendation.change?.replicas?.min).toBe(4);
    expect(recommendation.proposed!.prediction.peakUtilization).toBeLessThanOrEqual(0.8);
    expect(recommendation.reason).toMatch(/^SLO breached \(TTFT p95 \d+ ms > 800 ms/);
  });

  it('makes no change on too little traffic, and says why', () => {
    const recommendation = find(recommendations, 'dev/llama-3-1-8b-instruct');

    expect(recommendation).toMatchObject({ action: 'none', rule: 'insufficient-data' });
    expect(recommendation.reason).toMatch(/^no change: only \d+ requests in the window \(200 needed/);
  });

  it('never proposes a banned configuration', async () => {
    const first = find(recommendations, 'production/llama-3-1-8b-instruct').proposed!.configuration;
    const banned = (deployment: FleetDeployment) =>
      deployment.id === 'production/llama-3-1-8b-instruct' ? (configuration: Configuration) => JSON.stringify(configuration) === JSON.stringify(first) : undefined;

    const again = find(await simulateAndPlan(fleet, MIXED, END, { excluded: banned }), 'production/llama-3-1-8b-instruct');

    expect(again.action).toBe('change');
    expect(again.proposed!.configuration).not.toEqual(first);
    expect(again.pareto.map((evaluated) => evaluated.configuration)).not.toContainEqual(first);
  }, 60_000);

  it('reports a drift of the prompt-length distribution', () => {
    const orientation = find(recommendations, 'staging/llama-3-1-8b-instruct').orientation;

    expect(orientation.driftDetected).toBe(true);
    expect(orientation.promptDrift!.distance).toBeGreaterThan(0.5);
    expect(orientation.notes.join('\n')).toMatch(/prompt lengths drifted: median \+\d+ %/);
    expect(find(recommendations, 'production/llama-3-1-8b-instruct').orientation.driftDetected).toBe(false);
  });
});

describe('policies and budgets', () => {
  it('proposes nothing under a paused policy, and moves to a cheaper configuration when the budget is exceeded', async () => {
    const root = await copyFixtureFleet({ withGenerated: true });
    try {
      await editFile(root, 'policies/balanced.ts', "strategy: 'balanced',", "strategy: 'balanced',\n  paused: true,");
      await editFile(root, 'environments/production.ts', 'budget: { monthlyUsd: 60000 }', 'budget: { monthlyUsd: 5000 }');
      // The cheaper hardware (2 x H100 in FP8) is a quantization and GPU-count move: below the conservative preset's 0.9 confidence.
      await editFile(root, 'policies/conservative.ts', "strategy: 'conservative',", "strategy: 'conservative',\n  thresholds: { minConfidence: 0.7, maxRisk: 0.1 },");
      const loaded = await loadFleet(root);
      if (!loaded.ok) throw new Error('fixture invalid');

      const recommendations = await simulateAndPlan(loaded.fleet, { ...MIXED, deployments: { ...MIXED.deployments, 'production/llama-3-1-70b-instruct': steady(0.3, 500, 150) } }, END);

      expect(find(recommendations, 'staging/llama-3-1-8b-instruct')).toMatchObject({ action: 'none', rule: 'paused', reason: expect.stringContaining('policy balanced is paused') });
      const budget = find(recommendations, 'production/llama-3-1-70b-instruct');
      expect(budget).toMatchObject({ action: 'change', rule: 'business-budget' });
      expect(budget.reason).toMatch(/^production projects \d+ USD this month, over its 5000 USD budget/);
      expect(budget.proposed!.costPerHourUsd).toBeLessThan(budget.current.costPerHourUsd);
    } finally {
      await removeFleet(root);
    }
  });

  it('stays still inside a freeze window', async () => {
    const saturday = new Date(END.getTime() + 3 * 86_400_000);

    const recommendations = await simulateAndPlan(fleet, MIXED_HOUR, saturday);

    expect(find(recommendations, 'production/llama-3-1-8b-instruct')).toMatchObject({ action: 'none', rule: 'freeze-window', reason: expect.stringContaining('weekend change freeze') });
  });
});

describe('the optimizer never reads the truth', () => {
  it('changes its recommendation when the hidden truth changes and the declarations do not', async () => {
    const slowL4 = { ...EXAMPLE_TRUTH, 'llama-3-1-8b-instruct': { ...EXAMPLE_TRUTH['llama-3-1-8b-instruct'], gpus: { 'nvidia-l4': { speed: 0.45 } } } };

    // Production's 8B alone, after its day of history.
    const idle = { ...MIXED, deployments: { 'production/llama-3-1-8b-instruct': MIXED.deployments['production/llama-3-1-8b-instruct'] } };
    const fast = find(await simulateAndPlan(fleet, idle, END), 'production/llama-3-1-8b-instruct');
    const slow = find(await simulateAndPlan(fleet, { ...idle, truth: slowL4 }, END), 'production/llama-3-1-8b-instruct');

    expect(slow.observed.interTokenP95Seconds).toBeGreaterThan(fast.observed.interTokenP95Seconds! * 1.5);
    expect(`${slow.rule} ${JSON.stringify(slow.change)}`).not.toBe(`${fast.rule} ${JSON.stringify(fast.change)}`);
  });
});

describe('the llmops plan command', () => {
  let prometheus: PrometheusServer;

  beforeAll(async () => {
    const simulation = new FleetSimulation(await readRunningDeployments(`${await preparedFixture()}/generated`), Scenario.parse(MIXED_HOUR));
    prometheus = await startPrometheus({ openMetrics: simulateToOpenMetrics(simulation, Math.floor(END.getTime() / 1000)) });
  });

  afterAll(async () => {
    await prometheus?.stop();
  });

  it('prints a table and a reason per deployment, exit 0', async () => {
    const result = await runCli(['plan', '--prometheus', prometheus.url, '--at', String(END.getTime() / 1000), '--root', await preparedFixture()]);

    expect(result.exitCode).toBe(0);
    expect(result.stdout.split('\n')[0]).toMatch(/^ENVIRONMENT\s+MODEL\s+ACTION\s+RULE\s+CHANGE/);
    for (const deployment of fleet.deployments) expect(result.stdout).toContain(`  ${deployment.id}: `);
    expect(result.stdout).toMatch(/\n {4}calibrated on the observed concurrency: capacity \d+\.\d\dx, inter-token \d+\.\d\dx/);
  });

  it('prints JSON with --json and filters with --env', async () => {
    const result = await runCli(['plan', '--prometheus', prometheus.url, '--at', String(END.getTime() / 1000), '--env', 'dev', '--json', '--root', await preparedFixture()]);

    const recommendations = JSON.parse(result.stdout) as { deploymentId: string; rule: string; calibration: Record<string, unknown>; current: { prediction: Record<string, unknown> } }[];
    expect(recommendations.map((recommendation) => recommendation.deploymentId)).toEqual(['dev/llama-3-1-8b-instruct', 'dev/qwen2-5-7b-instruct']);
    for (const { calibration, current } of recommendations) {
      expect(calibration).toMatchObject({
        capacity: expect.any(Number),
        interToken: expect.any(Number),
        ttft: expect.any(Number),
        capacityEvidence: expect.stringMatching(/^(queue|concurrency|prior)$/),
        uncertainty: expect.any(Number),
      });
      expect((calibration.evidence as string[]).length).toBeGreaterThan(0);
      expect(current.prediction).toMatchObject({ uncertainty: expect.any(Number), atRooflineFloor: expect.any(Boolean) });
    }
  });

  it('fails clearly when Prometheus is unreachable', async () => {
    const result = await runCli(['plan', '--prometheus', 'http://127.0.0.1:9', '--root', await preparedFixture()]);

    expect(result.exitCode).toBe(3);
    expect(result.stderr).toMatch(/^Prometheus at http:\/\/127\.0\.0\.1:9 is unreachable \(.*\) after 3 attempts; check --prometheus and that the server is up\n$/);
  });
});
