/**
 * Writes a synthetic fleet of N models deployed in three environments (one per
 * cloud) to a folder, for benchmarks. It imports the compiler from this checkout
 * as a fork would.
 */
import { cp, mkdir, mkdtemp, readFile, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { FIXTURE_SOURCE } from '../src/testing/fixture-fleet.ts';

const GPU_BY_CLOUD = { aws: 'nvidia-l4', gcp: 'nvidia-l4', azure: 'nvidia-a100-80gb' } as const;

export async function writeLargeFleet(repoRoot: string, modelCount: number): Promise<string> {
  const root = await mkdtemp(path.join(tmpdir(), `llmops-fleet-${modelCount}-`));
  for (const folder of ['models', 'prompts', 'environments']) await mkdir(path.join(root, folder));
  // The frozen test fleet's policies, not the live ones: a bot pull request edits the live fleet, never what benchmarks measure.
  await cp(path.join(FIXTURE_SOURCE, 'policies'), path.join(root, 'policies'), { recursive: true });
  const { repository } = JSON.parse(await readFile(path.join(repoRoot, 'package.json'), 'utf8'));
  await writeFile(path.join(root, 'package.json'), JSON.stringify({ name: 'large-fleet', private: true, type: 'module', repository }));
  await mkdir(path.join(root, 'node_modules'));
  await symlink(repoRoot, path.join(root, 'node_modules', 'llmops-gitops'), 'dir');

  const names = Array.from({ length: modelCount }, (_, index) => `model-${String(index).padStart(3, '0')}`);
  for (const [index, name] of names.entries()) {
    await writeFile(
      path.join(root, 'models', `${name}.ts`),
      `import { defineModel } from 'llmops-gitops';

export default defineModel({
  name: '${name}',
  source: { kind: 'huggingface', id: 'acme/${name}', revision: '${index.toString(16).padStart(40, '0')}' },
  parametersBillions: 8,
  contextLengthTokens: 32768,
  layers: 32,
  kvDimension: 1024,
  quantizations: { fp8: { qualityCostPct: 0.3 } },
  vllmImageTag: 'v0.11.0',
  engineArgs: { 'max-model-len': 16384 },
});
`,
    );
    await writeFile(
      path.join(root, 'prompts', `${name}-assistant.ts`),
      `import { definePrompt } from 'llmops-gitops';

export default definePrompt({
  name: '${name}-assistant',
  model: '${name}',
  versions: { v1: { system: 'You help.', template: '{{question}}' }, v2: { system: 'You help briefly.', template: '{{question}}' } },
  traffic: { v1: 80, v2: 20 },
});
`,
    );
  }

  const environments = [
    {
      name: 'dev',
      cloud: 'aws',
      extra: "accountId: '111122223333', modelBucket: 'bench-dev-models', stateBackend: { type: 's3', bucket: 'bench-state', key: 'dev.tfstate', region: 'us-east-1' }",
      region: 'us-east-1',
      sync: 'auto',
      policy: 'aggressive',
    },
    {
      name: 'staging',
      cloud: 'azure',
      extra:
        "resourceGroup: 'rg-bench', modelBucket: 'benchstagingmodels', stateBackend: { type: 'azurerm', resourceGroupName: 'rg-state', storageAccountName: 'benchstate', containerName: 'tfstate', key: 'staging.tfstate' }",
      region: 'eastus',
      sync: 'auto',
      policy: 'balanced',
    },
    {
      name: 'production',
      cloud: 'gcp',
      extra: "project: 'bench-prod', proxyOnlySubnet: '10.129.0.0/23', modelBucket: 'bench-production-models', stateBackend: { type: 'gcs', bucket: 'bench-state', prefix: 'production' }",
      region: 'us-central1',
      sync: 'manual',
      policy: 'conservative',
    },
  ] as const;
  for (const environment of environments) {
    const gpu = GPU_BY_CLOUD[environment.cloud];
    const deployments = names
      .map(
        (name) =>
          `    '${name}': { policy: '${environment.policy}', replicas: { min: ${environment.sync === 'manual' ? 2 : 1}, max: 4 }, gpu: { type: '${gpu}', count: 1 }, engineArgs: { 'max-num-seqs': 128 } },`,
      )
      .join('\n');
    await writeFile(
      path.join(root, 'environments', `${environment.name}.ts`),
      `import { defineEnvironment } from 'llmops-gitops';

export default defineEnvironment({
  name: '${environment.name}',
  cloud: '${environment.cloud}',
  region: '${environment.region}',
  cluster: 'bench-${environment.name}',
  namespace: 'bench-${environment.name}',
  sync: '${environment.sync}',
  ${environment.extra},
  nodePools: [{ name: 'gpu', gpuType: '${gpu}', gpusPerNode: 1, capacity: 'on-demand', minNodes: 0, maxNodes: ${modelCount * 5} }],
  budget: { monthlyUsd: 1000000 },
  slos: { ttftP95Ms: 1000, e2eP95Ms: 20000, interTokenP95Ms: 80, errorRateRatio: 0.01 },
  deployments: {
${deployments}
  },
});
`,
    );
  }
  return root;
}
