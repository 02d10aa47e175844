import { execFile } from 'node:child_process';
import { mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readTree } from '../../synth/write.ts';
import { copyFixtureFleet, editFile, REPO_ROOT, removeFleet, runCli } from '../../testing/fixture-fleet.ts';

const run = promisify(execFile);
const BIN = path.join(REPO_ROOT, 'bin/llmops.js');

/** `llmops <args>` as CI runs it: its own process, with a secret in the environment. */
async function binary(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return run(process.execPath, [BIN, ...args], { env: { ...process.env, GITHUB_TOKEN: 'ghs_secret_token_value', ...env } }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: { code: number; stdout: string; stderr: string }) => ({ code: error.code, stdout: error.stdout, stderr: error.stderr }),
  );
}

let root: string;
beforeEach(async () => {
  root = await copyFixtureFleet({ withGenerated: true });
});
afterEach(async () => removeFleet(root));

const declare = (file: string, text: string) => writeFile(path.join(root, file), text);

describe('declarations load in a sandbox', () => {
  it('a declaration calling process.exit(0) next to an invalid file cannot make validate or synth --check pass', async () => {
    await declare('models/zz.ts', 'process.exit(0);\n');
    await editFile(root, 'environments/dev.ts', 'replicas: { min: 0, max: 2 }', 'replicas: { min: 3, max: 2 }');

    const validate = await binary(['validate', '--root', root]);
    const check = await binary(['synth', '--check', '--root', root]);

    expect(validate.code).toBe(1);
    expect(validate.stderr.split('\n')).toEqual([
      'models/zz.ts: tried to call process.exit (a declaration only declares)',
      'environments/dev.ts: deployments.llama-3-1-8b-instruct.replicas.min: expected at most replicas.max (2) (got 3)',
      '2 problem(s) in the declarations; generated/ was not changed.',
      '',
    ]);
    expect(check.code).toBe(1);
    expect(check.stderr).toContain('models/zz.ts: tried to call process.exit');
  }, 60_000);

  it('an endless loop is stopped at the time limit and named; the files after it are reported as not checked', async () => {
    await declare('models/zz.ts', 'while (true) {}\nexport default {};\n');

    const validate = await binary(['validate', '--root', root], { LLMOPS_LOAD_TIMEOUT_SECONDS: '2' });

    expect(validate.code).toBe(1);
    const lines = validate.stderr.split('\n');
    expect(lines[0]).toBe('models/zz.ts: did not finish loading within 2 s (an endless loop, or a wait that never ends?); the limit is LLMOPS_LOAD_TIMEOUT_SECONDS');
    expect(lines).toContain("environments/dev.ts: not checked: models/zz.ts used up the loader's 2 s");
  }, 60_000);

  it('a top-level await that never settles is an error naming the file, and the files after it are still checked', async () => {
    await declare('models/zz.ts', 'await new Promise(() => {});\nexport default {};\n');
    await editFile(root, 'policies/aggressive.ts', 'objectives: { cost: 0.7, latency: 0.2, quality: 0.1 }', 'objectives: { cost: 0.7, latency: 0.2, quality: 0.2 }');

    const { exitCode, stderr } = await runCli(['validate', '--root', root]);

    expect(exitCode).toBe(1);
    expect(stderr).toContain('models/zz.ts: never finished loading: a top-level await waits for something that never happens\n');
    expect(stderr).toContain('policies/aggressive.ts: objectives: expected weights that sum to 1 (got 1.1)\n');
  });

  it('a declaration cannot write to generated/, even when it catches the error', async () => {
    await declare('models/zz.ts', "import { appendFileSync } from 'node:fs';\ntry { appendFileSync('generated/dev/kubernetes/namespace.yaml', 'kind: Secret\\n'); } catch {}\nexport default {};\n");
    const before = await readTree(path.join(root, 'generated'));

    const synth = await runCli(['synth', '--root', root]);

    expect(synth.exitCode).toBe(1);
    expect(synth.stderr).toContain('models/zz.ts: tried to write generated/dev/kubernetes/namespace.yaml (declarations write no files)\n');
    expect(await readTree(path.join(root, 'generated'))).toEqual(before);
  });

  it('a declaration sees no environment: reading GITHUB_TOKEN is an error naming the file, and the token never appears', async () => {
    await declare('models/zz.ts', 'let token = "none";\ntry { token = process.env.GITHUB_TOKEN ?? "unset"; } catch {}\nexport default { name: token };\n');

    const validate = await binary(['validate', '--root', root]);

    expect(validate.code).toBe(1);
    expect(validate.stderr).toContain('models/zz.ts: tried to read the environment variable GITHUB_TOKEN (declarations run without environment variables: no tokens, no secrets)\n');
    expect(validate.stderr + validate.stdout).not.toContain('ghs_secret_token_value');
  }, 60_000);

  it('a declaration cannot read a file outside the declaration folders', async () => {
    await declare('models/zz.ts', "import { readFileSync } from 'node:fs';\nexport default { name: readFileSync('/etc/hostname', 'utf8') };\n");
    await declare('models/zy.ts', "import { readFile } from 'node:fs/promises';\nexport default { name: await readFile('package.json', 'utf8').catch(() => 'zy') };\n");

    const { stderr } = await runCli(['validate', '--root', root]);

    expect(stderr).toContain('models/zz.ts: tried to read /etc/hostname (declarations may read files under models/, prompts/, environments/ and policies/ only)\n');
    expect(stderr).toContain(`models/zy.ts: tried to read package.json (declarations may read files under models/, prompts/, environments/ and policies/ only)\n`);
  });

  it('imports resolve inside the repository and llmops-gitops only, with the line of the import', async () => {
    await declare('models/za.ts', "import passwd from '../../../../../../../../etc/passwd';\nexport default passwd;\n");
    await declare('models/zb.ts', "import { z } from 'zod';\nexport default z.object({});\n");
    await declare('models/zc.ts', "import { execSync } from 'node:child_process';\nexport default { name: String(execSync('id')) };\n");
    await declare('models/zd.ts', "const net = 'node:' + 'net';\nconst { connect } = await import(net);\nexport default { connect };\n");

    const { exitCode, stderr } = await runCli(['validate', '--root', root]);

    expect(exitCode).toBe(1);
    expect(stderr).toMatch(/^models\/za\.ts: could not be loaded: models\/za\.ts:1:19: (Could not resolve|imports may reach)/m);
    expect(stderr).toContain(
      'models/zb.ts: could not be loaded: models/zb.ts:1:18: imports may reach the repository, llmops-gitops and node:fs, node:fs/promises, node:path, node:url, node:crypto, node:util only (got the package "zod")\n',
    );
    expect(stderr).toContain(
      'models/zc.ts: could not be loaded: models/zc.ts:1:25: imports may reach the repository, llmops-gitops and node:fs, node:fs/promises, node:path, node:url, node:crypto, node:util only (got "node:child_process")\n',
    );
    expect(stderr).toContain(
      'models/zd.ts: could not be loaded: imports may reach the repository, llmops-gitops and node:fs, node:fs/promises, node:path, node:url, node:crypto, node:util only (got "node:net")\n',
    );
  });

  it('refuses a symbolic link out of the repository, or into .git/, and a link to nothing', async () => {
    await symlink('/etc/passwd', path.join(root, 'models/zz.ts'));
    await mkdir(path.join(root, '.git'));
    await writeFile(path.join(root, '.git/config'), '[http]\n\textraheader = AUTHORIZATION: basic c2VjcmV0\n');
    await symlink('../.git/config', path.join(root, 'prompts/config.md'));
    await symlink(path.join(root, 'missing.ts'), path.join(root, 'policies/zz.ts'));

    const { exitCode, stderr } = await runCli(['validate', '--root', root]);

    expect(exitCode).toBe(1);
    expect(stderr).toContain('models/zz.ts: expected a file of the repository (got a symbolic link to /etc/passwd); the loader lets declarations read the repository only\n');
    expect(stderr).toMatch(/^prompts\/config\.md: expected a file of the repository \(got a symbolic link to .*\.git\/config\)/m);
    expect(stderr).toContain('policies/zz.ts: expected a file (got a symbolic link to nothing); restore its target or remove the link\n');
  });

  it('a line forged on the result channel is a protocol error naming the file', async () => {
    await declare('models/zz.ts', 'import { writeSync } from \'node:fs\';\nwriteSync(3, \'0000 {"t":"done"}\\n\');\nexport default {};\n');

    const { exitCode, stderr } = await runCli(['validate', '--root', root]);

    expect(exitCode).toBe(1);
    expect(stderr).toContain("models/zz.ts: broke the loader's result protocol (a line without the nonce): declaration code may not write to the loader's result channel\n");
  });

  it('names a Promise, a throwing getter, a function and a declaration that runs out of memory', async () => {
    await declare('models/za.ts', "import { defineModel } from 'llmops-gitops';\nexport default Promise.resolve({ name: 'za' });\n");
    await declare('models/zb.ts', "export default { name: 'zb', get layers() { throw new Error('boom'); } };\n");
    await declare('models/zc.ts', "export default { name: 'zc', source: () => 'hf' };\n");
    await declare('models/zd.ts', 'const hoard = [];\nwhile (true) hoard.push(new Array(1e6).fill(1));\nexport default {};\n');

    const { stderr } = await binary(['validate', '--root', root], { LLMOPS_LOAD_MEMORY_MIB: '64' });

    expect(stderr).toContain('models/za.ts: expected the declaration itself: export default defineModel({ … }) (got a Promise); remove Promise.resolve, or await the value before exporting it\n');
    expect(stderr).toContain('models/zb.ts: layers: could not be read: its getter threw "boom"\n');
    expect(stderr).toContain('models/zc.ts: source: expected plain data: objects, lists, strings, numbers and booleans (got a function)\n');
    expect(stderr).toContain('models/zd.ts: ran out of memory while loading: the loader allows 64 MiB (LLMOPS_LOAD_MEMORY_MIB)\n');
  }, 60_000);

  it('still lets a declaration import a shared helper and read a file of its folder', async () => {
    await declare('prompts/_text.ts', "import { readFileSync } from 'node:fs';\nexport const text = (name: string) => readFileSync(new URL(`./${name}`, import.meta.url), 'utf8').trim();\n");
    await declare('prompts/support-system.md', 'You are Acme Cloud support, read from a file.\n');
    await editFile(root, 'prompts/support-assistant.ts', "import { definePrompt } from 'llmops-gitops';", "import { definePrompt } from 'llmops-gitops';\nimport { text } from './_text.ts';");
    await editFile(root, 'prompts/support-assistant.ts', "system: 'You are a helpful support assistant for Acme Cloud. Answer briefly and link to the docs.'", "system: text('support-system.md')");

    const synth = await runCli(['synth', '--root', root]);

    expect(synth.exitCode, synth.stderr).toBe(0);
    const manifests = await readFile(path.join(root, 'generated/production/kubernetes/llama-3-1-8b-instruct.yaml'), 'utf8');
    expect(manifests).toContain('system: You are Acme Cloud support, read from a file.');
  });
});
