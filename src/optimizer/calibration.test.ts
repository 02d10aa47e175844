import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Fleet } from '../fleet/fleet.ts';
import { loadFleet } from '../fleet/load.ts';
import { benchmarkCurve, servingAt } from '../performance/curve.ts';
import { modelFacts } from '../performance/setup.ts';
import { readRunningDeployments, type RunningDeployment } from '../simulator/manifests.ts';
import { ModelTruth } from '../simulator/scenario.ts';
import { truthCurve } from '../simulator/truth.ts';
import { copyFixtureFleet, editFile, preparedFixture, removeFleet, runCli } from '../testing/fixture-fleet.ts';
import { lastWednesdayAfternoon, simulateAndPlan } from '../testing/plan-harness.ts';
import { priorCalibration } from './calibration.ts';
import { currentConfiguration } from './decide.ts';
import { predict, setupOf, type Demand } from './predict.ts';

const END = lastWednesdayAfternoon();
const ID = 'staging/llama-3-1-8b-instruct';
const LENGTHS = { promptTokens: 600, outputTokens: 150 };
const LLAMA_8B = { parametersBillions: 8.03, kvBytesPerToken: 131072, layers: 32 };
const FASTER_AT_HIGH_BATCH = ModelTruth.parse({ ...LLAMA_8B, gpus: { 'nvidia-a100-80gb': { knee: 12 } } });
const HALF_DATASHEET = ModelTruth.parse({ ...LLAMA_8B, gpus: { 'nvidia-a100-80gb': { speed: 0.5 } } });

const scenario = (requestsPerSecond: number, truth: ModelTruth) => ({
  durationMinutes: 70,
  seed: 23,
  deployments: { [ID]: { traffic: { kind: 'steady', requestsPerSecond }, promptTokens: { mean: LENGTHS.promptTokens }, outputTokens: { mean: LENGTHS.outputTokens } } },
  truth: { 'llama-3-1-8b-instruct': truth },
});

/** What the bot's prior alone (no calibration) says of the current configuration at a demand. */
function priorOnly(fleet: Fleet, demand: Demand) {
  const deployment = fleet.deployments.find((candidate) => candidate.id === ID)!;
  const current = currentConfiguration(deployment);
  return predict({ facts: modelFacts(deployment.model), engineArgs: deployment.engineArgs, current, demand, calibration: priorCalibration('test') }, current);
}

const requestsPerSecondOf = (running: RunningDeployment, truth: ModelTruth, concurrency: 'max' | number) => {
  const curve = truthCurve(running, truth, LENGTHS)!;
  return concurrency === 'max' ? servingAt(curve, 0).capacityRequestsPerSecond : curve.points.find((point) => point.concurrency === concurrency)!.requestsPerSecond;
};

