/**
 * The Done-when of "bot pull requests pass CI": a real bot proposal — the
 * bot's own declaration edit, synth and ledger lines in one commit, as
 * `llmops optimize --once --local` writes it — on a clean clone of this
 * repository (like CI's), and the repository's own checks on that branch:
 * `validate`, `synth --check` and the whole `npm test`. The nested test run
 * skips this one test (NESTED_CI_VARIABLE), or it would recurse.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { PREPARED_FIXTURE_VARIABLE, REPO_ROOT } from '../testing/fixture-fleet.ts';
import { IDLE_PRODUCTION_8B, lastWednesdayAfternoon, prometheusWithScenario } from '../testing/plan-harness.ts';

const run = promisify(execFile);

/** Set in the nested `npm test`, which skips this test. */
const NESTED_CI_VARIABLE = 'LLMOPS_NESTED_CI';

const AT = new Date(lastWednesdayAfternoon().getTime() - 60 * 60_000);
const DEPLOYMENT = 'production/llama-3-1-8b-instruct';

/** This process's environment without what the outer test run set for itself (its fixture, vitest's worker variables), and no colours in the output. */
function cleanEnvironment(): NodeJS.ProcessEnv {
  const environment = Object.fromEntries(Object.entries(process.env).filter(([name]) => name !== PREPARED_FIXTURE_VARIABLE && !name.startsWith('VITEST') && name !== 'NODE_ENV'));
  return { ...environment, [NESTED_CI_VARIABLE]: '1', NO_COLOR: '1' };
}

describe('a bot pull request', () => {
  it.skipIf(process.env[NESTED_CI_VARIABLE] === '1')(
    'passes validate, synth --check and the whole npm test of this repository on a clean clone',
    async () => {
      // Arrange: CI's clean clone (node_modules linked instead of `npm ci`), and Prometheus with traffic simulated on the clone's own generated/.
      const dir = await mkdtemp(path.join(tmpdir(), 'llmops-ci-'));
      const clone = path.join(dir, 'repository');
      const inClone = (command: string, args: string[], timeoutMs = 60_000) =>
        run(command, args, { cwd: clone, env: cleanEnvironment(), timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }).then(
          ({ stdout, stderr }) => ({ code: 0, output: stdout + stderr }),
          (error: { code: number; stdout: string; stderr: string }) => ({ code: error.code, output: `${error.stdout}${error.stderr}` }),
        );
      try {
        await run('git', ['clone', '--quiet', REPO_ROOT, clone]);
        // The checked-out commit as the clone's main, the base the bot branches from (CI clones main).
        await run('git', ['checkout', '--quiet', '-B', 'main'], { cwd: clone });
        await symlink(path.join(REPO_ROOT, 'node_modules'), path.join(clone, 'node_modules'), 'dir');
        const prometheus = await prometheusWithScenario(IDLE_PRODUCTION_8B, AT, clone);
        let bot: { code: number; output: string };
        try {
          // Act: the bot writes its branch, then CI's checks run on it.
          bot = await inClone(process.execPath, ['bin/llmops.js', 'optimize', '--once', '--local', '--prometheus', prometheus.url, '--at', String(AT.getTime() / 1000)], 120_000);
        } finally {
          await prometheus.stop();
        }
        const branch = `llmops/${DEPLOYMENT}`;
        expect(bot.code, bot.output).toBe(0);
        const changed = (await run('git', ['diff', '--name-only', `main...${branch}`], { cwd: clone })).stdout.split('\n');
        await run('git', ['checkout', '--quiet', branch], { cwd: clone });
        const validate = await inClone(process.execPath, ['bin/llmops.js', 'validate']);
        const synthCheck = await inClone(process.execPath, ['bin/llmops.js', 'synth', '--check']);
        const started = Date.now();
        const tests = await inClone('npm', ['test'], 15 * 60_000);
        console.log(`nested npm test on the bot branch: ${((Date.now() - started) / 1000).toFixed(0)} s`);

        // Assert: a real proposal (declaration, generated/ and ledger in one commit), and every check green on it.
        expect(changed).toEqual(expect.arrayContaining(['environments/production.ts', 'generated/production/kubernetes/llama-3-1-8b-instruct.yaml', `generated/optimizer/ledger/${DEPLOYMENT}.jsonl`]));
        expect(validate.code, validate.output).toBe(0);
        expect(synthCheck.code, synthCheck.output).toBe(0);
        expect(tests.code, tests.output.slice(-20_000)).toBe(0);
        expect(tests.output).toMatch(/Tests\s+\d+ passed/);
        expect(tests.output).not.toMatch(/Tests\s+.*\d+ failed/);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
    20 * 60_000,
  );
});
