import { beforeAll, describe, expect, it } from 'vitest';
import type { FleetDeployment } from '../fleet/fleet.ts';
import { loadFleet } from '../fleet/load.ts';
import { preparedFixture } from '../testing/fixture-fleet.ts';
import { appendLedger, deploymentHistory, LedgerError, parseLedger, type LedgerEntry } from './ledger.ts';
import { judgeVerification } from './verify.ts';

const ID = 'production/llama-3-1-8b-instruct';
const L4 = { gpuType: 'nvidia-l4', gpuCount: 1, maxNumSeqs: 128, replicasMin: 2, replicasMax: 8 };
const SMALLER = { ...L4, replicasMin: 1, replicasMax: 6 };
const proposal: LedgerEntry = { kind: 'proposal', at: '2026-11-18T14:00:00.000Z', deploymentId: ID, branch: `llmops/${ID}`, from: L4, to: SMALLER, costPerHourUsd: { current: 1.6, proposed: 0.8 } };
const rollback: LedgerEntry = { kind: 'rollback', at: '2026-11-18T15:00:00.000Z', deploymentId: ID, reason: 'error ratio 5.00 % > 1.00 %', failed: SMALLER, restored: L4 };

describe('the audit ledger', () => {
  it('round-trips entries as one JSON line each and appends without touching earlier lines', () => {
    const text = appendLedger('', [proposal]);

    const appended = appendLedger(text, [rollback]);

    expect(appended.startsWith(text)).toBe(true);
    expect(appended.split('\n')).toHaveLength(3);
    expect(parseLedger('ledger.jsonl', appended)).toEqual([proposal, rollback]);
  });

  it('names the file and line of an entry it cannot read', () => {
    expect(() => parseLedger('generated/optimizer/ledger/x.jsonl', `${JSON.stringify(proposal)}\n{"kind":"proposal"}\n`)).toThrow(LedgerError);
    expect(() => parseLedger('generated/optimizer/ledger/x.jsonl', 'not json\n')).toThrow('generated/optimizer/ledger/x.jsonl:1: expected one JSON object per line (got "not json")');
  });

  it('treats a proposal on the base branch as merged and unverified, dated by when it landed', () => {
    const landed = new Date('2026-11-18T14:30:00Z');

    const history = deploymentHistory([proposal], landed);

    expect(history).toEqual({ unverified: proposal, lastChangeAt: landed });
  });

  it('reads a ledger written before rollbacks recorded their ban, and one that records it', () => {
    const banned: LedgerEntry = { ...rollback, ban: { until: '2026-11-25T15:00:00.000Z', strike: 1, days: 7 } };

    expect(parseLedger('ledger.jsonl', appendLedger('', [proposal, rollback, banned]))).toEqual([proposal, rollback, banned]);
    expect(deploymentHistory([proposal, banned], new Date('2026-11-18T15:10:00Z'))).toEqual({ unverified: undefined, lastChangeAt: new Date('2026-11-18T15:10:00Z') });
  });
});

describe('verification after merge', () => {
  let deployment: FleetDeployment;
  beforeAll(async () => {
    const loaded = await loadFleet(await preparedFixture());
    if (!loaded.ok) throw new Error('the example fleet is invalid');
    deployment = loaded.fleet.deployments.find((candidate) => candidate.id === ID)!;
  });
  const mergedAt = new Date('2026-11-18T14:00:00Z');
  const start = { at: mergedAt, from: 'argocd' as const, detail: 'Argo CD synced llmops-production and reported it Healthy at 2026-11-18T14:00:00.000Z' };
  const healthy = { errorRatio: 0.002, e2eP95Seconds: 4, ttftP95Seconds: 0.3, interTokenP95Seconds: 0.04 };

  it('is pending inside the window and verified after it when nothing breaks', () => {
    expect(judgeVerification({ deployment, start, now: new Date('2026-11-18T14:30:00Z'), after: healthy, before: healthy }).status).toBe('pending');
    expect(judgeVerification({ deployment, start, now: new Date('2026-11-18T15:00:00Z'), after: healthy, before: healthy })).toEqual({
      status: 'verified',
      evidence: [],
      start,
      windowEnd: new Date('2026-11-18T15:00:00Z'),
    });
  });

  it('does not blame a change for an overload it eased but did not end', () => {
    const overloaded = { ...healthy, ttftP95Seconds: 2.5, e2eP95Seconds: 9 };

    const verdict = judgeVerification({ deployment, start, now: new Date('2026-11-18T15:00:00Z'), after: { ...overloaded, ttftP95Seconds: 1.5, e2eP95Seconds: 7 }, before: overloaded });

    expect(verdict).toMatchObject({ status: 'verified', evidence: [] });
  });

  /** What a proposal promised: p95s at the peak with their 95 % intervals, as the ledger records them. */
  const promised = (e2eMs: number, highMs: number) => ({
    ttftP95Ms: { expectedMs: 300, lowMs: 250, highMs: 360 },
    e2eP95Ms: { expectedMs: e2eMs, lowMs: (e2eMs * e2eMs) / highMs, highMs },
    interTokenP95Ms: { expectedMs: 40, lowMs: 33, highMs: 48 },
    uncertainty: 0.1,
  });

  it('fails on an aborted canary, an error ratio over the threshold, an SLO breach or a p95 above the promised interval, with each figure', () => {
    const verdict = judgeVerification({
      deployment,
      start,
      now: new Date('2026-11-18T14:20:00Z'),
      after: { ...healthy, errorRatio: 0.03, ttftP95Seconds: 0.9, e2eP95Seconds: 6 },
      before: healthy,
      rolloutFailedPhase: 'Abort',
      promised: promised(4200, 5100),
    });

    expect(verdict.status).toBe('failed');
    expect(verdict.evidence).toEqual([
      'the Rollout llama-3-1-8b-instruct stopped in phase Abort (its canary was aborted, timed out or invalid)',
      'error ratio 3.00 % > 1.00 % (rollback threshold / SLO), 0.20 % before the sync',
      'TTFT p95 900 ms > 800 ms SLO (300 ms before the sync)',
      'end-to-end p95 6000 ms is above the 5100 ms the proposal promised at most (predicted 4200 ms; 4000 ms before the sync; SLO 30000 ms)',
    ]);
  });

  it('passes a latency increase that stays inside the promised interval, however large against before (a saving on a loose SLO)', () => {
    // The case of issue 12: "p95 1777 ms is 81 % above 984 ms" with a 30 s SLO, on a saving predicted at 1.7 s.
    const before = { ...healthy, e2eP95Seconds: 0.984 };

    const verdict = judgeVerification({ deployment, start, now: new Date('2026-11-18T15:00:00Z'), after: { ...healthy, e2eP95Seconds: 1.777 }, before, promised: promised(1700, 2100) });

    expect(verdict).toMatchObject({ status: 'verified', evidence: [] });
  });

  it('does not fail a change whose p95 is above its promise but better than before (a scale-out draining a backlog)', () => {
    const before = { ...healthy, e2eP95Seconds: 12 };

    const verdict = judgeVerification({ deployment, start, now: new Date('2026-11-18T15:00:00Z'), after: { ...healthy, e2eP95Seconds: 8 }, before, promised: promised(3000, 3600) });

    expect(verdict).toMatchObject({ status: 'verified', evidence: [] });
  });
});
