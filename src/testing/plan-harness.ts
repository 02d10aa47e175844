/**
 * Test harness for the optimizer: simulate a scenario against a fleet's
 * generated/, backfill it into a real Prometheus, plan at the scenario's end.
 */
import path from 'node:path';
import type { Fleet } from '../fleet/fleet.ts';
import { planFleet, type PlanOptions } from '../optimizer/plan.ts';
import type { Recommendation } from '../optimizer/recommendation.ts';
import { PrometheusClient } from '../prometheus/client.ts';
import { startPrometheus, type PrometheusServer } from '../prometheus/server.ts';
import { readRunningDeployments } from '../simulator/manifests.ts';
import { simulate } from '../simulator/openmetrics.ts';
import { Scenario } from '../simulator/scenario.ts';
import { FleetSimulation } from '../simulator/simulation.ts';
import { preparedFixture } from './fixture-fleet.ts';

/** A Wednesday, 15:00 UTC, at least two days back: outside every weekend freeze, and in the past for Prometheus. */
export function lastWednesdayAfternoon(now = new Date()): Date {
  const day = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() - 2, 15));
  while (day.getUTCDay() !== 3) day.setUTCDate(day.getUTCDate() - 1);
  return day;
}

/** The example models' true sizes, for scenarios. */
export const EXAMPLE_TRUTH = {
  'llama-3-1-8b-instruct': { parametersBillions: 8.03, kvBytesPerToken: 131072 },
  'llama-3-1-70b-instruct': { parametersBillions: 70.6, kvBytesPerToken: 327680 },
  'qwen2-5-7b-instruct': { parametersBillions: 7.62, kvBytesPerToken: 57344 },
} as const;

/**
 * A day of the same traffic before a scenario's minute 0 (scenario `history`): what a policy's default seasonality
 * (24 h) needs in Prometheus before the bot shrinks replicas (src/optimizer/shrink.ts).
 */
export const DAY_OF_HISTORY = { hours: 24 } as const;

/** A scenario (input form) of steady, light traffic on the given deployments (`<env>/<model>` of the example models), after a day of it. */
export function steadyScenario(deploymentIds: readonly string[], seed: number, durationMinutes = 90): unknown {
  const steady = { traffic: { kind: 'steady', requestsPerSecond: 0.4 }, promptTokens: { mean: 600 }, outputTokens: { mean: 100 } };
  return { durationMinutes, seed, history: DAY_OF_HISTORY, deployments: Object.fromEntries(deploymentIds.map((id) => [id, steady])), truth: EXAMPLE_TRUTH };
}
/** Steady traffic for one deployment of a scenario: requests/s, mean prompt and output lengths in tokens. */
export const steady = (requestsPerSecond: number, promptTokens = 600, outputTokens = 100) => ({
  traffic: { kind: 'steady', requestsPerSecond },
  promptTokens: { mean: promptTokens },
  outputTokens: { mean: outputTokens },
});

/** Production's Llama 3.1 8B idling on two L4s for a day and 90 minutes (0.4 requests/s): the bot proposes fewer replicas. */
export const IDLE_PRODUCTION_8B = {
  durationMinutes: 90,
  seed: 9,
  history: DAY_OF_HISTORY,
  deployments: { 'production/llama-3-1-8b-instruct': steady(0.4) },
  truth: { 'llama-3-1-8b-instruct': EXAMPLE_TRUTH['llama-3-1-8b-instruct'] },
};

/** Production's 8B idles on two L4s, after a day of it, for 95 minutes; then (after a change merges) its canary aborts and errors jump to 5 %. */
export const FAILING_PRODUCTION_8B = {
  durationMinutes: 150,
  seed: 5,
  history: DAY_OF_HISTORY,
  deployments: {
    'production/llama-3-1-8b-instruct': {
      ...steady(0.4),
      errorSpike: { fromMinute: 95, toMinute: 150, errorRatio: 0.05 },
      rolloutDegradedFromMinute: 100,
    },
  },
  truth: { 'llama-3-1-8b-instruct': EXAMPLE_TRUTH['llama-3-1-8b-instruct'] },
};

/**
 * Starts the real Prometheus with `scenario` (input form) simulated on a fleet's generated/, ending at `end`;
 * `otherExporters`: more OpenMetrics families (without `# EOF`), e.g. Argo CD's.
 */
export async function prometheusWithScenario(scenario: unknown, end: Date, fleetRoot?: string, otherExporters = ''): Promise<PrometheusServer> {
  const root = fleetRoot ?? (await preparedFixture());
  const running = await readRunningDeployments(path.join(root, 'generated'));
  const simulation = new FleetSimulation(running, Scenario.parse(scenario));
  // In 2-hour spans: a day of history backfills in linear time.
  const spans = simulate(simulation, Math.floor(end.getTime() / 1000)).spanTexts();
  const last = spans.length - 1;
  return startPrometheus({ openMetrics: spans.map((text, index) => (index === last && otherExporters ? text.replace(/# EOF\n?$/, `${otherExporters}# EOF\n`) : text)) });
}

/** Simulates `scenario` (input form) on the fleet's generated/ ending at `end`, and plans at `end`. */
export async function simulateAndPlan(fleet: Fleet, scenario: unknown, end: Date, options: PlanOptions = {}): Promise<Recommendation[]> {
  const prometheus = await prometheusWithScenario(scenario, end, fleet.root);
  try {
    return await planFleet(fleet, new PrometheusClient(prometheus.url), { now: end, ...options });
  } finally {
    await prometheus.stop();
  }
}
