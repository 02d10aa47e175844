/**
 * Two bot pull requests of one environment, merged one after the other, as a
 * reviewer would: the second must merge without a conflict, and the merged
 * generated/ must be exactly what synth writes for the merged declarations.
 */
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { applyDeclarationChange } from '../act/edit-declaration.ts';
import type { DeclarationChange } from '../optimizer/recommendation.ts';
import { copyFixtureFleet, removeFleet, runCli } from '../testing/fixture-fleet.ts';

const run = promisify(execFile);
const IDENTITY = ['-c', 'user.name=llmops-bot', '-c', 'user.email=llmops-bot@users.noreply.github.com'];
const git = async (cwd: string, ...args: string[]) => (await run('git', [...IDENTITY, ...args], { cwd })).stdout;

/** One bot branch: the deployment block edited as the bot edits it, generated/ re-synthesized, one commit. */
async function botBranch(root: string, branch: string, model: string, change: DeclarationChange): Promise<void> {
  await git(root, 'checkout', '--quiet', '-b', branch, 'main');
  const file = path.join(root, 'environments/production.ts');
  await writeFile(file, applyDeclarationChange('environments/production.ts', await readFile(file, 'utf8'), model, change));
  const synth = await runCli(['synth', '--root', root]);
  expect(synth.exitCode, synth.stderr).toBe(0);
  await git(root, 'add', '--all');
  await git(root, 'commit', '--quiet', '-m', `Optimize production/${model}`);
}

let root: string;
beforeEach(async () => {
  root = await copyFixtureFleet({ withGenerated: true });
  await writeFile(path.join(root, '.gitignore'), 'node_modules/\n');
  await git(root, 'init', '--quiet', '-b', 'main');
  await git(root, 'add', '--all');
  await git(root, 'commit', '--quiet', '-m', 'Example fleet');
});
afterEach(async () => removeFleet(root));

describe('two bot pull requests of one environment', () => {
  it('merge one after the other without a conflict, and the result is what synth writes', async () => {
    await botBranch(root, 'llmops/production/qwen2-5-7b-instruct', 'qwen2-5-7b-instruct', { replicas: { min: 2, max: 3 }, engineArgs: { 'max-num-seqs': 16 } });
    await botBranch(root, 'llmops/production/llama-3-1-8b-instruct', 'llama-3-1-8b-instruct', { replicas: { min: 2, max: 6 }, engineArgs: { 'max-num-seqs': 64 } });
    const touched = (branch: string) => git(root, 'diff', '--name-only', `main...${branch}`);
    const [first, later] = [await touched('llmops/production/qwen2-5-7b-instruct'), await touched('llmops/production/llama-3-1-8b-instruct')];

    await git(root, 'checkout', '--quiet', 'main');
    await git(root, 'merge', '--quiet', '--no-edit', 'llmops/production/qwen2-5-7b-instruct');
    const second = await run('git', [...IDENTITY, 'merge', '--no-edit', 'llmops/production/llama-3-1-8b-instruct'], { cwd: root }).then(
      () => 'merged',
      (error: { stdout: string }) => error.stdout,
    );
    const check = await runCli(['synth', '--check', '--root', root]);

    expect(second).toBe('merged');
    // Both branches rewrite the same environment's folders, but no line in common.
    expect(first.split('\n')).toContain('generated/production/helm/templates/qwen2-5-7b-instruct.yaml');
    expect(later.split('\n')).toContain('generated/production/helm/templates/llama-3-1-8b-instruct.yaml');
    expect(first + later).not.toContain('Chart.yaml');
    expect(check.exitCode, check.stderr + check.stdout).toBe(0);
    expect(await readFile(path.join(root, 'environments/production.ts'), 'utf8')).toMatch(/replicas: \{ min: 2, max: 6 \}[\s\S]*replicas: \{ min: 2, max: 3 \}/);
  });
});
