import { describe, expect, it } from 'vitest';
import { describeNeighbourhood, inNeighbourhood, materialChange } from './neighbourhood.ts';
import type { Configuration } from './predict.ts';

const TOLERANCE = { tolerancePct: 25, toleranceUnits: 1, materialChangePct: 50 };
const DECLINED: Configuration = { gpuType: 'nvidia-l4', gpuCount: 1, maxNumSeqs: 16, replicasMin: 1, replicasMax: 3 };

describe('the neighbourhood of a declined configuration', () => {
  it('holds the same machine with every number within the tolerance, and nothing else', () => {
    const cases: [Partial<Configuration>, boolean][] = [
      [{}, true],
      [{ replicasMax: 4 }, true],
      [{ replicasMin: 2 }, true],
      [{ maxNumSeqs: 20 }, true],
      // One step of the knob's grid is the same question.
      [{ maxNumSeqs: 32 }, true],
      [{ replicasMax: 5 }, false],
      [{ maxNumSeqs: 64 }, false],
      [{ gpuType: 'nvidia-a100-80gb' }, false],
      [{ gpuCount: 2 }, true],
      [{ gpuCount: 4 }, false],
      [{ quantization: 'fp8' }, false],
    ];

    expect(cases.map(([change]) => inNeighbourhood(DECLINED, { ...DECLINED, ...change }, TOLERANCE))).toEqual(cases.map(([, expected]) => expected));
  });

  it('says what it holds in words', () => {
    expect(describeNeighbourhood(DECLINED, TOLERANCE)).toBe('nvidia-l4, no quantization, every number within 25 % or 1 step of 1 GPU(s), replicas 1–3, max-num-seqs 16');
  });

  it('reopens the question only when the evidence moved by more than the policy allows', () => {
    const then = { requestsPerSecond: 0.4, peakRequestsPerSecond: 0.6, meanPromptTokens: 600, meanOutputTokens: 100 };

    expect(materialChange(then, { ...then, requestsPerSecond: 0.55 }, TOLERANCE)).toBeUndefined();
    expect(materialChange(then, { ...then, requestsPerSecond: 1.2, meanOutputTokens: 40 }, TOLERANCE)).toBe('request rate 0.4 → 1.2 (+200 %), mean output length 100 → 40 (-60 %)');
    expect(materialChange({}, then, TOLERANCE)).toBeUndefined();
  });
});
