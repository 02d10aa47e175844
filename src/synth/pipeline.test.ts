import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadFleet } from '../fleet/load.ts';
import { copyFixtureFleet, editFile, REPO_ROOT, removeFleet, runCli } from '../testing/fixture-fleet.ts';
import { writeLargeFleet } from '../../scripts/large-fleet.ts';
import { sha256 } from './content-hash.ts';
import { runPipeline } from './pipeline.ts';
import { synthesize } from './steps.ts';
import { SynthCache } from './synth-cache.ts';
import { readTree } from './write.ts';

const generated = (root: string) => readTree(path.join(root, 'generated'));

async function loaded(root: string) {
  const result = await loadFleet(root);
  if (!result.ok) throw new Error(JSON.stringify(result.issues));
  return result.fleet;
}

describe('synth cache', () => {
  let cacheDir: string;
  let root: string;

  beforeAll(async () => {
    cacheDir = await mkdtemp(path.join(tmpdir(), 'llmops-cache-'));
    process.env.LLMOPS_CACHE_DIR = cacheDir;
  });

  afterAll(async () => {
    delete process.env.LLMOPS_CACHE_DIR;
    await rm(cacheDir, { recursive: true, force: true });
  });

  beforeEach(async () => {
    root = await copyFixtureFleet();
    expect((await runCli(['synth', '--root', root])).exitCode).toBe(0);
  });

  afterEach(async () => {
    delete process.env.LLMOPS_LOAD_MEMORY_MIB;
    await removeFleet(root);
  });

  it('answers synth and synth --check with nothing changed without loading the fleet', async () => {
    // Arrange: a sandbox limit the loader refuses, so any run that loads the fleet fails.
    process.env.LLMOPS_LOAD_MEMORY_MIB = 'lots';
    const before = await generated(root);

    // Act
    const check = await runCli(['synth', '--check', '--root', root]);
    const synth = await runCli(['synth', '--root', root]);

    // Assert
    expect(check).toEqual({ exitCode: 0, stdout: `generated/ is up to date (${before.size} files).\n`, stderr: '' });
    expect(synth.exitCode).toBe(0);
    expect(synth.stdout).toContain('(0 changed, 0 added, 0 removed: already up to date)');
    expect(await generated(root)).toEqual(before);
  });

  it('still reports a ledger line that was damaged before the synth the --check answers from', async () => {
    // Arrange: a synth (which does not read the ledger) records the fleet with the damaged line.
    const ledger = 'generated/optimizer/ledger/production/qwen2-5-7b-instruct.jsonl';
    await mkdir(path.dirname(path.join(root, ledger)), { recursive: true });
    await writeFile(path.join(root, ledger), '{"kind":"decision","at":"2026-01-01T00:00:00.000Z","deploy\n');
    expect((await runCli(['synth', '--root', root])).exitCode).toBe(0);

    // Act
    const check = await runCli(['synth', '--check', '--root', root]);

    // Assert
    expect(check.exitCode).toBe(1);
    expect(check.stderr).toContain(`${ledger}:1: expected one JSON object per line`);
  });

  it('loads the fleet again when a declaration changed (the refused limit now shows)', async () => {
    process.env.LLMOPS_LOAD_MEMORY_MIB = 'lots';
    await editFile(root, 'environments/staging.ts', "capacity: 'spot', minNodes: 0, maxNodes: 8", "capacity: 'spot', minNodes: 0, maxNodes: 9");

    const check = await runCli(['synth', '--check', '--root', root]);

    expect(check.exitCode).toBe(1);
    expect(check.stderr).toContain('LLMOPS_LOAD_MEMORY_MIB');
  });

  it('proves generated/ on disk: an edited, a deleted and an added file are found on the no-op path', async () => {
    process.env.LLMOPS_LOAD_MEMORY_MIB = 'lots';
    const file = path.join(root, 'generated/dev/kubernetes/namespace.yaml');
    await writeFile(file, `${await readFile(file, 'utf8')}# hand edit\n`);
    delete process.env.LLMOPS_LOAD_MEMORY_MIB;
    await rm(path.join(root, 'generated/production/helm/values.yaml'));
    await writeFile(path.join(root, 'generated/research/extra.yaml'), 'kind: ConfigMap\n');

    const check = await runCli(['synth', '--check', '--root', root]);

    expect(check.exitCode).toBe(1);
    expect(check.stderr).toContain('  stale    generated/dev/kubernetes/namespace.yaml');
    expect(check.stderr).toContain('  missing  generated/production/helm/values.yaml');
    expect(check.stderr).toContain('  extra    generated/research/extra.yaml');
  });

  it('re-synthesizes only the environment a change touches, and the result is what a synth without cache writes', async () => {
    // Arrange
    await editFile(root, 'environments/staging.ts', "capacity: 'spot', minNodes: 0, maxNodes: 8", "capacity: 'spot', minNodes: 0, maxNodes: 9");
    const fleet = await loaded(root);

    // Act
    const result = await runPipeline(root, { fleet, check: false, cache: await SynthCache.open() });

    // Assert
    expect(result.synthesized).toEqual(['staging']);
    expect(result.diff).toEqual({ stale: ['staging/terraform/cdk.tf.json'], missing: [], extra: [] });
    expect(await generated(root)).toEqual(synthesize(fleet));
  });

  it('does not trust a record whose files on disk changed: that environment is synthesized again and put right', async () => {
    const file = path.join(root, 'generated/research/kubernetes/namespace.yaml');
    const original = await readFile(file, 'utf8');
    await writeFile(file, original.replace('NetworkPolicy', 'NetworkPolicyX'));
    const fleet = await loaded(root);

    const result = await runPipeline(root, { fleet, check: false, cache: await SynthCache.open() });

    expect(result.synthesized).toEqual(['research']);
    expect(await readFile(file, 'utf8')).toBe(original);
  });

  it('synthesizes everything again for another compiler (the record names the compiler)', async () => {
    const fleet = await loaded(root);
    const cache = (await SynthCache.open())!;
    const other = Object.assign(Object.create(Object.getPrototypeOf(cache)), cache, { compiler: 'another compiler' }) as SynthCache;

    const result = await runPipeline(root, { fleet, check: true, cache: other });

    expect(result.synthesized).toEqual(fleet.environments.map((environment) => environment.name));
    expect(await other.unchangedFleet(root)).toBeUndefined();
  });
});

