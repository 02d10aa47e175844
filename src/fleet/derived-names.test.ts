import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { copyFixtureFleet, editFile, removeFleet, runCli } from '../testing/fixture-fleet.ts';
import { checkDerivedNames, DNS_1123_LABEL } from './name-check.ts';

let root: string;
beforeEach(async () => {
  root = await copyFixtureFleet();
});
afterEach(async () => removeFleet(root));

/** A copy of the 8B model under another name. */
async function addModel(name: string): Promise<void> {
  const text = await readFile(path.join(root, 'models/llama-3-1-8b-instruct.ts'), 'utf8');
  await writeFile(path.join(root, `models/${name}.ts`), text.replace("name: 'llama-3-1-8b-instruct'", `name: '${name}'`));
}

/** Serves a model in production (canary on) on one L4. */
async function deployInProduction(model: string): Promise<void> {
  await editFile(
    root,
    'environments/production.ts',
    '  deployments: {\n',
    `  deployments: {\n    '${model}': { policy: 'aggressive', replicas: { min: 1, max: 2 }, gpu: { type: 'nvidia-l4', count: 1 } },\n`,
  );
}

async function problems(): Promise<string[]> {
  const { exitCode, stderr } = await runCli(['validate', '--root', root]);
  expect(exitCode).toBe(1);
  return stderr.split('\n');
}

const DNS_1035 = "a DNS-1035 label: lower-case letters, digits and '-', starting with a letter and ending with a letter or digit, at most 63 characters";

describe('derived names are checked where they are made, with the field that made them', () => {
  it('a model whose Service name is not a DNS-1035 label', async () => {
    await addModel('8b-chat');
    await deployInProduction('8b-chat');

    expect(await problems()).toContain(`environments/production.ts: deployments.8b-chat: expected the Service name it makes to be ${DNS_1035} (got "8b-chat", 7 characters); rename it`);
  });

  it('a 58-character model whose canary Service would have 65 characters', async () => {
    const long = `m${'x'.repeat(56)}1`;
    await addModel(long);
    await deployInProduction(long);

    expect(await problems()).toContain(`environments/production.ts: deployments.${long}: expected the canary Service name it makes to be ${DNS_1035} (got "${long}-canary", 65 characters); rename it`);
  });

  it('models x and x-canary would both write Service x-canary', async () => {
    await addModel('x');
    await addModel('x-canary');
    await deployInProduction('x-canary');
    await deployInProduction('x');

    expect(await problems()).toContain(
      'environments/production.ts: deployments.x-canary: expected the Service name it makes to differ from every other Service in namespace llm-prod of cluster llm-prod (got "x-canary", also the canary Service of environments/production.ts: deployments.x); rename one of them',
    );
  });

  it('a model named like an object the environment makes itself', async () => {
    await addModel('default-deny');
    await deployInProduction('default-deny');

    expect(await problems()).toContain(
      'environments/production.ts: deployments.default-deny: expected the NetworkPolicy name it makes to differ from every other NetworkPolicy in namespace llm-prod of cluster llm-prod (got "default-deny", also the NetworkPolicy of the compiler itself); rename one of them',
    );
  });

  it('a model named like the in-cluster bot of its environment', async () => {
    await editFile(
      root,
      'environments/production.ts',
      '  deployments: {\n',
      "  bot: { mode: 'service', image: { repository: 'ghcr.io/acme/llmops-gitops', tag: 'v0.1.0' }, githubApp: { clientId: 'Iv23liAcme' } },\n  deployments: {\n",
    );
    await addModel('llmops-bot');
    await deployInProduction('llmops-bot');

    expect(await problems()).toContain(
      'environments/production.ts: deployments.llmops-bot: expected the Service name it makes to differ from every other Service in namespace llm-prod of cluster llm-prod (got "llmops-bot", also the bot Service of environments/production.ts: bot); rename one of them',
    );
  });

  it('two prompts that give one ConfigMap name', async () => {
    const prompt = (name: string, version: string) =>
      `import { definePrompt } from 'llmops-gitops';\nexport default definePrompt({ name: '${name}', model: 'llama-3-1-8b-instruct', versions: { '${version}': { system: 'Be brief.', template: '{{q}}' } } });\n`;
    await writeFile(path.join(root, 'prompts/a-b.ts'), prompt('a-b', 'c'));
    await writeFile(path.join(root, 'prompts/a.ts'), prompt('a', 'b-c'));

    const lines = await problems();

    expect(lines).toContainEqual(
      expect.stringMatching(
        /^prompts\/a\.ts: versions\.b-c: expected the prompt ConfigMap name it makes to differ from every other ConfigMap in namespace llm-dev of cluster llm-dev \(got "prompt-a-b-c-[0-9a-f]{8}", also the prompt ConfigMap of prompts\/a-b\.ts: versions\.c\); rename one of them$/,
      ),
    );
  });

  it('an environment whose Argo CD Application would be the app of apps', async () => {
    const text = await readFile(path.join(root, 'environments/dev.ts'), 'utf8');
    await writeFile(path.join(root, 'environments/root.ts'), text.replace("name: 'dev'", "name: 'root'").replace("namespace: 'llm-dev'", "namespace: 'llm-root'"));

    expect(await problems()).toContain(
      'environments/root.ts: name: expected the Application name it makes to differ from every other Application in the argocd namespace (got "llmops-root", also the Application of the compiler itself); rename one of them',
    );
  });

  it('takes records from any source (a cloud plug-in) and reports syntax and duplicates', () => {
    const record = { rule: DNS_1123_LABEL, kind: 'node pool', scope: 'cluster c', declarationFile: 'environments/x.ts' };

    const issues = checkDerivedNames([
      { ...record, name: 'a100spot', fieldPath: 'nodePools[0].name' },
      { ...record, name: 'a100spot', fieldPath: 'nodePools[1].name' },
      { ...record, name: 'A100', fieldPath: 'nodePools[2].name' },
    ]);

    expect(issues).toEqual([
      {
        file: 'environments/x.ts',
        path: 'nodePools[1].name',
        message:
          'expected the node pool name it makes to differ from every other node pool in cluster c (got "a100spot", also the node pool of environments/x.ts: nodePools[0].name); rename one of them',
      },
      { file: 'environments/x.ts', path: 'nodePools[2].name', message: `expected the node pool name it makes to be ${DNS_1123_LABEL.description} (got "A100", 4 characters); rename it` },
    ]);
  });
});

