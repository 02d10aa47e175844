import { execFile } from 'node:child_process';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadFleet } from '../fleet/load.ts';
import { readTree } from '../synth/write.ts';
import { nodePoolsMarkdown } from './commands/ls.ts';
import { copyFixtureFleet, editFile, preparedFixture, REPO_ROOT, removeFleet, runCli } from '../testing/fixture-fleet.ts';

const run = promisify(execFile);

describe('llmops synth', () => {
  let root: string;

  beforeEach(async () => {
    root = await copyFixtureFleet();
  });

  afterEach(async () => {
    await removeFleet(root);
  });

  it('gives byte-identical output when run twice', async () => {
    expect((await runCli(['synth', '--root', root])).exitCode).toBe(0);
    const first = await readTree(path.join(root, 'generated'));
    await rm(path.join(root, 'generated'), { recursive: true });

    expect((await runCli(['synth', '--root', root])).exitCode).toBe(0);
    const second = await readTree(path.join(root, 'generated'));

    expect(first.size).toBeGreaterThan(0);
    expect(second).toEqual(first);
  });

  it('gives the same output in a fresh process as the prepared fixture', async () => {
    await runCli(['synth', '--root', root]);

    expect(await readTree(path.join(root, 'generated'))).toEqual(await readTree(path.join(await preparedFixture(), 'generated')));
  });

  it('--check passes on a fresh tree and names the stale files after an edit', async () => {
    await runCli(['synth', '--root', root]);
    const clean = await runCli(['synth', '--check', '--root', root]);
    await editFile(root, 'environments/staging.ts', "capacity: 'spot', minNodes: 0, maxNodes: 8", "capacity: 'spot', minNodes: 0, maxNodes: 9");
    const before = await readTree(path.join(root, 'generated'));

    const stale = await runCli(['synth', '--check', '--root', root]);

    expect(clean.exitCode).toBe(0);
    expect(stale.exitCode).toBe(1);
    expect(stale.stderr).toContain('  stale    generated/staging/terraform/cdk.tf.json');
    expect(stale.stderr).not.toContain('generated/dev/');
    expect(await readTree(path.join(root, 'generated'))).toEqual(before);
  });

  it('--check lists missing and extra files, and synth removes files without a source', async () => {
    await runCli(['synth', '--root', root]);
    await writeFile(path.join(root, 'generated/dev/leftover.yaml'), 'kind: ConfigMap\n');
    await rm(path.join(root, 'generated/production/terraform/cdk.tf.json'));

    const check = await runCli(['synth', '--check', '--json', '--root', root]);
    await runCli(['synth', '--root', root]);

    expect(check.exitCode).toBe(1);
    expect(JSON.parse(check.stdout)).toMatchObject({
      upToDate: false,
      missing: ['production/terraform/cdk.tf.json'],
      extra: ['dev/leftover.yaml'],
    });
    const after = await readTree(path.join(root, 'generated'));
    expect(after.has('dev/leftover.yaml')).toBe(false);
    expect(after.has('production/terraform/cdk.tf.json')).toBe(true);
  });

  it('--env rewrites only that environment and leaves the others as they are', async () => {
    await runCli(['synth', '--root', root]);
    await writeFile(path.join(root, 'generated/production/terraform/cdk.tf.json'), '{}\n');
    await editFile(root, 'environments/dev.ts', "capacity: 'spot', minNodes: 0, maxNodes: 4", "capacity: 'spot', minNodes: 0, maxNodes: 5");

    const result = await runCli(['synth', '--env', 'dev', '--root', root]);

    expect(result.exitCode).toBe(0);
    const tree = await readTree(path.join(root, 'generated'));
    expect(tree.get('production/terraform/cdk.tf.json')).toBe('{}\n');
    expect(tree.get('dev/terraform/cdk.tf.json')).toContain('"max_size": 5');
  });

  it('rejects an unknown --env with the names it knows (exit 2)', async () => {
    const result = await runCli(['synth', '--env', 'stagin', '--root', root]);

    expect(result.exitCode).toBe(2);
    expect(result.stderr).toBe('--env: expected one of dev, production, research, staging (did you mean "staging"?) (got "stagin")\n');
  });

  it("keeps the bot's ledger in generated/optimizer across synths", async () => {
    await mkdir(path.join(root, 'generated/optimizer'), { recursive: true });
    await writeFile(path.join(root, 'generated/optimizer/ledger.jsonl'), '{"event":"proposal"}\n');

    await runCli(['synth', '--root', root]);
    const check = await runCli(['synth', '--check', '--root', root]);

    expect(await readFile(path.join(root, 'generated/optimizer/ledger.jsonl'), 'utf8')).toBe('{"event":"proposal"}\n');
    expect(check.exitCode).toBe(0);
  });

  it('runs as a real binary: exit codes and no stack trace', async () => {
    await editFile(root, 'environments/dev.ts', 'replicas: { min: 0, max: 2 }', 'replicas: { min: 3, max: 2 }');
    const bin = path.join(REPO_ROOT, 'bin/llmops.js');

    const failure = await run('node', [bin, 'synth', '--root', root]).then(
      () => ({ code: 0, stderr: '' }),
      (error: { code: number; stderr: string }) => error,
    );
    const help = await run('node', [bin, 'synth', '--help']);

    expect(failure.code).toBe(1);
    expect(failure.stderr).toBe(
      'environments/dev.ts: deployments.llama-3-1-8b-instruct.replicas.min: expected at most replicas.max (2) (got 3)\n1 problem(s) in the declarations; generated/ was not changed.\n',
    );
    expect(help.stdout).toContain('--check');
  });
});

