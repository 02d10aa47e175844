import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Environment } from '../declarations/environment.ts';
import { formatIssue } from '../declarations/issues.ts';
import { copyFixtureFleet, editFile, preparedFixture, removeFleet } from '../testing/fixture-fleet.ts';
import { capacityIssues, checkCapacity, clusterPeers, deploymentNodeSelector, environmentCapacity, poolShape, wouldFit } from './capacity.ts';
import { poolCost } from './cost.ts';
import type { Fleet } from './fleet.ts';
import { loadFleet } from './load.ts';

let fleet: Fleet;
const environment = (name: string): Environment => fleet.environments.find((candidate) => candidate.name === name)!;

beforeAll(async () => {
  const result = await loadFleet(await preparedFixture());
  if (!result.ok) throw new Error('the example fleet is invalid');
  fleet = result.fleet;
});

describe('pool shapes', () => {
  it('send a deployment only to the pools with the fewest GPUs per node that hold a replica', () => {
    const staging = environment('staging');

    expect(poolShape(staging, { type: 'nvidia-a100-80gb', count: 1 })).toEqual({ gpuType: 'nvidia-a100-80gb', gpusPerNode: 1 });
    expect(poolShape(staging, { type: 'nvidia-a100-80gb', count: 2 })).toEqual({ gpuType: 'nvidia-a100-80gb', gpusPerNode: 2 });
    expect(poolShape(staging, { type: 'nvidia-a100-80gb', count: 4 })).toBeUndefined();
    // The 8B must not land on (and block) the 2-GPU nodes meant for the 70B.
    expect(deploymentNodeSelector(staging, staging.deployments['llama-3-1-8b-instruct'])).toEqual({ 'llmops.dev/gpu-type': 'nvidia-a100-80gb', 'llmops.dev/gpus-per-node': '1' });
    expect(deploymentNodeSelector(staging, staging.deployments['llama-3-1-70b-instruct'])).toEqual({ 'llmops.dev/gpu-type': 'nvidia-a100-80gb', 'llmops.dev/gpus-per-node': '2' });
  });
});

describe('the capacity check', () => {
  it('counts maximum replicas plus one canary surge per deployment against the pools of its shape', () => {
    const production = environmentCapacity(environment('production'));

    expect(production.map(({ gpuType, gpusPerNode, demandGpus, maxGpus, fits }) => ({ gpuType, gpusPerNode, demandGpus, maxGpus, fits }))).toEqual([
      // 8B (8 + 1) + Qwen (4 + 1) one-GPU replicas on 16 one-GPU nodes.
      { gpuType: 'nvidia-l4', gpusPerNode: 1, demandGpus: 14, maxGpus: 16, fits: true },
      // 70B (3 + 1) four-GPU replicas on 2 eight-GPU nodes.
      { gpuType: 'nvidia-h100-80gb', gpusPerNode: 8, demandGpus: 16, maxGpus: 16, fits: true },
    ]);
  });

  it('says what pool maximum would make a configuration fit (the optimizer asks before proposing)', () => {
    const production = environment('production');
    const proposal = { ...production.deployments['llama-3-1-70b-instruct'], replicas: { min: 2, max: 5 } };

    const verdict = wouldFit(production, 'llama-3-1-70b-instruct', proposal);

    expect(verdict.fits).toBe(false);
    // (5 + 1) × 4 GPUs on eight-GPU nodes: 3 nodes.
    expect(verdict.poolChanges).toEqual([{ environment: 'production', poolIndex: 1, poolName: 'h100x8', maxNodes: 3 }]);
    expect(
      checkCapacity({
        ...production,
        nodePools: production.nodePools.map((pool, index) => (index === 1 ? { ...pool, maxNodes: 3 } : pool)),
        deployments: { ...production.deployments, 'llama-3-1-70b-instruct': proposal },
      }).fits,
    ).toBe(true);
  });

  it('counts the GPUs a replica strands on a node it cannot fill', () => {
    const production = environment('production');
    const threeGpuReplicas = {
      ...production,
      deployments: { 'llama-3-1-70b-instruct': { ...production.deployments['llama-3-1-70b-instruct'], gpu: { type: 'nvidia-h100-80gb' as const, count: 3 }, replicas: { min: 1, max: 3 } } },
    };

    const [, h100] = environmentCapacity(threeGpuReplicas);

    // Two 3-GPU replicas per 8-GPU node, two GPUs stranded: (3 + 1) × 4 GPUs.
    expect(h100.demands[0].nodeGpusPerReplica).toBe(4);
    expect(h100.demandGpus).toBe(16);
  });

  it('rejects the declaration the review found: staging 70B needs 6 GPUs on a pool of 2 two-GPU nodes', () => {
    const staging = environment('staging');
    const overflowing = { ...staging, nodePools: staging.nodePools.map((pool) => (pool.name === 'a100x2' ? { ...pool, maxNodes: 2 } : pool)) };

    expect(capacityIssues(overflowing)).toEqual([
      {
        path: 'nodePools[1].maxNodes',
        message:
          'expected room for every replica on the 2 × nvidia-a100-80gb nodes, plus one canary surge replica per deployment: llama-3-1-70b-instruct (2 + 1 surge) × 2 GPU(s) = 6 GPUs, but the pools hold a100x2 2 node(s) × 2 = 4 GPUs (got maxNodes 2); raise maxNodes to 3 or lower replicas.max',
      },
    ]);
  });
});

