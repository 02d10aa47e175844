import { beforeAll, describe, expect, it } from 'vitest';
import type { FleetDeployment } from '../fleet/fleet.ts';
import { loadFleet } from '../fleet/load.ts';
import { preparedFixture } from '../testing/fixture-fleet.ts';
import { decide, type DecisionInput } from './decide.ts';
import type { Observation } from './observe.ts';
import type { Orientation } from './orient.ts';

/** A Wednesday afternoon, outside production's weekend freeze. */
const WEDNESDAY = new Date('2026-11-18T15:00:00Z');
/** A Saturday, inside it ("0 16 * * 5" New York for 64 hours). */
const SATURDAY = new Date('2026-11-21T15:00:00Z');
const ORIENTATION: Orientation = { requestsInWindow: 21_600, sufficient: true, driftDetected: false, peakToMean: 1.2, notes: [] };
const NO_LENGTHS = { recent: new Map(), before: new Map() };

/** Production's Qwen on its two L4s, queueing: 6 req/s completed (3 per replica, the most it does), 9 req/s at the peak, TTFT p95 6 s against 800 ms. */
const OVERLOADED: Observation = {
  requestsPerSecond: 6,
  servedRequestsPerSecond: 6,
  peakRequestsPerSecond: 9,
  peakCompletionsPerReplica: 3,
  replicas: 2,
  runningRequests: 2 * 90,
  waitingRequests: 40,
  queuedShare: 0.9,
  kvCacheUsage: 0.95,
  ttftP95Seconds: 6,
  e2eP95Seconds: 20,
  interTokenP95Seconds: 0.1,
  meanInterTokenSeconds: 0.06,
  meanPromptTokens: 600,
  meanOutputTokens: 100,
  errorRatio: 0,
  e2eP95PerMinute: [],
  promptLengths: NO_LENGTHS,
  outputLengths: NO_LENGTHS,
};

let qwen: FleetDeployment;
beforeAll(async () => {
  const loaded = await loadFleet(await preparedFixture());
  if (!loaded.ok) throw new Error('the fixture fleet is invalid');
  qwen = loaded.fleet.deployments.find((deployment) => deployment.id === 'production/qwen2-5-7b-instruct')!;
});

const input = (overrides: Partial<DecisionInput> = {}): DecisionInput => ({ deployment: qwen, observation: OVERLOADED, orientation: ORIENTATION, now: WEDNESDAY, ...overrides });

describe("safety before everything but a person's stop", () => {
  it('scales out a load-bound breach in one step to the replicas the peak needs, past the 25 % change bound', () => {
    const recommendation = decide(input());

    expect(recommendation).toMatchObject({ action: 'change', rule: 'safety-slo-breach' });
    // 9 req/s at 3 req/s a replica with 20 % headroom: 4 replicas, where 25 % a step would have allowed 3.
    expect(recommendation.proposed!.configuration).toMatchObject({ gpuType: 'nvidia-l4', replicasMin: 4 });
    expect(recommendation.proposed!.prediction.peakUtilization).toBeLessThanOrEqual(0.8);
    expect(recommendation.reason).toMatch(
      /^SLO breached \(TTFT p95 6000 ms > 800 ms.*\): scale out to 4–\d+ replicas on the same hardware, sized to the observed peak of 9\.00 req\/s with 20 % headroom in one step$/,
    );
  });

  it('does not wait for the cooldown after a change', () => {
    const tenMinutesAgo = new Date(WEDNESDAY.getTime() - 10 * 60_000);

    expect(decide(input({ lastChangeAt: tenMinutesAgo }))).toMatchObject({ action: 'change', rule: 'safety-slo-breach' });
    // Without a breach the same change history holds every other proposal.
    expect(
      decide(
        input({
          lastChangeAt: tenMinutesAgo,
          observation: {
            ...OVERLOADED,
            ttftP95Seconds: 0.3,
            e2eP95Seconds: 3,
            waitingRequests: 0,
            queuedShare: 0,
            kvCacheUsage: 0.3,
            peakRequestsPerSecond: 2,
            requestsPerSecond: 1.5,
            servedRequestsPerSecond: 1.5,
            runningRequests: 20,
          },
        }),
      ),
    ).toMatchObject({ action: 'none', rule: 'cooldown' });
  });

  it('holds the scale-out inside a freeze window or while paused, with the rule that held it', () => {
    expect(decide(input({ now: SATURDAY }))).toMatchObject({ action: 'none', rule: 'freeze-window' });
    expect(decide(input({ deployment: { ...qwen, policy: { ...qwen.policy, paused: true } } }))).toMatchObject({ action: 'none', rule: 'paused' });
  });

  it("asks a person when the replicas the breach needs are above the policy's maximum: a needs-decision draft with the rule that blocked it", () => {
    const capped = { ...qwen, policy: { ...qwen.policy, searchSpace: { ...qwen.policy.searchSpace, replicas: { min: 1, max: 2 } } } };

    const recommendation = decide(input({ deployment: capped }));

    expect(recommendation).toMatchObject({ action: 'change', rule: 'needs-decision' });
    expect(recommendation.proposed!.configuration.replicasMin).toBeGreaterThan(2);
    expect(recommendation.escalation!.breach).toMatch(/^TTFT p95 6000 ms > 800 ms/);
    expect(recommendation.escalation!.considered[0]!.blockedBy).toMatch(/^\d+ replicas are above the policy's maximum 2 \(searchSpace\.replicas\.max\)$/);
  });
});