describe('llmops ls and schema', () => {
  it('lists every deployment with its monthly cost range, and every node pool as the Terraform output provisions it', async () => {
    const result = await runCli(['ls', '--json', '--root', await preparedFixture()]);

    const { deployments, nodePools } = JSON.parse(result.stdout) as {
      deployments: { environment: string; model: string; machineType: string; minUsdPerMonth: number; maxUsdPerMonth: number }[];
      nodePools: { environment: string; pool: string; zones: string[]; nodes: { min: number; max: number }; minUsdPerMonth: number; maxUsdPerMonth: number }[];
    };
    const production8b = deployments.find((row) => row.environment === 'production' && row.model === 'llama-3-1-8b-instruct')!;
    const productionH100 = nodePools.find((row) => row.environment === 'production' && row.pool === 'h100x8')!;
    // 2–8 replicas × g2-standard-8 (0.56 GPU + 0.294 host USD/h) × 730 h.
    expect(production8b).toMatchObject({ machineType: 'g2-standard-8', minUsdPerMonth: 1247, maxUsdPerMonth: 4987 });
    expect(deployments).toHaveLength(8);
    // 1–2 a3-highgpu-8g for the whole pool across its three zones: 8 × (4.20 + 1.18) USD/h × 730 h per node.
    expect(productionH100).toMatchObject({ zones: ['us-central1-a', 'us-central1-b', 'us-central1-c'], nodes: { min: 1, max: 2 }, minUsdPerMonth: 31419, maxUsdPerMonth: 62838 });
    expect(nodePools).toHaveLength(7);
  });

  it('agrees with BENCHMARKS.md on the node pools as provisioned', async () => {
    const loaded = await loadFleet(await preparedFixture());
    if (!loaded.ok) throw new Error('the example fleet is invalid');

    const benchmarks = await readFile(path.join(REPO_ROOT, 'BENCHMARKS.md'), 'utf8');

    expect(benchmarks).toContain(nodePoolsMarkdown(loaded.fleet));
    expect(benchmarks).toContain('| production | GCP (GKE) | h100x8 | a3-highgpu-8g on-demand | us-central1-a, us-central1-b, us-central1-c | 1–2 | $31,419 - $62,838 |');
  });

  it('prints a JSON Schema for each kind', async () => {
    const result = await runCli(['schema', 'environment']);

    const schema = JSON.parse(result.stdout);
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    // One strict object per cloud (a union on `cloud`).
    expect(schema.oneOf.map((member: { properties: { cloud: { const: string } } }) => member.properties.cloud.const)).toEqual(['aws', 'gcp', 'azure', 'digitalocean']);
    for (const member of schema.oneOf) {
      expect(member.additionalProperties).toBe(false);
      expect(member.required).toEqual(expect.arrayContaining(['name', 'cloud', 'deployments', 'slos', 'stateBackend']));
    }
  });
});