describe('capacity calibrated from what Prometheus shows (simulated worlds in the real Prometheus)', () => {
  let fleet: Fleet;
  let staging: RunningDeployment;

  beforeAll(async () => {
    const loaded = await loadFleet(await preparedFixture());
    if (!loaded.ok) throw new Error('the fixture fleet is invalid');
    fleet = loaded.fleet;
    staging = (await readRunningDeployments(path.join(await preparedFixture(), 'generated'))).find((running) => running.id === ID)!;
  });

  it('proposes no scale-up in a world 6x faster than the prior at high batch, with the SLOs met and no queue', async () => {
    // Arrange: one A100 replica (staging declares 1–3) receives 40 req/s; the prior caps it near 15.
    const deployment = fleet.deployments.find((candidate) => candidate.id === ID)!;
    const prior = benchmarkCurve(setupOf(modelFacts(deployment.model), deployment.engineArgs, currentConfiguration(deployment)), LENGTHS);
    const highBatch = prior.maxConcurrency;
    expect(requestsPerSecondOf(staging, FASTER_AT_HIGH_BATCH, highBatch) / prior.points.find((point) => point.concurrency === highBatch)!.requestsPerSecond).toBeGreaterThanOrEqual(6);
    expect(requestsPerSecondOf(staging, FASTER_AT_HIGH_BATCH, 1) / prior.points[0]!.requestsPerSecond).toBeCloseTo(1, 2);
    expect(priorOnly(fleet, { requestsPerSecond: 40, peakRequestsPerSecond: 40, ...LENGTHS }).overloaded).toBe(true);

    // Act
    const recommendation = (await simulateAndPlan(fleet, scenario(40, FASTER_AT_HIGH_BATCH), END)).find((candidate) => candidate.deploymentId === ID)!;

    // Assert: the observations (no queue, SLOs met) are what the test says they are, and the bot believes them.
    const { observed } = recommendation;
    const slos = deployment.environment.slos;
    expect(observed.requestsPerSecond).toBeGreaterThan(38);
    expect(observed.waitingRequests).toBeLessThan(1);
    expect(observed.ttftP95Seconds! * 1000).toBeLessThan(slos.ttftP95Ms);
    expect(observed.e2eP95Seconds! * 1000).toBeLessThan(slos.e2eP95Ms);
    expect(observed.interTokenP95Seconds! * 1000).toBeLessThan(slos.interTokenP95Ms);
    expect(recommendation.rule).not.toBe('safety-slo-breach');
    expect(recommendation.current.prediction.overloaded).toBe(false);
    expect(recommendation.calibration.capacity).toBeGreaterThan(2.5);
    expect(recommendation.change?.replicas?.min ?? 1).toBeLessThanOrEqual(1);
  }, 120_000);

  it('shrinks no further than the observed demand needs on a GPU at half its datasheet', async () => {
    // Arrange: staging starts at 2–4 A100 replicas for 9 req/s; the prior thinks one replica (~15 req/s) carries it, the world gives ~7.7 a replica.
    // Its inter-token SLO is loosened so that the current configuration meets every SLO: only capacity is in question.
    const root = await copyFixtureFleet();
    try {
      await editFile(root, 'environments/staging.ts', 'replicas: { min: 1, max: 3 }', 'replicas: { min: 2, max: 4 }');
      await editFile(root, 'environments/staging.ts', 'interTokenP95Ms: 80', 'interTokenP95Ms: 250');
      expect((await runCli(['synth', '--root', root])).exitCode).toBe(0);
      const loaded = await loadFleet(root);
      if (!loaded.ok) throw new Error('the edited fleet is invalid');
      const trueCapacity = requestsPerSecondOf(staging, HALF_DATASHEET, 'max');
      expect(trueCapacity).toBeLessThan(9);
      expect(priorOnly(loaded.fleet, { requestsPerSecond: 9, peakRequestsPerSecond: 9, ...LENGTHS }).capacityRequestsPerSecond / 2).toBeGreaterThan(9 / 0.8);

      // Act
      const recommendation = (await simulateAndPlan(loaded.fleet, scenario(9, HALF_DATASHEET), END)).find((candidate) => candidate.deploymentId === ID)!;

      // Assert: whatever it proposes keeps enough true capacity on its minimum replicas for the demand it observed.
      const minimum = recommendation.proposed?.configuration.replicasMin ?? recommendation.current.configuration.replicasMin;
      const sameHardware = (recommendation.proposed?.configuration.gpuType ?? 'nvidia-a100-80gb') === 'nvidia-a100-80gb';
      expect(recommendation.observed.peakRequestsPerSecond).toBeGreaterThan(8.5);
      expect(recommendation.observed.waitingRequests).toBeLessThan(1);
      expect(recommendation.observed.interTokenP95Seconds! * 1000).toBeLessThan(250);
      expect(sameHardware).toBe(true);
      expect(minimum * trueCapacity).toBeGreaterThanOrEqual(recommendation.observed.peakRequestsPerSecond!);
      expect(recommendation.calibration.capacity).toBeLessThan(0.7);
    } finally {
      await removeFleet(root);
    }
  }, 180_000);
});
