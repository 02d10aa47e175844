/**
 * Proposals that fit the cluster, through the real Prometheus: an overloaded deployment on a small node pool gets a
 * scale-out that grows the pool in the same change, or — where the budget cannot pay for the larger pool — no
 * proposal that would overflow it. Each proposal is checked by applying it and loading the fleet (the loader's own
 * capacity check).
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { applyDeclarationChange } from '../act/edit-declaration.ts';
import { formatIssue } from '../declarations/issues.ts';
import { loadFleet } from '../fleet/load.ts';
import { copyFixtureFleet, editFile, removeFleet, runCli } from '../testing/fixture-fleet.ts';
import { EXAMPLE_TRUTH, lastWednesdayAfternoon, simulateAndPlan, steady } from '../testing/plan-harness.ts';
import { clusterPeers } from '../fleet/capacity.ts';
import { currentConfiguration } from './decide.ts';
import { fitToPools } from './fit.ts';
import type { DeclarationChange, Recommendation } from './recommendation.ts';

const END = lastWednesdayAfternoon();
const ID = 'staging/llama-3-1-8b-instruct';
const FILE = 'environments/staging.ts';
/** Staging's 8B drowning in 30 requests/s on 1–2 A100s. */
const RUSH = { durationMinutes: 60, seed: 31, deployments: { [ID]: steady(30) }, truth: { 'llama-3-1-8b-instruct': EXAMPLE_TRUTH['llama-3-1-8b-instruct'] } };

let root: string;
beforeEach(async () => {
  root = await copyFixtureFleet();
  await editFile(root, FILE, "replicas: { min: 1, max: 3 },\n      gpu: { type: 'nvidia-a100-80gb', count: 1 },", "replicas: { min: 1, max: 2 },\n      gpu: { type: 'nvidia-a100-80gb', count: 1 },");
  // (2 + 1 surge) replicas fill the 1-GPU pool's 3 nodes: any scale-out needs a larger pool.
  await editFile(root, FILE, "capacity: 'spot', minNodes: 0, maxNodes: 8 }", "capacity: 'spot', minNodes: 0, maxNodes: 3 }");
});
afterEach(async () => removeFleet(root));

async function plan(): Promise<Recommendation> {
  expect((await runCli(['synth', '--root', root])).exitCode).toBe(0);
  const loaded = await loadFleet(root);
  if (!loaded.ok) throw new Error(loaded.issues.map(formatIssue).join('\n'));
  return (await simulateAndPlan(loaded.fleet, RUSH, END, { environment: 'staging' })).find((recommendation) => recommendation.deploymentId === ID)!;
}

/** The loader's verdict on the declarations with `change` applied. */
async function loadWith(change: DeclarationChange): Promise<string[]> {
  const file = path.join(root, FILE);
  await writeFile(file, applyDeclarationChange(FILE, await readFile(file, 'utf8'), 'llama-3-1-8b-instruct', change));
  const loaded = await loadFleet(root);
  return loaded.ok ? [] : loaded.issues.map(formatIssue);
}

describe('a proposal on a node pool too small for it', () => {
  it('grows the pool in the same change when the budget holds: applied, it loads, and without the pool it would not', async () => {
    const recommendation = await plan();

    expect(recommendation).toMatchObject({ action: 'change', rule: 'safety-slo-breach' });
    const { nodePools, ...withoutPools } = recommendation.change!;
    expect(nodePools).toEqual([{ index: 0, name: 'a100-spot', maxNodes: recommendation.change!.replicas!.max + 1 }]);
    const declaration = await readFile(path.join(root, FILE), 'utf8');
    expect(await loadWith(withoutPools)).toEqual([expect.stringMatching(/^environments\/staging\.ts: nodePools\[0\]\.maxNodes: expected room for every replica/)]);
    await writeFile(path.join(root, FILE), declaration);
    expect(await loadWith(recommendation.change!)).toEqual([]);
  }, 180_000);

  it('is never made when the budget cannot pay for the larger pool: the plan says so', async () => {
    await editFile(root, FILE, 'budget: { monthlyUsd: 15000 }', 'budget: { monthlyUsd: 700 }');

    const recommendation = await plan();

    expect(recommendation).toMatchObject({ action: 'none', rule: 'safety-slo-breach' });
    expect(recommendation.reason).toMatch(
      /^SLO breached \(.*\) but 3–5 replicas does not fit the node pools: needs 6 GPUs on the 1 × nvidia-a100-80gb nodes of staging\/a100-spot \(at most 3; .*\); growing a100-spot would let staging spend \d+ USD\/month at the maximum replicas, over its 700 USD budget: page a person$/,
    );
  }, 180_000);
});

describe('the fit of a configuration', () => {
  it("counts another environment's model on the pools its cluster shares, and grows the proposer's own pool for both", async () => {
    const loaded = await loadFleet(root);
    if (!loaded.ok) throw new Error('fixture invalid');
    const deployment = loaded.fleet.deployments.find((candidate) => candidate.id === ID)!;
    const staging = deployment.environment;
    // A lab environment in staging's cluster with its own 8B at up to 2 replicas (+ 1 surge) and one node of its own.
    const lab = {
      ...staging,
      name: 'lab',
      namespace: 'llm-lab',
      nodePools: [{ ...staging.nodePools[0]!, name: 'lab-a100', maxNodes: 1 }],
      deployments: { 'llama-3-1-8b-instruct': { ...staging.deployments['llama-3-1-8b-instruct']!, replicas: { min: 1, max: 2 } } },
    };
    const scaled = { ...currentConfiguration(deployment), replicasMin: 2, replicasMax: 3 };

    const alone = fitToPools(deployment, scaled, { peers: [staging] });
    const shared = fitToPools(deployment, scaled, { peers: clusterPeers(staging, [lab, staging]) });
    const broke = fitToPools(deployment, scaled, { peers: clusterPeers(staging, [lab, staging]), otherDeploymentsMonthlyUsd: 14_900 });

    // Alone: (3 + 1) on 3 nodes. Shared: (3 + 1) + (2 + 1) on 3 + 1.
    expect(alone).toEqual({ poolChanges: [{ environment: 'staging', poolIndex: 0, poolName: 'a100-spot', maxNodes: 4 }] });
    expect(shared).toEqual({ poolChanges: [{ environment: 'staging', poolIndex: 0, poolName: 'a100-spot', maxNodes: 6 }] });
    expect(broke.poolChanges).toEqual([]);
    expect(broke.violation).toMatch(
      /^does not fit the node pools: needs 7 GPUs on the 1 × nvidia-a100-80gb nodes of lab\/lab-a100 \+ staging\/a100-spot \(at most 4; lab\/llama-3-1-8b-instruct \(2 \+ 1 surge\) × 1 \+ llama-3-1-8b-instruct \(3 \+ 1 surge\) × 1\); growing a100-spot would let staging spend \d+ USD\/month at the maximum replicas, over its 15000 USD budget$/,
    );
  });
});
