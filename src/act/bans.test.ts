/**
 * Memory of what failed, through the bot's whole cycle: a merged change that fails its verification is reverted,
 * the ledger records its ban and why, and no later cycle proposes its neighbourhood until the ban ends.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import type { Fleet } from '../fleet/fleet.ts';
import { inNeighbourhood } from '../optimizer/neighbourhood.ts';
import type { Observation } from '../optimizer/observe.ts';
import { planFleet, type PlanOptions } from '../optimizer/plan.ts';
import type { Configuration } from '../optimizer/predict.ts';
import { PrometheusClient } from '../prometheus/client.ts';
import { git } from '../testing/bot-harness.ts';
import { botWorldPerTest } from '../testing/bot-world-per-test.ts';
import { FAILING_PRODUCTION_8B, lastWednesdayAfternoon } from '../testing/plan-harness.ts';
import { runCycle } from './cycle.ts';
import { parseLedger } from './ledger.ts';

const END = lastWednesdayAfternoon();
const PROPOSE_AT = new Date(END.getTime() - 60 * 60_000);
const ID = 'production/llama-3-1-8b-instruct';
const BRANCH = `llmops/${ID}`;
const DAY_MS = 86_400_000;

let standInNow = PROPOSE_AT;
const current = botWorldPerTest(FAILING_PRODUCTION_8B, END, '', () => standInNow);
beforeEach(() => {
  standInNow = PROPOSE_AT;
});

describe('a reverted configuration', () => {
  it("bans its neighbourhood for the policy's banDays: the ledger says why and until when, and no cycle proposes it again within the ban", async () => {
    // Arrange: the bot proposes, a person merges, the canary aborts and the bot reverts; the revert merges.
    const client = new PrometheusClient(current.prometheus.url);
    const cycle = async (now: Date, planner?: Parameters<typeof runCycle>[0]['planner']) =>
      runCycle({ repository: current.world.repository(await current.world.botClone()), github: current.world.client(), prometheus: client, now, planner });
    const first = await cycle(PROPOSE_AT);
    const proposed = first.outcomes[0]!;
    expect(proposed).toMatchObject({ kind: 'opened', proposal: 'optimize' });
    await current.world.github.merge(proposed.pullRequest!);
    standInNow = END;
    const revert = await cycle(END);
    expect(revert.outcomes[0]).toMatchObject({ kind: 'opened', proposal: 'revert' });
    const revertBody = current.world.github.pulls.find((pull) => pull.number === revert.outcomes[0]!.pullRequest)!.body;
    expect(revertBody).toContain(
      `The failed configuration and its neighbourhood are not proposed again until ${new Date(END.getTime() + 7 * DAY_MS).toISOString().slice(0, 16).replace('T', ' ')} UTC (ban 1 of this neighbourhood: 7 days; each repeat doubles it).`,
    );
    await current.world.github.merge(revert.outcomes[0]!.pullRequest!);

    // Act: the cycles after the revert, a day and six days later (within the ban) and eight days later (after it).
    const seen: { now: Date; excluded: (configuration: Configuration) => boolean; recommended?: Configuration }[] = [];
    const spy = (now: Date) => async (fleet: Fleet, options: PlanOptions) => {
      const recommendations = await planFleet(fleet, client, { ...options, now: END });
      const deployment = fleet.deployments.find((candidate) => candidate.id === ID)!;
      const mine = recommendations.find((recommendation) => recommendation.deploymentId === ID)!;
      seen.push({ now, excluded: options.excluded?.(deployment, mine.observed as Observation) ?? (() => false), recommended: mine.proposed?.configuration });
      return recommendations;
    };
    for (const days of [1, 6, 8]) {
      const now = new Date(END.getTime() + days * DAY_MS);
      await cycle(now, spy(now));
    }

    // Assert: the ledger on main records the ban and its reason.
    const ledger = parseLedger('ledger', await git(current.world.bare, 'show', `main:generated/optimizer/ledger/${ID}.jsonl`));
    const rollback = ledger.find((entry) => entry.kind === 'rollback');
    expect(rollback).toMatchObject({ kind: 'rollback', at: END.toISOString(), ban: { strike: 1, days: 7, until: new Date(END.getTime() + 7 * DAY_MS).toISOString() } });
    expect(rollback!.kind === 'rollback' && rollback!.reason).toMatch(/error ratio \d\.\d\d % > 1\.00 %/);
    const failed = rollback!.kind === 'rollback' ? (rollback!.failed as Configuration) : undefined;
    const neighbour = { ...failed!, replicasMax: failed!.replicasMax + 1, maxNumSeqs: failed!.maxNumSeqs * 2 };
    const elsewhere = { ...failed!, gpuType: 'nvidia-h100-80gb' as const };

    // Within the ban the plan keeps the failed configuration and its neighbourhood out, and recommends none of it.
    expect(seen.map(({ excluded }) => [excluded(failed!), excluded(neighbour), excluded(elsewhere)])).toEqual([
      [true, true, false],
      [true, true, false],
      [false, false, false],
    ]);
    for (const { recommended } of seen.slice(0, 2)) if (recommended) expect(inNeighbourhood(failed!, recommended, { tolerancePct: 25, toleranceUnits: 1, materialChangePct: 50 })).toBe(false);
    // A new proposal says what was excluded and why.
    const reopened = current.world.github.pulls.filter((pull) => pull.head === BRANCH && pull.state === 'open');
    for (const pull of reopened)
      expect(pull.body).toMatch(/### Excluded\n\n- nvidia-l4, no quantization, every number within 25 % or 1 step of 1 GPU\(s\), replicas \d+–\d+, max-num-seqs \d+: reverted: .*not proposed until/);
    expect(current.world.github.contractViolations).toEqual([]);
  }, 300_000);
});
