import { describe, expect, it } from 'vitest';
import { editFile } from '../testing/fixture-fleet.ts';
import { DAY_OF_HISTORY, lastWednesdayAfternoon } from '../testing/plan-harness.ts';
import { runClosedLoop } from './closed-loop.ts';
import { histogramQuantile } from './slo-meter.ts';

describe('histogramQuantile', () => {
  it('interpolates inside the bucket as Prometheus does, and stops at the last finite bound', () => {
    expect(histogramQuantile(0.5, [1, 2, 4], [0, 10, 10, 0])).toBe(2);
    expect(histogramQuantile(0.75, [1, 2, 4], [0, 10, 10, 0])).toBe(3);
    expect(histogramQuantile(0.95, [1, 2, 4], [0, 0, 0, 5])).toBe(4);
    expect(histogramQuantile(0.95, [1, 2, 4], [0, 0, 0, 0])).toBeUndefined();
  });
});

describe('the closed loop', () => {
  it('takes an over-provisioned deployment down in merged pull requests while holding its SLOs', async () => {
    const rows = await runClosedLoop({
      deploymentId: 'staging/llama-3-1-8b-instruct',
      cycles: 3,
      start: new Date(lastWednesdayAfternoon().getTime() - 3 * 3_600_000),
      scenario: {
        durationMinutes: 180,
        seed: 3,
        history: DAY_OF_HISTORY,
        deployments: { 'staging/llama-3-1-8b-instruct': { traffic: { kind: 'steady', requestsPerSecond: 0.6 }, promptTokens: { mean: 600 }, outputTokens: { mean: 150 } } },
        truth: { 'llama-3-1-8b-instruct': { parametersBillions: 8.03, kvBytesPerToken: 131072 } },
      },
      changes: [{ beforeCycle: 1, description: 'over-provision', apply: (clone) => editFile(clone, 'environments/staging.ts', 'replicas: { min: 1, max: 3 }', 'replicas: { min: 4, max: 6 }') }],
    });

    expect(rows.map((row) => row.cycle)).toEqual([1, 2, 3]);
    expect(rows[0]!.actions).toEqual(['merged #1']);
    expect(rows[0]!.meanReplicas).toBeCloseTo(4, 5);
    expect(rows[2]!.costPerHourUsd).toBeLessThan(rows[0]!.costPerHourUsd / 2);
    expect(rows.reduce((sum, row) => sum + row.sloViolationMinutes, 0)).toBe(0);
    expect(rows.every((row) => row.reverted === 0)).toBe(true);
  }, 180_000);
});