describe('a cluster two environments share', () => {
  /** Staging's 8B at 1 + 1 surge replicas, and a lab environment's at 2 + 1 in the same cluster, on 1-GPU A100 nodes. */
  const sharing = () => {
    const staging = environment('staging');
    const small = {
      ...staging,
      nodePools: staging.nodePools.map((pool) => (pool.name === 'a100-spot' ? { ...pool, maxNodes: 4 } : pool)),
      deployments: { 'llama-3-1-8b-instruct': { ...staging.deployments['llama-3-1-8b-instruct'], replicas: { min: 1, max: 1 } } },
    };
    const lab: Environment = {
      ...small,
      name: 'lab',
      namespace: 'llm-lab',
      nodePools: [{ ...small.nodePools[0], name: 'lab-a100', maxNodes: 1 }],
      deployments: { 'llama-3-1-8b-instruct': { ...small.deployments['llama-3-1-8b-instruct'], replicas: { min: 1, max: 2 } } },
    };
    return { staging: small, lab, peers: clusterPeers(small, [lab, small, environment('production')]) };
  };

  it("counts the other environment's model against the pools of the shape, and never grows another environment's pool", () => {
    const { staging, peers } = sharing();
    // Staging's 8B to 1–3 replicas: (3 + 1) + lab's (2 + 1) = 7 GPUs on 4 + 1 nodes; alone it would fit staging's 4.
    const proposal = { ...staging.deployments['llama-3-1-8b-instruct'], replicas: { min: 1, max: 3 } };

    const alone = wouldFit(staging, 'llama-3-1-8b-instruct', proposal);
    const shared = wouldFit(staging, 'llama-3-1-8b-instruct', proposal, peers);

    expect(peers.map((peer) => peer.name)).toEqual(['lab', 'staging']);
    expect(alone.fits).toBe(true);
    expect(shared.fits).toBe(false);
    expect(shared.shapes[0]).toMatchObject({ demandGpus: 7, maxGpus: 5, missingNodes: 2 });
    expect(shared.shapes[0]!.demands.map((demand) => demand.model)).toEqual(['lab/llama-3-1-8b-instruct', 'llama-3-1-8b-instruct']);
    expect(shared.poolChanges).toEqual([{ environment: 'staging', poolIndex: 0, poolName: 'a100-spot', maxNodes: 6 }]);
  });

  it("reports an overflow of shared pools once, at the first pool in the fleet's order, naming both environments", () => {
    const { staging, lab, peers } = sharing();
    const grown = { ...staging, deployments: { 'llama-3-1-8b-instruct': { ...staging.deployments['llama-3-1-8b-instruct'], replicas: { min: 1, max: 3 } } } };

    expect(capacityIssues(grown, clusterPeers(grown, [lab, grown]))).toEqual([]);
    expect(capacityIssues(lab, clusterPeers(lab, [lab, grown]))).toEqual([
      {
        path: 'nodePools[0].maxNodes',
        message:
          'expected room for every replica on the 1 × nvidia-a100-80gb nodes (shared with the other environments of cluster llm-staging), plus one canary surge replica per deployment: llama-3-1-8b-instruct (2 + 1 surge) × 1 GPU(s) + staging/llama-3-1-8b-instruct (3 + 1 surge) × 1 GPU(s) = 7 GPUs, but the pools hold lab-a100 1 + staging/a100-spot 4 node(s) × 1 = 5 GPUs (got maxNodes 1); raise maxNodes to 3 or lower replicas.max',
      },
    ]);
    expect(peers).toHaveLength(2);
  });
});

