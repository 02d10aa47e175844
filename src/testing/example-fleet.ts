/**
 * Test fixtures: a throw-away copy of the example fleet that tests may break,
 * importing the compiler from this checkout as a real fork would.
 */
import { cp, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DECLARATION_KINDS } from '../fleet/fleet.ts';
import type { Io } from '../cli/io.ts';
import { main } from '../cli/main.ts';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Copies the declarations (and generated/, when asked) of the example fleet into a new temporary folder. */
export async function copyExampleFleet(options: { withGenerated?: boolean } = {}): Promise<string> {
  const root = await mkdtemp(path.join(tmpdir(), 'llmops-fleet-'));
  for (const kind of DECLARATION_KINDS) await cp(path.join(REPO_ROOT, kind), path.join(root, kind), { recursive: true });
  if (options.withGenerated) await cp(path.join(REPO_ROOT, 'generated'), path.join(root, 'generated'), { recursive: true });
  const { repository } = JSON.parse(await readFile(path.join(REPO_ROOT, 'package.json'), 'utf8'));
  await writeFile(path.join(root, 'package.json'), JSON.stringify({ name: 'fleet-under-test', private: true, type: 'module', repository }));
  await mkdir(path.join(root, 'node_modules'));
  await symlink(REPO_ROOT, path.join(root, 'node_modules', 'llmops-gitops'), 'dir');
  return root;
}

export async function removeFleet(root: string): Promise<void> {
  await rm(root, { recursive: true, force: true });
}

/** Replaces one exact piece of a file; fails when the piece is absent so a test cannot pass vacuously. */
export async function editFile(root: string, file: string, search: string, replacement: string): Promise<void> {
  const absolute = path.join(root, file);
  const text = await readFile(absolute, 'utf8');
  if (!text.includes(search)) throw new Error(`${file} does not contain ${JSON.stringify(search)}`);
  await writeFile(absolute, text.replace(search, replacement));
}

/** Runs the CLI in-process and captures what it prints. */
export async function runCli(argv: readonly string[]): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io: Io = { out: (text) => void (stdout += text), err: (text) => void (stderr += text) };
  const exitCode = await main(argv, io);
  return { exitCode, stdout, stderr };
}
