import { beforeAll, describe, expect, it } from 'vitest';
import type { Fleet, FleetDeployment } from '../fleet/fleet.ts';
import { loadFleet } from '../fleet/load.ts';
import { preparedFixture, runCli } from '../testing/fixture-fleet.ts';
import { DAY_OF_HISTORY, EXAMPLE_TRUTH, lastWednesdayAfternoon, prometheusWithScenario, simulateAndPlan, steady } from '../testing/plan-harness.ts';
import { currentConfiguration } from './decide.ts';
import { historyHold, replicaRules } from './shrink.ts';

const END = lastWednesdayAfternoon();
const ID = 'production/llama-3-1-8b-instruct';
let fleet: Fleet;
let deployment: FleetDeployment;

beforeAll(async () => {
  const result = await loadFleet(await preparedFixture());
  if (!result.ok) throw new Error('the example fleet is invalid');
  fleet = result.fleet;
  deployment = fleet.deployments.find((candidate) => candidate.id === ID)!;
});

describe('the replica rules of a decision', () => {
  it('hold a shrink back on less history than the seasonality, and let scale-out through', () => {
    const current = currentConfiguration(deployment);
    const rules = replicaRules(deployment, { historySeconds: 3600 }, current);

    const shrunk = rules.apply({ ...current, replicasMin: 1, replicasMax: 4 });
    const grown = rules.apply({ ...current, replicasMin: 3, replicasMax: 10 });
    const mixed = rules.apply({ ...current, replicasMin: 3, replicasMax: 6 });

    expect([shrunk, grown, mixed].map(({ replicasMin, replicasMax }) => [replicasMin, replicasMax])).toEqual([
      [2, 8],
      [3, 10],
      [3, 8],
    ]);
    expect(rules.held).toEqual([
      "replicas held (enough history before shrinking): Prometheus holds 1 h of this deployment's traffic, and policy conservative shrinks only on 24 h, its seasonality (seasonalityHours)",
    ]);
  });

  it("let a shrink through on a day of history, down to the environment's floor", () => {
    const current = currentConfiguration(deployment);
    const accepting = replicaRules(deployment, { historySeconds: 86_400 }, current);
    const strict = { ...deployment, environment: { ...deployment.environment, availability: { acceptSingleReplica: false } } };
    const redundant = replicaRules(strict, { historySeconds: 86_400 }, current);

    expect(historyHold(deployment, { historySeconds: 86_400 - 120 })).toBeUndefined();
    expect(accepting.apply({ ...current, replicasMin: 1, replicasMax: 4 })).toMatchObject({ replicasMin: 1, replicasMax: 4 });
    expect(accepting.held).toEqual([]);
    expect(redundant.apply({ ...current, replicasMin: 1, replicasMax: 4 })).toMatchObject({ replicasMin: 2, replicasMax: 4 });
    expect(redundant.held).toEqual(["minimum replicas held at 2, production's floor (2 where Argo CD syncs manually, for redundancy, unless availability.acceptSingleReplica allows 1)"]);
  });
});

describe('enough history before shrinking, on the real Prometheus', () => {
  /** Production's 8B idles on 2–8 L4s at night: 0.4 requests/s, a quarter of what two replicas carry. */
  const night = { durationMinutes: 60, seed: 21, deployments: { [ID]: steady(0.4) }, truth: { 'llama-3-1-8b-instruct': EXAMPLE_TRUTH['llama-3-1-8b-instruct'] } };

  it('shrinks nothing on one hour of trough data, and plan says which rule held the shrink back', async () => {
    const prometheus = await prometheusWithScenario(night, END);
    try {
      const result = await runCli(['plan', '--prometheus', prometheus.url, '--at', String(END.getTime() / 1000), '--env', 'production', '--root', await preparedFixture()]);
      const recommendation = (await simulateAndPlan(fleet, night, END, { environment: 'production' })).find((candidate) => candidate.deploymentId === ID);

      expect(recommendation!.deploymentId).toBe(ID);
      expect(recommendation!.observed.historySeconds).toBeLessThanOrEqual(3900);
      const change = recommendation!.change?.replicas;
      if (change) expect(change.min >= 2 && change.max >= 8).toBe(true);
      expect(recommendation!.held).toEqual([
        expect.stringMatching(/^replicas held \(enough history before shrinking\): Prometheus holds 1(\.\d)? h of this deployment's traffic, and policy conservative shrinks only on 24 h/),
      ]);
      expect(result.exitCode).toBe(0);
      expect(result.stdout).toMatch(new RegExp(`  ${ID}: .*\\n(    .*\\n)*    replicas held \\(enough history before shrinking\\): Prometheus holds 1(\\.\\d)? h`));
    } finally {
      await prometheus.stop();
    }
  }, 120_000);

  it('shrinks the same deployment once a day of the same traffic is in Prometheus', async () => {
    const recommendation = (await simulateAndPlan(fleet, { ...night, history: DAY_OF_HISTORY }, END, { environment: 'production' })).find((candidate) => candidate.deploymentId === ID);

    expect(recommendation!.observed.historySeconds).toBeGreaterThanOrEqual(86_400);
    expect(recommendation!.held).toBeUndefined();
    expect(recommendation!.change?.replicas?.min).toBe(1);
  }, 120_000);
});
