import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT, runCli } from '../testing/fixture-fleet.ts';

describe('llmops --version', () => {
  it('prints the version of package.json and exits 0, as does -V', async () => {
    const { version } = JSON.parse(await readFile(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };

    const long = await runCli(['--version']);
    const short = await runCli(['-V']);

    expect(long).toEqual({ exitCode: 0, stdout: `${version}\n`, stderr: '' });
    expect(short).toEqual(long);
  });
});
