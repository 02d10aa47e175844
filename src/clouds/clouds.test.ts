import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { formatIssue } from '../declarations/issues.ts';
import { loadFleet } from '../fleet/load.ts';
import { environmentTerraform } from '../synth/terraform/terraform-synthesizer.ts';
import { copyFixtureFleet, editFile, removeFleet } from '../testing/fixture-fleet.ts';
import { readerRoleName } from './aws/index.ts';
import { aksPoolName } from './azure/index.ts';
import { shortenName } from './names.ts';
import { CLOUDS } from './registry.ts';

let root: string;

beforeEach(async () => {
  root = await copyFixtureFleet();
});
afterEach(async () => {
  await removeFleet(root);
});

/** Every problem the loader reports, as users see them. */
async function problems(): Promise<string[]> {
  const result = await loadFleet(root);
  return result.ok ? [] : result.issues.map(formatIssue);
}

describe('the environment schema, a union on cloud', () => {
  it('knows the four clouds', async () => {
    await editFile(root, 'environments/dev.ts', "cloud: 'aws'", "cloud: 'oracle'");

    expect(CLOUDS).toEqual(['aws', 'gcp', 'azure', 'digitalocean']);
    expect(await problems()).toEqual(['environments/dev.ts: cloud: expected one of "aws", "gcp", "azure", "digitalocean" (got "oracle")']);
  });

  it("rejects a state backend the environment's cloud does not use (no silent local state)", async () => {
    await editFile(
      root,
      'environments/dev.ts',
      "stateBackend: { type: 's3', bucket: 'acme-terraform-state', key: 'llmops/dev/terraform.tfstate', region: 'us-east-1' }",
      "stateBackend: { type: 'gcs', bucket: 'acme-terraform-state', prefix: 'llmops/dev' }",
    );

    expect(await problems()).toEqual(['environments/dev.ts: stateBackend.type: expected one of "s3" (got "gcs")']);
  });

  it("rejects another cloud's fields", async () => {
    await editFile(root, 'environments/dev.ts', "accountId: '111122223333',", "accountId: '111122223333',\n  project: 'acme-llm-dev',");

    expect(await problems()).toEqual(['environments/dev.ts: project: unknown field']);
  });

  it('requires the fields of its cloud', async () => {
    await editFile(root, 'environments/production.ts', "  project: 'acme-llm-prod',\n", '');

    expect(await problems()).toEqual(['environments/production.ts: project: required: expected a string (got nothing)']);
  });
});

describe('name rules per cloud', () => {
  it('AKS: a pool name must make 1–12 lower-case letters and digits starting with a letter', async () => {
    await editFile(root, 'environments/staging.ts', "{ name: 'a100-spot',", "{ name: '4090-spot',");

    expect(await problems()).toEqual([
      'environments/staging.ts: nodePools[0].name: expected the AKS node pool name it makes to be 1–12 characters, lower-case letters and digits, starting with a letter (got "4090spot", 8 characters); rename it',
    ]);
  });

  it('AKS: two pools that make one AKS name are reported, not left to fail in synth', async () => {
    await editFile(
      root,
      'environments/staging.ts',
      '  nodePools: [\n',
      "  nodePools: [\n    { name: 'a100spot', gpuType: 'nvidia-a100-80gb', gpusPerNode: 1, capacity: 'spot', minNodes: 0, maxNodes: 1 },\n",
    );

    expect(await problems()).toEqual([
      'environments/staging.ts: nodePools[1].name: expected the AKS node pool name it makes to differ from every other AKS node pool in cluster llm-staging (got "a100spot", also the AKS node pool of environments/staging.ts: nodePools[0].name); rename one of them',
    ]);
  });

  it('AKS: a long pool name is shortened with a hash of the whole name, never truncated into another', async () => {
    await editFile(root, 'environments/staging.ts', "{ name: 'a100-spot',", "{ name: 'a100-spot-eastus-large',");
    await editFile(
      root,
      'environments/staging.ts',
      '  nodePools: [\n',
      "  nodePools: [\n    { name: 'a100-spot-eastus-small', gpuType: 'nvidia-a100-80gb', gpusPerNode: 1, capacity: 'spot', minNodes: 0, maxNodes: 1 },\n",
    );

    const result = await loadFleet(root);

    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const names = Object.values((environmentTerraform(result.fleet, 'staging') as { resource: Record<string, Record<string, { name: string }>> }).resource.azurerm_kubernetes_cluster_node_pool).map(
      (pool) => pool.name,
    );
    expect(names).toHaveLength(3);
    expect(new Set(names).size).toBe(3);
    for (const name of names) expect(name).toMatch(/^[a-z][a-z0-9]{0,11}$/);
    expect(names).toContain(aksPoolName({ name: 'a100-spot-eastus-large' } as never));
  });

  it('IAM: long role names keep a hash, so two models sharing a prefix get two roles', () => {
    const environment = { name: 'dev', cluster: 'llm-dev-cluster-with-a-long-name' } as never;

    const first = readerRoleName(environment, 'llama-3-1-8b-instruct-finetuned-support-a');
    const second = readerRoleName(environment, 'llama-3-1-8b-instruct-finetuned-support-b');

    expect(first).not.toBe(second);
    expect(first.length).toBeLessThanOrEqual(64);
    expect(second.length).toBeLessThanOrEqual(64);
    expect(shortenName('x'.repeat(80), 64)).toBe(shortenName('x'.repeat(80), 64));
  });

  it('IAM: two environments in one account that make one role name are reported', async () => {
    // Cluster "llm" + environment "dev-dev" and cluster "llm-dev" + environment "dev" make the same names.
    await writeFile(
      path.join(root, 'environments/dev-dev.ts'),
      `import { defineEnvironment } from 'llmops-gitops';
import dev from './dev.ts';

export default defineEnvironment({ ...dev, name: 'dev-dev', cluster: 'llm', namespace: 'llm-dev-dev', modelBucket: 'acme-llmops-dev-dev-models', stateBackend: { ...dev.stateBackend, key: 'llmops/dev-dev/terraform.tfstate' } });
`,
    );

    const found = await problems();

    expect(found).toContain(
      'environments/dev.ts: deployments.llama-3-1-8b-instruct: expected the IAM role name it makes to differ from every other IAM role in AWS account 111122223333 (got "llm-dev-dev-llama-3-1-8b-instruct", also the IAM role of environments/dev-dev.ts: deployments.llama-3-1-8b-instruct); rename one of them',
    );
    expect(found).toContain(
      'environments/dev.ts: cluster: expected the IAM role name it makes to differ from every other IAM role in AWS account 111122223333 (got "llm-dev-dev-gpu-nodes", also the IAM role of environments/dev-dev.ts: cluster); rename one of them',
    );
  });

  it('EKS and GKE: names over the limit are shortened with a hash and still valid', async () => {
    const longPool = `l4-${'spot'.repeat(15)}`;
    await editFile(root, 'environments/dev.ts', "{ name: 'l4-spot',", `{ name: '${longPool}',`);
    await editFile(root, 'environments/production.ts', "{ name: 'h100x8',", "{ name: 'h100x8-reserved-capacity-us-central',");

    const result = await loadFleet(root);

    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const eks = Object.values((environmentTerraform(result.fleet, 'dev') as any).resource.aws_eks_node_group).map((group: any) => group.node_group_name);
    const gke = Object.values((environmentTerraform(result.fleet, 'production') as any).resource.google_container_node_pool).map((pool: any) => pool.name);
    expect(eks).toContain(shortenName(`dev-${longPool}`, 63));
    expect(Math.max(...eks.map((name: string) => name.length))).toBe(63);
    expect(gke).toContain(shortenName('production-h100x8-reserved-capacity-us-central', 40));
    expect(Math.max(...gke.map((name: string) => name.length))).toBe(40);
  });

  it('Azure: the model bucket must be a storage account name', async () => {
    await editFile(root, 'environments/staging.ts', "modelBucket: 'acmellmopsstaging'", "modelBucket: 'acme-llmops-staging'");

    expect(await problems()).toEqual([
      'environments/staging.ts: modelBucket: expected the Azure storage account name it makes to be 3–24 characters, lower-case letters and digits (got "acme-llmops-staging", 19 characters); rename it',
    ]);
  });
});

