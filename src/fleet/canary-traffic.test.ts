import { describe, expect, it } from 'vitest';
import { basicCanaryPods, canaryTraffic, routedCanaryPods } from './canary-traffic.ts';

const steps = (weights: number[], pauseMinutes = 10) => weights.map((weightPct) => ({ weightPct, pauseMinutes, analysis: weightPct < 100 }));

describe('canary traffic', () => {
  // Cases of argoproj/argo-rollouts utils/replicaset/canary_test.go, TestApproximateWeightedNewStableReplicaCounts: [replicas, weight, maxSurge, canary, stable].
  const upstream: [number, number, number, number, number][] = [
    [1, 1, 0, 0, 1],
    [1, 49, 0, 0, 1],
    [1, 50, 0, 1, 0],
    [1, 100, 0, 1, 0],
    [1, 1, 1, 1, 1],
    [1, 50, 1, 1, 1],
    [1, 99, 1, 1, 1],
    [1, 100, 1, 1, 0],
    [2, 1, 0, 1, 1],
    [2, 99, 0, 1, 1],
    [2, 1, 1, 1, 2],
    [2, 50, 1, 1, 1],
    [2, 99, 1, 2, 1],
    [3, 10, 0, 1, 2],
    [3, 50, 0, 2, 1],
    [3, 10, 1, 1, 3],
    [3, 33, 1, 1, 2],
    [3, 49, 1, 2, 2],
    [3, 50, 1, 2, 2],
    [10, 1, 0, 1, 9],
    [10, 15, 0, 2, 8],
    [10, 99, 0, 9, 1],
    [10, 1, 1, 1, 10],
    [10, 18, 1, 2, 9],
    [10, 20, 1, 2, 8],
    [10, 24, 1, 3, 8],
    [10, 99, 1, 10, 1],
  ];

  it("splits pods like Argo Rollouts' basic canary (its own test cases)", () => {
    const results = upstream.map(([replicas, weight, surge]) => {
      const split = basicCanaryPods(replicas, weight, surge);
      return [replicas, weight, surge, split.canary, split.stable];
    });

    expect(results).toEqual(upstream);
  });

  it('with the Gateway API router, gives each step exactly its weight and the canary the pods its weight needs', () => {
    const plan = canaryTraffic(steps([1, 5, 25, 50, 100]), 'gateway-api', { min: 2, max: 8 });

    expect(plan.steps.map((step) => [step.setWeight, step.trafficPct.atMin, step.trafficPct.atMax])).toEqual([
      [1, 1, 1],
      [5, 5, 5],
      [25, 25, 25],
      [50, 50, 50],
      [100, 100, 100],
    ]);
    expect(plan.steps.map((step) => step.pods.atMax)).toEqual([routedCanaryPods(8, 1), routedCanaryPods(8, 5), { canary: 2, stable: 6 }, { canary: 4, stable: 4 }, { canary: 8, stable: 0 }]);
  });

  it('without a router, states the share the pods give and merges steps that run the same pods', () => {
    // One replica (the 70B): 1, 5, 25 and 50 % are all one canary pod beside one stable pod: 50 %.
    const single = canaryTraffic(steps([1, 5, 25, 50, 100], 15), 'replica-count', { min: 1, max: 3 });
    // Two replicas: 1 and 5 % are one canary beside two stable pods (33 %), 25 and 50 % one beside one.
    const pair = canaryTraffic(steps([1, 5, 25, 50, 100], 15), 'replica-count', { min: 2, max: 8 });

    expect(single.steps.map((step) => [step.setWeight, step.trafficPct.atMin, step.pauseMinutes])).toEqual([
      [50, 50, 60],
      [100, 100, 15],
    ]);
    expect(pair.steps.map((step) => [step.setWeight, Math.round(step.trafficPct.atMin)])).toEqual([
      [33, 33],
      [50, 50],
      [100, 100],
    ]);
    expect(pair.steps[0].trafficPct.atMax).toBeCloseTo(100 / 9);
    expect(pair.steps[0].pods).toEqual({ atMin: { canary: 1, stable: 2 }, atMax: { canary: 1, stable: 8 } });
    // The merged weight is one Argo Rollouts maps back to the same pods.
    expect(basicCanaryPods(2, 33)).toEqual({ canary: 1, stable: 2 });
  });

  it('keeps a manual pause manual when merging', () => {
    const plan = canaryTraffic(
      [
        { weightPct: 1, pauseMinutes: 10, analysis: true },
        { weightPct: 5, pauseMinutes: 0, analysis: false },
        { weightPct: 100, pauseMinutes: 0, analysis: false },
      ],
      'replica-count',
      { min: 1, max: 1 },
    );

    expect(plan.steps.map((step) => [step.setWeight, step.pauseMinutes, step.analysis])).toEqual([
      [50, 0, true],
      [100, 0, false],
    ]);
  });
});
