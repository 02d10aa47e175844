import { describe, expect, it } from 'vitest';
import { STRATEGY_PRESETS } from '../declarations/policy.ts';
import { samplingUncertainty } from './calibration.ts';
import { predictionUncertainty, type Configuration, type Prediction } from './predict.ts';
import { confidenceOf, predictionInterval, riskOf } from './uncertainty.ts';
import type { Orientation } from './orient.ts';

const L4: Configuration = { gpuType: 'nvidia-l4', gpuCount: 1, maxNumSeqs: 128, replicasMin: 2, replicasMax: 8 };
const H100: Configuration = { ...L4, gpuType: 'nvidia-h100-80gb', replicasMin: 1, replicasMax: 4 };
const FP8: Configuration = { ...L4, quantization: 'fp8' };
const H100_FP8: Configuration = { ...H100, quantization: 'fp8' };
const SLOS = { ttftP95Ms: 800, e2eP95Ms: 30000, interTokenP95Ms: 150, errorRateRatio: 0.01 };
const STEADY: Orientation = { requestsInWindow: 3600, sufficient: true, driftDetected: false, peakToMean: 1, notes: [] };
const RUNNING = 8;

/** A prediction at 60 % of every SLO and 80 % of its capacity, with the uncertainty the evidence gives. */
function predictionFrom(evidence: { requests: number; queued?: boolean; priorMiss: number; runningPerReplica?: number; to: Configuration }): Prediction {
  const calibration = { uncertainty: samplingUncertainty(evidence.requests, evidence.queued ?? false), priorMiss: evidence.priorMiss, observedRunningPerReplica: RUNNING };
  return {
    ttftP95Seconds: 0.48,
    e2eP95Seconds: 18,
    interTokenP95Seconds: 0.09,
    capacityRequestsPerSecond: 10,
    peakUtilization: 0.8,
    overloaded: false,
    uncertainty: predictionUncertainty(calibration, L4, evidence.to, evidence.runningPerReplica ?? RUNNING),
    atRooflineFloor: false,
    startsUp: true,
  };
}

const passes = (prediction: Prediction) =>
  (Object.keys(STRATEGY_PRESETS) as (keyof typeof STRATEGY_PRESETS)[]).filter(
    (strategy) => confidenceOf(prediction, STEADY) >= STRATEGY_PRESETS[strategy].minConfidence && riskOf(prediction, SLOS, STEADY) <= STRATEGY_PRESETS[strategy].maxRisk,
  );

describe('confidence and risk follow from evidence', () => {
  it.each([
    // An hour at 1 req/s, the prior within a few % of what the current L4 was seen doing, the same concurrency.
    ['a GPU move on well-fitted evidence', { requests: 3600, priorMiss: 0.02, to: H100 }, 0.925, ['conservative', 'balanced', 'aggressive']],
    ['a quantization on well-fitted evidence', { requests: 3600, priorMiss: 0.02, to: FP8 }, 0.94, ['conservative', 'balanced', 'aggressive']],
    ['a GPU move on the fewest requests a decision takes', { requests: 200, priorMiss: 0, to: H100 }, 0.91, ['conservative', 'balanced', 'aggressive']],
    ['a GPU move and a quantization at once', { requests: 3600, priorMiss: 0, to: H100_FP8 }, 0.9, ['conservative', 'balanced', 'aggressive']],
    // The prior missed the current hardware by 25 %: its ratios to other hardware are trusted less.
    ['a GPU move where the prior missed by 25 %', { requests: 3600, priorMiss: Math.log(1.25), to: H100 }, 0.9, ['balanced', 'aggressive']],
    ['a GPU move predicted at twice the observed concurrency', { requests: 3600, priorMiss: 0, runningPerReplica: 2 * RUNNING + 1, to: H100 }, 0.9, ['balanced', 'aggressive']],
    // A GPU at half its datasheet: nothing says another GPU type departs from the prior the same way (balanced's confidence passes, its risk does not: 11 % > 10 %).
    ['a GPU move where the prior missed by 2x', { requests: 3600, priorMiss: Math.log(2), to: H100 }, 0.83, ['aggressive']],
    ['a GPU move and a quantization where the prior missed by 2x', { requests: 3600, priorMiss: Math.log(2), to: H100_FP8 }, 0.75, []],
  ] as const)('%s: confidence %s, passes %j', (_, evidence, confidence, strategies) => {
    const prediction = predictionFrom(evidence);

    expect(confidenceOf(prediction, STEADY)).toBeCloseTo(confidence, 2);
    expect(passes(prediction)).toEqual(strategies);
  });

  it('keeps a configuration the observations covered at the sampling uncertainty alone', () => {
    expect(predictionFrom({ requests: 3600, priorMiss: Math.log(2), to: L4 }).uncertainty).toBeCloseTo(samplingUncertainty(3600, false), 10);
  });

  it('states the interval the verifier holds a merged change to: the prediction spread by 1.96 of its uncertainty', () => {
    const prediction = { ...predictionFrom({ requests: 3600, priorMiss: 0.02, to: H100 }), uncertainty: 0.1 };

    const interval = predictionInterval(prediction, STEADY);

    expect(interval.e2eP95Ms).toEqual({ expectedMs: 18000, lowMs: 14796.2, highMs: 21897.5 });
    expect(interval.uncertainty).toBe(0.1);
  });
});
