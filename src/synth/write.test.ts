import { execFile } from 'node:child_process';
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadFleet } from '../fleet/load.ts';
import { copyFixtureFleet, editFile, REPO_ROOT, removeFleet, runCli } from '../testing/fixture-fleet.ts';
import { synthesize } from './steps.ts';
import { readTree, recoverGenerated, WRITE_STAGES, writeTreeAtomically } from './write.ts';

const run = promisify(execFile);
const LEDGER = 'generated/optimizer/ledger/production/llama-3-1-8b-instruct.jsonl';
/** Byte for byte: a line without its newline and bytes that are not UTF-8 must survive as they are. */
const LEDGER_BYTES = Buffer.concat([Buffer.from('{"kind":"decision","at":"2026-01-01T00:00:00.000Z"}\n{"kind":"proposal"'), Buffer.from([0xff, 0xfe, 0x00])]);

/** Every stage; the file-written stage after the first file and half-way through the files. */
interface Stop {
  readonly stage: string;
  readonly at: 'first' | 'half-way';
}
const STOPS = WRITE_STAGES.flatMap((stage): Stop[] =>
  stage === 'file-written'
    ? [
        { stage, at: 'first' },
        { stage, at: 'half-way' },
      ]
    : [{ stage, at: 'first' }],
);
let fileCount = 0;

let oldTree: Map<string, string>;
let newTree: Map<string, string>;
let treeFile: string;
const roots: string[] = [];

/** The fixture fleet with its generated/ (the old tree) and a ledger, declarations edited so that synth makes a new tree. */
async function interruptedFleet(): Promise<string> {
  const root = await copyFixtureFleet({ withGenerated: true });
  roots.push(root);
  await mkdir(path.dirname(path.join(root, LEDGER)), { recursive: true });
  await writeFile(path.join(root, LEDGER), LEDGER_BYTES);
  await editFile(root, 'environments/production.ts', 'replicas: { min: 2, max: 8 }', 'replicas: { min: 3, max: 8 }');
  return root;
}

beforeAll(async () => {
  const root = await interruptedFleet();
  oldTree = await readTree(path.join(root, 'generated'));
  const loaded = await loadFleet(root);
  if (!loaded.ok) throw new Error('fixture invalid');
  newTree = synthesize(loaded.fleet);
  fileCount = newTree.size;
  treeFile = path.join(root, 'new-tree.json');
  await writeFile(treeFile, JSON.stringify(Object.fromEntries(newTree)));
});
afterAll(async () => Promise.all(roots.map(removeFleet)));

describe('writing generated/ atomically', () => {
  it('the new tree differs from the old one, so old-or-new below is a real check', () => {
    expect(newTree).not.toEqual(oldTree);
    expect(fileCount).toBeGreaterThan(4);
  });

  it.each(STOPS)(
    'a writer killed at $stage ($at) leaves a complete old or new tree, the ledger byte for byte and nothing else',
    async ({ stage, at }) => {
      // Arrange
      const root = await interruptedFleet();
      const occurrence = at === 'first' ? 1 : Math.ceil(fileCount / 2);

      // Act: the real writer in its own process, killed at this stage; then the next writer's recovery.
      const killed = await run(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'src/testing/interrupted-writer.ts'), root, treeFile, stage, String(occurrence)], { cwd: REPO_ROOT }).then(
        () => 'exited',
        (error: { signal?: string }) => error.signal,
      );
      await recoverGenerated(root);

      // Assert
      expect(killed).toBe('SIGKILL');
      expect([oldTree, newTree]).toContainEqual(await readTree(path.join(root, 'generated')));
      expect(await readFile(path.join(root, LEDGER))).toEqual(LEDGER_BYTES);
      expect((await readdir(root)).filter((name) => name.startsWith('.generated'))).toEqual([]);
      await writeTreeAtomically(root, newTree);
      expect(await readTree(path.join(root, 'generated'))).toEqual(newTree);
      expect(await readFile(path.join(root, LEDGER))).toEqual(LEDGER_BYTES);
    },
    60_000,
  );

  it('llmops synth brings back the ledger an earlier writer left in .generated-old-<pid> when it rebuilt generated/ without it', async () => {
    // Arrange: what the writer before this one left when killed between its renames: a rebuilt generated/ without the ledger, which stayed in its leftover.
    const root = await interruptedFleet();
    await mkdir(path.join(root, '.generated-old-4242'));
    await rename(path.join(root, 'generated/optimizer'), path.join(root, '.generated-old-4242/optimizer'));

    // Act
    const synth = await runCli(['synth', '--root', root]);

    // Assert
    expect(synth.exitCode, synth.stderr).toBe(0);
    expect(await readFile(path.join(root, LEDGER))).toEqual(LEDGER_BYTES);
    expect((await readdir(root)).filter((name) => name.startsWith('.generated'))).toEqual([]);
  });
});
