/**
 * Test fixtures: throw-away copies of the frozen test fleet
 * (src/testing/fixtures/fleet) that tests may break, importing the compiler
 * from this checkout as a real fork would. Tests never read the live example
 * fleet at the repository root: the bot edits it, and its pull requests must
 * pass this repository's CI.
 */
import { cp, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Io } from '../cli/io.ts';
import { main } from '../cli/main.ts';
import { DECLARATION_KINDS } from '../fleet/fleet.ts';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** The frozen declarations the tests are written against. */
export const FIXTURE_SOURCE = path.join(REPO_ROOT, 'src/testing/fixtures/fleet');

/** Environment variable naming the prepared fixture (declarations and generated/), set once per test run by the global setup. */
export const PREPARED_FIXTURE_VARIABLE = 'LLMOPS_TEST_FIXTURE_ROOT';

/** Makes `import … from 'llmops-gitops'` in a fleet folder resolve to this checkout, as an installed dependency would. */
export async function linkCompiler(root: string): Promise<void> {
  await mkdir(path.join(root, 'node_modules'), { recursive: true });
  await symlink(REPO_ROOT, path.join(root, 'node_modules', 'llmops-gitops'), 'dir');
}

/** A new temporary folder holding the fixture's declarations, package.json and CODEOWNERS, with the compiler linked. */
async function copyDeclarations(): Promise<string> {
  const root = await mkdtemp(path.join(tmpdir(), 'llmops-fleet-'));
  for (const kind of DECLARATION_KINDS) await cp(path.join(FIXTURE_SOURCE, kind), path.join(root, kind), { recursive: true });
  await cp(path.join(FIXTURE_SOURCE, 'package.json'), path.join(root, 'package.json'));
  await cp(path.join(FIXTURE_SOURCE, '.github'), path.join(root, '.github'), { recursive: true });
  await linkCompiler(root);
  return root;
}

/**
 * Prepares the fixture fleet with its generated/ synthesized by this checkout's
 * compiler. The global setup calls it once per test run; scripts call it
 * through {@link preparedFixture}.
 */
export async function prepareFixture(): Promise<string> {
  const root = await copyDeclarations();
  const synth = await runCli(['synth', '--root', root]);
  if (synth.exitCode !== 0) throw new Error(`the test fixture fleet does not synthesize:\n${synth.stderr}`);
  return root;
}

let prepared: Promise<string> | undefined;

/**
 * The prepared fixture fleet (declarations and generated/), shared and
 * read-only: copy it with {@link copyFixtureFleet} before changing anything.
 */
export function preparedFixture(): Promise<string> {
  const fromSetup = process.env[PREPARED_FIXTURE_VARIABLE];
  if (fromSetup) return Promise.resolve(fromSetup);
  prepared ??= prepareFixture();
  return prepared;
}

/** Copies the fixture fleet's declarations (and its synthesized generated/, when asked) into a new temporary folder. */
export async function copyFixtureFleet(options: { withGenerated?: boolean } = {}): Promise<string> {
  const root = await copyDeclarations();
  if (options.withGenerated) await cp(path.join(await preparedFixture(), 'generated'), path.join(root, 'generated'), { recursive: true });
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
