import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { copyFixtureFleet, removeFleet, runCli } from '../testing/fixture-fleet.ts';
import { ownersOf, parseCodeOwners } from './code-owners.ts';

describe('CODEOWNERS matching, as GitHub does it', () => {
  const rules = parseCodeOwners(
    ['# comment', '*.md @docs', '/models/ @models', 'generated/**/kubernetes/ @k8s', '/environments/production.ts @leads', 'prompts/*.ts @prompts', '/models/experimental.ts', ''].join('\n'),
  );

  it.each([
    ['README.md', ['@docs']],
    ['docs/deep/guide.md', ['@docs']],
    ['models/llama.ts', ['@models']],
    ['models/experimental.ts', []],
    ['generated/production/kubernetes/llama.yaml', ['@k8s']],
    ['generated/production/helm/Chart.yaml', []],
    ['environments/production.ts', ['@leads']],
    ['environments/production.ts.bak', []],
    ['prompts/a.ts', ['@prompts']],
    ['prompts/deep/a.ts', []],
  ])('%s → %j', (file, owners) => {
    expect(ownersOf(rules, file)).toEqual(owners);
  });
});

describe('llmops synth --check and CODEOWNERS', () => {
  let root: string;
  beforeEach(async () => {
    root = await copyFixtureFleet();
    await runCli(['synth', '--root', root]);
  });
  afterEach(async () => removeFleet(root));

  it('passes when every path that changes production has an owner', async () => {
    expect((await runCli(['synth', '--check', '--root', root])).exitCode).toBe(0);
  });

  it('names the paths that change production without an owner, such as a model added beside owned ones', async () => {
    const file = path.join(root, '.github/CODEOWNERS');
    const text = await readFile(file, 'utf8');
    await writeFile(file, text.replace('/models/ @acme/platform-leads', '/models/llama-3-1-8b-instruct.ts @acme/platform-leads\n/models/llama-3-1-70b-instruct.ts @acme/platform-leads'));

    const check = await runCli(['synth', '--check', '--root', root]);

    expect(check.exitCode).toBe(1);
    expect(check.stderr).toBe(
      [
        ".github/CODEOWNERS: expected a code owner for every path that changes production's output; these have none:",
        '  models/qwen2-5-7b-instruct.ts',
        'Add rules such as `/models/ @your-team` (the last matching line wins).',
        '',
      ].join('\n'),
    );
  });

  it('asks for a CODEOWNERS file when there is none and an environment syncs manually', async () => {
    await rm(path.join(root, '.github'), { recursive: true });

    const check = await runCli(['synth', '--check', '--json', '--root', root]);

    expect(check.exitCode).toBe(1);
    expect(JSON.parse(check.stdout)).toEqual({
      upToDate: false,
      stale: [],
      missing: [],
      extra: [],
      codeOwners: ["expected .github/CODEOWNERS naming code owners for what changes production's output (got no CODEOWNERS file)"],
    });
  });
});