describe('parallel synth', () => {
  let fleetRoot: string;

  beforeAll(async () => {
    // 20 models x 3 environments: several deployment units per environment.
    fleetRoot = await writeLargeFleet(REPO_ROOT, 20);
  });

  afterAll(async () => {
    await removeFleet(fleetRoot);
  });

  it('writes byte for byte what one thread writes, and what the in-memory synth makes', async () => {
    // Arrange
    const fleet = await loaded(fleetRoot);
    const roots = await Promise.all([1, 2, 3].map((threads) => mkdtemp(path.join(tmpdir(), `llmops-threads-${threads}-`))));
    try {
      // Act: this thread alone; Terraform on a worker, the rest here; Terraform on a worker, the rest on another.
      const results = [];
      for (const [index, root] of roots.entries()) results.push(await runPipeline(root, { fleet, check: false, threads: index + 1 }));

      // Assert
      const inMemory = synthesize(fleet);
      for (const [index, root] of roots.entries()) {
        expect(await generated(root)).toEqual(inMemory);
        expect(results[index]!.files).toEqual(Object.fromEntries([...inMemory].map(([file, content]) => [file, sha256(content)])));
        expect(results[index]!.synthesized).toEqual(['dev', 'production', 'staging']);
      }
    } finally {
      await Promise.all(roots.map((root) => rm(root, { recursive: true, force: true })));
    }
  });

  it('a failing unit fails the run and leaves generated/ as it was', async () => {
    const fleet = await loaded(fleetRoot);
    const target = await mkdtemp(path.join(tmpdir(), 'llmops-failing-'));
    try {
      await runPipeline(target, { fleet, check: false, threads: 1 });
      const before = await generated(target);
      // Deployments whose prompts the Kubernetes step cannot render (only a worker's unit reads them).
      const broken = { ...fleet, deployments: fleet.deployments.map((deployment) => (deployment.environment.name === 'staging' ? { ...deployment, prompts: [null as never] } : deployment)) };

      await expect(runPipeline(target, { fleet: broken, check: false, threads: 3 })).rejects.toThrow(/the kubernetes step failed for staging/);
      expect(await generated(target)).toEqual(before);
    } finally {
      await rm(target, { recursive: true, force: true });
    }
  });
});
