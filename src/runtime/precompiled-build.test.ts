import { execFile } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFixtureFleet, editFile, preparedFixture, REPO_ROOT, removeFleet } from '../testing/fixture-fleet.ts';
import { readTree } from '../synth/write.ts';

const run = promisify(execFile);

/** A copy of the package (code, manifests, this checkout's node_modules), where builds and edits touch nothing of the checkout. */
async function copyPackage(): Promise<string> {
  const copy = await mkdtemp(path.join(tmpdir(), 'llmops-package-'));
  for (const entry of ['bin', 'src', 'package.json', 'package-lock.json', 'tsconfig.json']) await cp(path.join(REPO_ROOT, entry), path.join(copy, entry), { recursive: true });
  await symlink(path.join(REPO_ROOT, 'node_modules'), path.join(copy, 'node_modules'), 'dir');
  return copy;
}

const manifestId = async (copy: string) => (JSON.parse(await readFile(path.join(copy, 'dist/manifest.json'), 'utf8')) as { id: string }).id;

describe('the precompiled CLI (bin/llmops.js, bin/build.js)', () => {
  let copy: string;
  const llmops = (args: readonly string[], env: NodeJS.ProcessEnv = {}) => run(process.execPath, [path.join(copy, 'bin/llmops.js'), ...args], { cwd: copy, env: { ...process.env, ...env } });

  beforeAll(async () => {
    copy = await copyPackage();
  });

  afterAll(async () => {
    await rm(copy, { recursive: true, force: true });
  });

  it('builds on first use, rebuilds when a source changes, and keeps the build when only a file time changes', async () => {
    // Act: first use, then an edited source, then a touched one.
    const debug = { LLMOPS_DEBUG: '1' };
    const first = await llmops(['--help'], debug);
    const firstId = await manifestId(copy);
    const again = await llmops(['--help'], debug);
    await editFile(copy, 'src/cli/main.ts', "'Compile typed LLM fleet declarations", "'Compile (edited) typed LLM fleet declarations");
    const edited = await llmops(['--help'], debug);
    const editedId = await manifestId(copy);
    const later = new Date(Date.now() + 60_000);
    await utimes(path.join(copy, 'src/cli/main.ts'), later, later);
    const touched = await llmops(['--help'], debug);

    // Assert
    const building = 'llmops: precompiling the CLI into dist/';
    expect(first.stderr).toContain(building);
    expect(first.stdout).toContain('Compile typed LLM fleet declarations');
    expect(again.stderr).not.toContain(building);
    expect(await readFile(path.join(copy, 'dist', firstId, 'main.js'), 'utf8')).toContain('Compile typed LLM fleet declarations');
    expect(edited.stdout).toContain('Compile (edited) typed LLM fleet declarations');
    expect(edited.stderr).toContain(building);
    expect(editedId).not.toBe(firstId);
    expect(touched.stderr).not.toContain(building);
    expect(touched.stdout).toBe(edited.stdout);
  });

  it('runs from the sources when no build can be written, with the sources as they are', async () => {
    await rm(path.join(copy, 'dist'), { recursive: true, force: true });
    await writeFile(path.join(copy, 'dist'), 'not a folder\n');
    await editFile(copy, 'src/cli/main.ts', "'Compile (edited) typed", "'Compile (from the sources) typed");

    const help = await llmops(['--help'], { LLMOPS_DEBUG: '1' });

    expect(help.stdout).toContain('Compile (from the sources) typed LLM fleet declarations');
    expect(help.stderr).toContain('llmops: running from the sources');
    await rm(path.join(copy, 'dist'));
  });

  it('synthesizes on its worker threads byte for byte what the sources synthesize', async () => {
    const fleet = await copyFixtureFleet();
    try {
      const synth = await llmops(['synth', '--root', fleet], { LLMOPS_SYNTH_THREADS: '3', LLMOPS_CACHE: 'off' });

      expect(synth.stdout).toMatch(/^Wrote \d+ files to generated\//);
      expect(await readTree(path.join(fleet, 'generated'))).toEqual(await readTree(path.join(await preparedFixture(), 'generated')));
    } finally {
      await removeFleet(fleet);
    }
  });
});