describe("each cloud's own rules", () => {
  it('DigitalOcean sells no spot GPUs', async () => {
    await editFile(root, 'environments/research.ts', "capacity: 'on-demand', minNodes: 1, maxNodes: 3", "capacity: 'spot', minNodes: 1, maxNodes: 3");

    expect(await problems()).toEqual(['environments/research.ts: nodePools[0].capacity: expected "on-demand": digitalocean sells no spot GPU capacity (got "spot")']);
  });

  it('GCP: a GPU without catalogued zones in the region needs its zones declared, and declared zones must sell it', async () => {
    await editFile(
      root,
      'environments/production.ts',
      '  nodePools: [\n',
      "  nodePools: [\n    { name: 't4', gpuType: 'nvidia-t4', gpusPerNode: 1, capacity: 'spot', minNodes: 0, maxNodes: 2 },\n    { name: 'h100-f', gpuType: 'nvidia-h100-80gb', gpusPerNode: 8, minNodes: 0, maxNodes: 1, zones: ['us-central1-f'] },\n",
    );

    expect(await problems()).toEqual([
      'environments/production.ts: nodePools[0].zones: required on gcp for nvidia-t4 in us-central1: expected the zones that sell it, such as ["us-central1-a"]; the catalogue does not list them (got nothing)',
      'environments/production.ts: nodePools[1].zones: expected zones of us-central1 that sell nvidia-h100-80gb (us-central1-a, us-central1-b, us-central1-c) (got "us-central1-f")',
    ]);
  });

  it('GCP: A3 High with fewer than 8 GPUs is sold as Spot only, never on demand', async () => {
    await editFile(
      root,
      'environments/production.ts',
      '  nodePools: [\n',
      "  nodePools: [\n    { name: 'h100x2-spot', gpuType: 'nvidia-h100-80gb', gpusPerNode: 2, capacity: 'spot', minNodes: 0, maxNodes: 1 },\n    { name: 'h100x2', gpuType: 'nvidia-h100-80gb', gpusPerNode: 2, capacity: 'on-demand', minNodes: 0, maxNodes: 1 },\n",
    );

    expect(await problems()).toEqual([
      'environments/production.ts: nodePools[1].capacity: expected "spot": Google sells a3-highgpu-2g only as Spot or Flex-start VMs, not on demand (got "on-demand"); use gpusPerNode 8 for on-demand nvidia-h100-80gb nodes',
    ]);
  });

  it('Azure: a client id names a model deployed in the environment', async () => {
    await editFile(
      root,
      'environments/staging.ts',
      "resourceGroup: 'rg-llm-staging',",
      "resourceGroup: 'rg-llm-staging',\n  workloadIdentityClientIds: { 'qwen2-5-7b-instruct': '1b4e28ba-2fa1-11d2-883f-0016d3cca427' },",
    );

    expect(await problems()).toEqual([
      'environments/staging.ts: workloadIdentityClientIds.qwen2-5-7b-instruct: expected a model deployed in this environment (llama-3-1-8b-instruct, llama-3-1-70b-instruct) (got "qwen2-5-7b-instruct")',
    ]);
  });
});