describe('the loader', () => {
  let root: string;

  beforeAll(async () => {
    root = await copyFixtureFleet();
  });
  afterAll(async () => {
    await removeFleet(root);
  });

  it('reports a declaration whose deployments cannot fit its pools, with file and field', async () => {
    await editFile(root, 'environments/production.ts', "capacity: 'on-demand', minNodes: 1, maxNodes: 2 }", "capacity: 'on-demand', minNodes: 1, maxNodes: 1 }");

    const result = await loadFleet(root);

    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.issues.map(formatIssue)).toEqual([
      'environments/production.ts: nodePools[1].maxNodes: expected room for every replica on the 8 × nvidia-h100-80gb nodes, plus one canary surge replica per deployment: llama-3-1-70b-instruct (3 + 1 surge) × 4 GPU(s) = 16 GPUs, but the pools hold h100x8 1 node(s) × 8 = 8 GPUs (got maxNodes 1); raise maxNodes to 2 or lower replicas.max',
    ]);
  });

  it("rejects an environment whose model overflows the pools it shares with another environment's, with file and field", async () => {
    const staging = await readFile(path.join(root, 'environments/staging.ts'), 'utf8');
    // A lab environment in staging's cluster, its 8B at 1–3 replicas on one node of its own, beside staging's 8B (1–3) on 4.
    const lab = staging
      .replace("name: 'staging'", "name: 'lab'")
      .replace("namespace: 'llm-staging'", "namespace: 'llm-lab'")
      .replace("  promotesFrom: 'dev',\n", '')
      .replace("modelBucket: 'acmellmopsstaging'", "modelBucket: 'acmellmopslab'")
      .replace("key: 'llmops/staging.tfstate'", "key: 'llmops/lab.tfstate'")
      .replace(/nodePools: \[[\s\S]*?\n {2}\],/, "nodePools: [{ name: 'lab-a100', gpuType: 'nvidia-a100-80gb', gpusPerNode: 1, capacity: 'spot', minNodes: 0, maxNodes: 1 }],")
      .replace(/\n {4}'llama-3-1-70b-instruct': \{[\s\S]*?\n {4}\},/, '');
    await writeFile(path.join(root, 'environments/lab.ts'), lab);
    await editFile(root, 'environments/production.ts', "capacity: 'on-demand', minNodes: 1, maxNodes: 1 }", "capacity: 'on-demand', minNodes: 1, maxNodes: 2 }");
    await editFile(root, 'environments/staging.ts', "capacity: 'spot', minNodes: 0, maxNodes: 8 }", "capacity: 'spot', minNodes: 0, maxNodes: 4 }");

    const result = await loadFleet(root);

    expect(result.ok).toBe(false);
    if (result.ok) return;
    // Each fits its own pools; together they need 8 GPUs of the 5 the cluster's 1-GPU A100 nodes hold.
    expect(result.issues.map(formatIssue)).toEqual([
      'environments/lab.ts: nodePools[0].maxNodes: expected room for every replica on the 1 × nvidia-a100-80gb nodes (shared with the other environments of cluster llm-staging), plus one canary surge replica per deployment: llama-3-1-8b-instruct (3 + 1 surge) × 1 GPU(s) + staging/llama-3-1-8b-instruct (3 + 1 surge) × 1 GPU(s) = 8 GPUs, but the pools hold lab-a100 1 + staging/a100-spot 4 node(s) × 1 = 5 GPUs (got maxNodes 1); raise maxNodes to 4 or lower replicas.max',
    ]);
  });
});

describe('pool costs', () => {
  it('price the whole-pool node range the Terraform output provisions', () => {
    const production = environment('production');

    const h100 = poolCost(production, production.nodePools[1])!;

    // a3-highgpu-8g: 8 × (4.20 GPU + 1.18 host) USD/h × 730 h.
    expect(h100).toMatchObject({ machineType: 'a3-highgpu-8g', minNodes: 1, maxNodes: 2, zones: ['us-central1-a', 'us-central1-b', 'us-central1-c'] });
    expect(Math.round(h100.minUsdPerMonth)).toBe(31419);
    expect(Math.round(h100.maxUsdPerMonth)).toBe(62838);
  });
});
