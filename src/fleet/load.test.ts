import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readTree } from '../synth/write.ts';
import { copyFixtureFleet, editFile, removeFleet, runCli } from '../testing/fixture-fleet.ts';
import { loadFleet } from './load.ts';

interface BrokenCase {
  readonly rule: string;
  readonly file: string;
  readonly search: string;
  readonly replacement: string;
  /** The full problem line the user must see. */
  readonly expected: string;
}

const CASES: readonly BrokenCase[] = [
  {
    rule: 'unknown field, with a did-you-mean',
    file: 'environments/dev.ts',
    search: 'replicas: { min: 0, max: 2 }',
    replacement: 'replica: { min: 0, max: 2 }',
    expected: 'environments/dev.ts: deployments.llama-3-1-8b-instruct.replica: unknown field (did you mean "replicas"?)',
  },
  {
    rule: 'unknown engine argument, with a did-you-mean',
    file: 'environments/dev.ts',
    search: "'max-num-seqs': 64",
    replacement: "'max-num-seq': 64",
    expected: 'environments/dev.ts: deployments.llama-3-1-8b-instruct.engineArgs.max-num-seq: unknown field (did you mean "max-num-seqs"?)',
  },
  {
    rule: 'wrong type',
    file: 'environments/production.ts',
    search: 'ttftP95Ms: 800',
    replacement: "ttftP95Ms: '800ms'",
    expected: 'environments/production.ts: slos.ttftP95Ms: expected a number (got "800ms")',
  },
  {
    rule: 'names are DNS-1123 labels',
    file: 'policies/balanced.ts',
    search: "name: 'balanced'",
    replacement: "name: 'Balanced_Policy'",
    expected: `policies/balanced.ts: name: expected a DNS-1123 label: lower-case letters, digits and '-', starting and ending with a letter or digit, at most 63 characters (got "Balanced_Policy")`,
  },
  {
    rule: 'names match file names, so they are unique',
    file: 'models/qwen2-5-7b-instruct.ts',
    search: "name: 'qwen2-5-7b-instruct'",
    replacement: "name: 'llama-3-1-8b-instruct'",
    expected: `models/qwen2-5-7b-instruct.ts: name: expected "qwen2-5-7b-instruct", the file's name, so that names are unique (got "llama-3-1-8b-instruct"); rename the file or the declaration`,
  },
  {
    rule: 'referenced policy exists',
    file: 'environments/staging.ts',
    search: "policy: 'balanced',\n      replicas: { min: 1, max: 3 }",
    replacement: "policy: 'balance',\n      replicas: { min: 1, max: 3 }",
    expected: 'environments/staging.ts: deployments.llama-3-1-8b-instruct.policy: expected the name of a policy in policies/ (did you mean "balanced"?) (got "balance")',
  },
  {
    rule: 'referenced model exists (deployment)',
    file: 'environments/dev.ts',
    search: "'qwen2-5-7b-instruct': {",
    replacement: "'qwen2-5-7b-instruc': {",
    expected: 'environments/dev.ts: deployments.qwen2-5-7b-instruc: expected the name of a model in models/ (did you mean "qwen2-5-7b-instruct"?) (got "qwen2-5-7b-instruc")',
  },
  {
    rule: 'referenced model exists (prompt)',
    file: 'prompts/support-assistant.ts',
    search: "model: 'llama-3-1-8b-instruct'",
    replacement: "model: 'mistral-7b'",
    expected: 'prompts/support-assistant.ts: model: expected the name of a model in models/ (got "mistral-7b")',
  },
  {
    rule: 'GPU type offered by the cloud',
    file: 'environments/staging.ts',
    search: "gpu: { type: 'nvidia-a100-80gb', count: 1 }",
    replacement: "gpu: { type: 'nvidia-l4', count: 1 }",
    expected: 'environments/staging.ts: deployments.llama-3-1-8b-instruct.gpu.type: expected a GPU type that azure offers (nvidia-t4, nvidia-a100-80gb, nvidia-h100-80gb) (got "nvidia-l4")',
  },
  {
    rule: 'node pool GPU type offered by the cloud',
    file: 'environments/staging.ts',
    search: "name: 'a100-spot', gpuType: 'nvidia-a100-80gb'",
    replacement: "name: 'a100-spot', gpuType: 'nvidia-a10g'",
    expected: 'environments/staging.ts: nodePools[0].gpuType: expected a GPU type that azure offers (nvidia-t4, nvidia-a100-80gb, nvidia-h100-80gb) (got "nvidia-a10g")',
  },
  {
    rule: 'GPU type present in a node pool',
    file: 'environments/dev.ts',
    search: "gpu: { type: 'nvidia-l4', count: 1 }",
    replacement: "gpu: { type: 'nvidia-l40s', count: 1 }",
    expected:
      'environments/dev.ts: deployments.llama-3-1-8b-instruct.gpu.type: expected a GPU type one of this environment\'s node pools carries (nvidia-l4, nvidia-a10g) (got "nvidia-l40s"); add a node pool for it',
  },
  {
    rule: 'replicas min <= max',
    file: 'environments/production.ts',
    search: 'replicas: { min: 2, max: 8 }',
    replacement: 'replicas: { min: 9, max: 8 }',
    expected: 'environments/production.ts: deployments.llama-3-1-8b-instruct.replicas.min: expected at most replicas.max (8) (got 9)',
  },
  {
    rule: 'scale to zero only where allowed',
    file: 'environments/production.ts',
    search: 'replicas: { min: 2, max: 8 }',
    replacement: 'replicas: { min: 0, max: 8 }',
    expected:
      'environments/production.ts: deployments.llama-3-1-8b-instruct.replicas.min: expected at least 1: this environment does not allow scale to zero (set scaleToZero: true to allow it) (got 0)',
  },
  {
    rule: 'tensor-parallel size divides the GPU count',
    file: 'environments/production.ts',
    search: "'tensor-parallel-size': 4",
    replacement: "'tensor-parallel-size': 3",
    expected: 'environments/production.ts: deployments.llama-3-1-70b-instruct.engineArgs.tensor-parallel-size: expected a divisor of the GPU count 4 (got 3)',
  },
  {
    rule: 'prompt traffic sums to 100',
    file: 'prompts/support-assistant.ts',
    search: 'traffic: { v1: 90, v2: 10 }',
    replacement: 'traffic: { v1: 90, v2: 20 }',
    expected: 'prompts/support-assistant.ts: traffic: expected shares that sum to 100 (got 110)',
  },
  {
    rule: 'prompt traffic names existing versions',
    file: 'prompts/support-assistant.ts',
    search: 'traffic: { v1: 90, v2: 10 }',
    replacement: 'traffic: { v1: 90, v3: 10 }',
    expected: 'prompts/support-assistant.ts: traffic.v3: expected a version of this prompt (v1, v2) (did you mean "v1"?) (got "v3")',
  },
  {
    rule: 'the model fits in the GPU memory it is given',
    file: 'environments/production.ts',
    search: "gpu: { type: 'nvidia-h100-80gb', count: 4 },\n      engineArgs: { 'tensor-parallel-size': 4, ",
    replacement: "gpu: { type: 'nvidia-h100-80gb', count: 1 },\n      engineArgs: { 'tensor-parallel-size': 1, ",
    expected:
      'environments/production.ts: deployments.llama-3-1-70b-instruct.gpu: expected GPUs that hold the weights: llama-3-1-70b-instruct needs 131.5 GiB at bfloat16, but 1 × nvidia-h100-80gb leave 70.5 GiB at gpu-memory-utilization 0.9 (got count 1); use more GPUs, a larger GPU type or a quantization',
  },
  {
    rule: 'quantization allowed by the model',
    file: 'environments/staging.ts',
    search: "quantization: 'fp8'",
    replacement: "quantization: 'awq'",
    expected: 'environments/staging.ts: deployments.llama-3-1-70b-instruct.engineArgs.quantization: expected a quantization model llama-3-1-70b-instruct allows (fp8) (got "awq")',
  },
  {
    rule: 'model revision pinned to a commit',
    file: 'models/llama-3-1-8b-instruct.ts',
    search: "revision: '0e9e39f249a16976918f6564b8830bc894c89659'",
    replacement: "revision: 'main'",
    expected: 'models/llama-3-1-8b-instruct.ts: source.revision: expected a full 40-character commit SHA (a branch or tag can move) (got "main")',
  },
  {
    rule: 'objective weights sum to 1',
    file: 'policies/aggressive.ts',
    search: 'objectives: { cost: 0.7, latency: 0.2, quality: 0.1 }',
    replacement: 'objectives: { cost: 0.7, latency: 0.2, quality: 0.2 }',
    expected: 'policies/aggressive.ts: objectives: expected weights that sum to 1 (got 1.1)',
  },
  {
    rule: 'the longest ban is not shorter than the first',
    file: 'policies/aggressive.ts',
    search: 'verificationWindowMinutes: 15,',
    replacement: 'verificationWindowMinutes: 15,\n  neighbourhood: { banDays: 30, maxBanDays: 14 },',
    expected: 'policies/aggressive.ts: neighbourhood.maxBanDays: expected at least neighbourhood.banDays (30 days): the longest ban cannot be shorter than the first (got 14)',
  },
  {
    rule: 'enum value',
    file: 'environments/production.ts',
    search: "sync: 'manual'",
    replacement: "sync: 'manually'",
    expected: 'environments/production.ts: sync: expected one of "auto", "manual" (got "manually")',
  },
  {
    rule: 'a replica fits on one node',
    file: 'environments/staging.ts',
    search: "gpu: { type: 'nvidia-a100-80gb', count: 2 }",
    replacement: "gpu: { type: 'nvidia-a100-80gb', count: 4 }",
    expected: 'environments/staging.ts: deployments.llama-3-1-70b-instruct.gpu.count: expected at most 2, the GPUs per node of the nvidia-a100-80gb pools: a replica runs on one node (got 4)',
  },
];