describe('values are bounded and escaped for where they go', () => {
  it.each([
    [
      'replicas beyond int32',
      'environments/production.ts',
      'replicas: { min: 2, max: 8 }',
      'replicas: { min: 2, max: 3e9 }',
      'environments/production.ts: deployments.llama-3-1-8b-instruct.replicas.max: expected at most 40000 replicas (got 3000000000)',
    ],
    ['node counts', 'environments/dev.ts', 'minNodes: 0, maxNodes: 4', 'minNodes: 0, maxNodes: 100000', 'environments/dev.ts: nodePools[0].maxNodes: expected at most 5000 nodes (got 100000)'],
    ['blank strings', 'environments/dev.ts', "region: 'us-east-1',", "region: '   ',", 'environments/dev.ts: region: expected text that is not empty or only spaces (got "   ")'],
    [
      'label keys with a newline',
      'environments/dev.ts',
      "sync: 'auto',",
      "sync: 'auto',\n  monitoring: { selectorLabels: { 'release\\nx': 'kube-prometheus-stack' } },",
      'environments/dev.ts: monitoring.selectorLabels["release\\nx"]: expected a Kubernetes label key: an optional DNS subdomain and "/", then at most 63 letters, digits, "-", "_" or ".", starting and ending with a letter or digit (got "release\\nx")',
    ],
    [
      'label values',
      'environments/dev.ts',
      "sync: 'auto',",
      "sync: 'auto',\n  monitoring: { selectorLabels: { release: 'kube prometheus' } },",
      'environments/dev.ts: monitoring.selectorLabels.release: expected a Kubernetes label value: at most 63 letters, digits, "-", "_" or ".", starting and ending with a letter or digit (or empty) (got "kube prometheus")',
    ],
    [
      'a traffic split naming constructor',
      'prompts/support-assistant.ts',
      'traffic: { v1: 90, v2: 10 }',
      'traffic: { v1: 90, constructor: 10 }',
      'prompts/support-assistant.ts: traffic.constructor: expected a version of this prompt (v1, v2) (got "constructor")',
    ],
    [
      'a prompt too large for its ConfigMap',
      'prompts/support-assistant.ts',
      "template: 'Customer question: {{question}}\\nAccount tier: {{tier}}',",
      "template: 'é'.repeat(300 * 1024),",
      'prompts/support-assistant.ts: versions.v1.template: expected at most 512000 bytes in UTF-8 (got 614400)',
    ],
    [
      'a circular promotion',
      'environments/dev.ts',
      "sync: 'auto',",
      "sync: 'auto',\n  promotesFrom: 'production',",
      'environments/dev.ts: promotesFrom: expected a promotion chain that ends (got dev ← production ← staging ← dev, a cycle); remove promotesFrom from one of them',
    ],
  ])('%s', async (_, file, search, replacement, expected) => {
    await editFile(root, file, search, replacement);

    expect(await problems()).toContain(expected);
  });
});
