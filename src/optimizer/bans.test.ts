import { describe, expect, it } from 'vitest';
import { banDays, banning, bansOf, banWords, type Failure } from './bans.ts';
import { inNeighbourhood } from './neighbourhood.ts';
import type { Configuration } from './predict.ts';

const POLICY = { tolerancePct: 25, toleranceUnits: 1, materialChangePct: 50, banDays: 7, maxBanDays: 56 };
const L4: Configuration = { gpuType: 'nvidia-l4', gpuCount: 1, maxNumSeqs: 64, replicasMin: 1, replicasMax: 2 };
const day = (n: number) => new Date(Date.UTC(2026, 10, 1 + n, 12));
const failure = (at: Date, change: Partial<Configuration> = {}): Failure => ({ configuration: { ...L4, ...change }, at, why: 'reverted: TTFT p95 2100 ms > 800 ms SLO' });

describe('ban durations', () => {
  it('double with every earlier ban of the neighbourhood, up to the policy maximum', () => {
    expect([1, 2, 3, 4, 5, 9].map((strike) => banDays(strike, POLICY))).toEqual([7, 14, 28, 56, 56, 56]);
    expect(banDays(3, { ...POLICY, banDays: 3, maxBanDays: 10 })).toBe(10);
  });

  it('count only earlier failures in the same neighbourhood as repeats', () => {
    const bans = bansOf([failure(day(20), { maxNumSeqs: 32 }), failure(day(0)), failure(day(10), { gpuType: 'nvidia-a10g' }), failure(day(40), { replicasMax: 3 })], POLICY);

    expect(bans.map(({ at, strike, days, until }) => ({ at, strike, days, until }))).toEqual([
      { at: day(0), strike: 1, days: 7, until: day(7) },
      // Another GPU type: a neighbourhood of its own.
      { at: day(10), strike: 1, days: 7, until: day(17) },
      // One grid step of max-num-seqs from the first: a repeat.
      { at: day(20), strike: 2, days: 14, until: day(34) },
      { at: day(40), strike: 3, days: 28, until: day(68) },
    ]);
  });

  it('keep what the ledger recorded over a recomputation under a changed policy', () => {
    const [ban] = bansOf([{ ...failure(day(0)), until: day(3) }], POLICY);

    expect(ban).toMatchObject({ strike: 1, days: 7, until: day(3) });
  });
});

describe('a banned neighbourhood', () => {
  const bans = bansOf([failure(day(0))], POLICY);

  it('keeps out the same GPU type and quantization with every number within the tolerance, until the ban ends', () => {
    const cases: [Partial<Configuration>, boolean][] = [
      [{}, true],
      [{ maxNumSeqs: 32 }, true],
      [{ maxNumSeqs: 128 }, true],
      [{ maxNumSeqs: 16 }, false],
      // Left out, max-num-batched-tokens runs at vLLM's 2048 on an L4: 4096 is one step from it.
      [{ maxNumBatchedTokens: 4096 }, true],
      [{ maxNumBatchedTokens: 8192 }, false],
      [{ replicasMin: 2, replicasMax: 3 }, true],
      [{ replicasMax: 4 }, false],
      [{ gpuCount: 2 }, true],
      [{ gpuCount: 4 }, false],
      [{ gpuType: 'nvidia-a10g' }, false],
      [{ quantization: 'fp8' }, false],
    ];

    expect(cases.map(([change]) => banning(bans, { ...L4, ...change }, day(6), POLICY) !== undefined)).toEqual(cases.map(([, banned]) => banned));
    expect(banning(bans, L4, day(7), POLICY)).toBeUndefined();
    expect(cases.map(([change]) => inNeighbourhood(L4, { ...L4, ...change }, POLICY))).toEqual(cases.map(([, banned]) => banned));
  });

  it('says what it keeps out, why and until when', () => {
    expect(banWords(bansOf([failure(day(0)), failure(day(8), { maxNumSeqs: 128 })], POLICY)[1]!, POLICY)).toBe(
      'nvidia-l4, no quantization, every number within 25 % or 1 step of 1 GPU(s), replicas 1–2, max-num-seqs 128 and, as this machine failed before, 1x nvidia-l4 unquantized at any knob setting on up to 2 replicas: reverted: TTFT p95 2100 ms > 800 ms SLO; not proposed until 2026-11-23T12:00:00.000Z (second ban of this neighbourhood, 14 days)',
    );
  });
});

describe('a machine that failed twice', () => {
  it('is kept out at any knob setting on no more replicas than failed, while more replicas or another machine stay open', () => {
    // Arrange: the L4 failed at max-num-seqs 64, then again two grid steps away (a neighbourhood of its own).
    const bans = bansOf([failure(day(0)), failure(day(1), { maxNumSeqs: 256, maxNumBatchedTokens: 8192 })], POLICY);

    // Act
    const kept = (change: Partial<Configuration>) => banning(bans, { ...L4, ...change }, day(2), POLICY) !== undefined;

    // Assert
    expect(bans.map((ban) => ban.machineUpToReplicas)).toEqual([undefined, 2]);
    expect([kept({ maxNumSeqs: 16 }), kept({ maxNumSeqs: 512, maxNumBatchedTokens: 16384 }), kept({ replicasMin: 2, replicasMax: 2 })]).toEqual([true, true, true]);
    expect([kept({ maxNumSeqs: 16, replicasMax: 4 }), kept({ gpuCount: 2, maxNumSeqs: 16 }), kept({ quantization: 'fp8', maxNumSeqs: 16 })]).toEqual([false, false, false]);
    expect(banWords(bans[1]!, POLICY)).toContain('as this machine failed before, 1x nvidia-l4 unquantized at any knob setting on up to 2 replicas');
  });
});