describe('the loader', () => {
  let root: string;

  beforeEach(async () => {
    root = await copyFixtureFleet({ withGenerated: true });
  });

  afterEach(async () => {
    await removeFleet(root);
  });

  it('loads the example fleet', async () => {
    const result = await loadFleet(root);

    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.fleet.deployments.map((deployment) => deployment.id)).toEqual([
      'dev/llama-3-1-8b-instruct',
      'dev/qwen2-5-7b-instruct',
      'production/llama-3-1-70b-instruct',
      'production/llama-3-1-8b-instruct',
      'production/qwen2-5-7b-instruct',
      'research/llama-3-1-70b-instruct',
      'staging/llama-3-1-70b-instruct',
      'staging/llama-3-1-8b-instruct',
    ]);
    expect(result.fleet.policies.find((policy) => policy.name === 'aggressive')?.canarySteps.map((step) => step.weightPct)).toEqual([10, 50, 100]);
  });

  it.each(CASES)('reports a broken rule: $rule', async ({ file, search, replacement, expected }) => {
    await editFile(root, file, search, replacement);
    const before = await readTree(path.join(root, 'generated'));

    const validateRun = await runCli(['validate', '--root', root]);
    const synthRun = await runCli(['synth', '--root', root]);

    expect(validateRun.exitCode).toBe(1);
    expect(validateRun.stderr.split('\n')).toContain(expected);
    expect(validateRun.stderr).not.toMatch(/\n\s+at /);
    expect(synthRun.exitCode).toBe(1);
    expect(await readTree(path.join(root, 'generated'))).toEqual(before);
  });

  it('reports every problem of every file at once', async () => {
    await editFile(root, 'environments/dev.ts', 'replicas: { min: 0, max: 2 }', 'replicas: { min: 3, max: 2 }');
    await editFile(root, 'environments/dev.ts', "region: 'us-east-1',", "region: 'us-east-1',\n  colour: 'blue',");
    await editFile(root, 'prompts/code-review.ts', 'traffic: { v1: 50, v2: 50 }', 'traffic: { v1: 50, v2: 40 }');

    const run = await runCli(['validate', '--root', root]);

    expect(run.exitCode).toBe(1);
    // A schema error stops the cross-checks of that file only; other files are still checked.
    expect(run.stderr).toContain('environments/dev.ts: colour: unknown field');
    expect(run.stderr).toContain('prompts/code-review.ts: traffic: expected shares that sum to 100 (got 90)');
    expect(run.stderr).toContain('2 problem(s) in the declarations; generated/ was not changed.');
  });

  it('reports a file that does not parse, with its line', async () => {
    await writeFile(path.join(root, 'models/broken.ts'), "import { defineModel } from 'llmops-gitops';\nexport default defineModel({ name: 'broken', \n");

    const run = await runCli(['validate', '--root', root]);

    expect(run.exitCode).toBe(1);
    expect(run.stderr).toMatch(/^models\/broken\.ts: could not be loaded: .*models\/broken\.ts:3:/m);
    expect(run.stderr).not.toContain(root);
  });

  it('reports a file without a default export', async () => {
    await writeFile(path.join(root, 'policies/empty.ts'), 'export const policy = 1;\n');

    const run = await runCli(['validate', '--root', root]);

    expect(run.exitCode).toBe(1);
    expect(run.stderr).toContain('policies/empty.ts: expected a default export: export default definePolicy({ … }) (got none)');
  });

  it('sees an edit to a file it already loaded (the bot reloads in one process)', async () => {
    expect((await loadFleet(root)).ok).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 20));
    await editFile(root, 'environments/production.ts', 'replicas: { min: 2, max: 8 }', 'replicas: { min: 9, max: 8 }');

    const result = await loadFleet(root);

    expect(result.ok).toBe(false);
  });

  it('says what a fleet root is when pointed at the wrong folder', async () => {
    await rm(path.join(root, 'models'), { recursive: true });
    for (const kind of ['prompts', 'environments', 'policies']) await rm(path.join(root, kind), { recursive: true });

    const run = await runCli(['validate', '--root', root]);

    expect(run.exitCode).toBe(1);
    expect(run.stderr).toContain('expected a fleet root holding models/, prompts/, environments/, policies/ (got none of them); pass --root');
  });

  it('keeps the declared values and fills documented defaults', async () => {
    const result = await loadFleet(root);
    if (!result.ok) throw new Error('example fleet invalid');
    const production = result.fleet.environments.find((environment) => environment.name === 'production')!;
    const text = await readFile(path.join(root, 'environments/production.ts'), 'utf8');

    expect(text).toContain("sync: 'manual'");
    expect(production.sync).toBe('manual');
    expect(production.canary).toBe(true);
    expect(production.gateway).toEqual({ mode: 'managed', name: 'inference-gateway', canaryTraffic: 'gateway-api' });
    expect(production.modelCache).toEqual({ kind: 'node-disk' });
    expect(result.fleet.policies.find((policy) => policy.name === 'conservative')?.canaryEvidence).toEqual({ minRequests: 20, inconclusiveTries: 5 });
  });
});
