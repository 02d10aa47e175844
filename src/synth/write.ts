/**
 * Reading, comparing and atomically replacing `generated/`. The new tree is
 * built aside and swapped in only when complete, so a failure never leaves a
 * half-written folder, and a writer killed at any moment leaves a complete old
 * or new tree that the next write puts back (with the bot's ledger).
 */
import { copyFile, cp, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';

export const GENERATED_DIR = 'generated';

/** Top-level folders of generated/ that synth does not own (the bot's audit ledger); kept as they are. */
export const PRESERVED_DIRS: readonly string[] = ['optimizer'];

function isPreserved(relativePath: string): boolean {
  return PRESERVED_DIRS.some((dir) => relativePath === dir || relativePath.startsWith(`${dir}/`));
}

/** Every file under `dir` (relative POSIX paths), outside the preserved folders. Missing dir: empty. */
export async function readTree(dir: string): Promise<Map<string, string>> {
  const tree = new Map<string, string>();
  let entries;
  try {
    entries = await readdir(dir, { recursive: true, withFileTypes: true });
  } catch {
    return tree;
  }
  for (const entry of entries) {
    if (!entry.isFile()) continue;
    const absolute = path.join(entry.parentPath, entry.name);
    const relative = path.relative(dir, absolute).split(path.sep).join('/');
    if (!isPreserved(relative)) tree.set(relative, await readFile(absolute, 'utf8'));
  }
  return tree;
}

/** Files that differ between what synth would write and what is on disk. */
export interface TreeDiff {
  /** On disk with other content. */
  readonly stale: string[];
  /** Not on disk. */
  readonly missing: string[];
  /** On disk with no source any more. */
  readonly extra: string[];
}

export function diffTrees(expected: ReadonlyMap<string, string>, actual: ReadonlyMap<string, string>): TreeDiff {
  const stale: string[] = [];
  const missing: string[] = [];
  for (const [file, content] of expected) {
    const onDisk = actual.get(file);
    if (onDisk === undefined) missing.push(file);
    else if (onDisk !== content) stale.push(file);
  }
  const extra = [...actual.keys()].filter((file) => !expected.has(file));
  return { stale: stale.sort(), missing: missing.sort(), extra: extra.sort() };
}

export function isClean(diff: TreeDiff): boolean {
  return diff.stale.length + diff.missing.length + diff.extra.length === 0;
}

/** Keeps only the files under one of the prefixes (`dev/`); all files when no prefix is given. */
export function scopeTree(tree: ReadonlyMap<string, string>, prefixes: readonly string[] | undefined): Map<string, string> {
  if (!prefixes) return new Map(tree);
  return new Map([...tree].filter(([file]) => prefixes.some((prefix) => file.startsWith(prefix))));
}

/** Leftovers of a write, beside generated/ in the fleet root (git-ignored as `.generated-*`). */
const LOCK = '.generated-lock';
const BUILDING_PREFIX = '.generated-building-';
const READY = '.generated-new';
const RETIRED = '.generated-old';
/** Names the writer of earlier versions used (`.generated-new-<pid>`, `.generated-old-<pid>`): recovered the same way. */
const LEGACY = /^\.generated-(new|old)-\d+$/;

/** The stages of a write, in order; `file-written` repeats once per file. Tests stop a writer at each one. */
export const WRITE_STAGES = ['locked', 'recovered', 'file-written', 'built', 'ready', 'retired', 'swapped', 'done'] as const;
export type WriteStage = (typeof WRITE_STAGES)[number];

export interface WriteOptions {
  /** Called as each stage is reached (tests stop the process there). */
  readonly onStage?: (stage: WriteStage) => void | Promise<void>;
  /** How long to wait for another writer's lock, milliseconds. Default: 30,000. */
  readonly lockWaitMs?: number;
}

/** Another process is writing generated/ and did not finish within the wait. */
export class GeneratedBusyError extends Error {
  override readonly name = 'GeneratedBusyError';
}

const missing = (error: unknown) => (error as NodeJS.ErrnoException)?.code === 'ENOENT';
const exists = (file: string) =>
  stat(file).then(
    () => true,
    (error: unknown) => (missing(error) ? false : Promise.reject(error)),
  );

/** Whether a process with this pid runs (a lock or a folder named after it belongs to a live writer). */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Runs `work` holding `<root>/.generated-lock` (the writer's pid): one writer
 * per fleet root at a time. A lock whose process is gone was left by a killed
 * writer and is taken over.
 */
async function withLock<T>(root: string, waitMs: number, work: () => Promise<T>): Promise<T> {
  const lock = path.join(root, LOCK);
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      await writeFile(lock, `${process.pid}\n`, { flag: 'wx' });
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = Number((await readFile(lock, 'utf8').catch(() => '')).trim());
      if (Number.isInteger(holder) && holder > 0 && isProcessAlive(holder)) {
        if (Date.now() >= deadline)
          throw new GeneratedBusyError(`another llmops (pid ${holder}) has been writing generated/ for ${waitMs / 1000} s; wait for it, or remove ${LOCK} if no such process runs`);
        await new Promise((resolve) => setTimeout(resolve, 50));
        continue;
      }
      await rm(lock, { force: true });
    }
  }
  try {
    return await work();
  } finally {
    await rm(lock, { force: true });
  }
}

/**
 * Puts a complete tree back at generated/ after a writer was killed, and
 * removes what it left: a tree still being written is discarded; a complete
 * new tree finishes the swap when generated/ is gone (killed between the two
 * renames) and is discarded when the swap had not begun; the retired old tree
 * is restored when nothing else is there, else removed. The bot's ledger in
 * a leftover old tree that generated/ lacks (the loss an earlier writer could
 * cause) is carried back. Call it holding the lock.
 */
async function recover(root: string): Promise<void> {
  const target = path.join(root, GENERATED_DIR);
  const names = await readdir(root);
  for (const name of names.filter((candidate) => candidate.startsWith(BUILDING_PREFIX) || /^\.generated-new-\d+$/.test(candidate))) {
    await rm(path.join(root, name), { recursive: true, force: true });
  }
  const ready = path.join(root, READY);
  if (await exists(ready)) {
    if (await exists(target)) await rm(ready, { recursive: true, force: true });
    else await rename(ready, target);
  }
  for (const name of names.filter((candidate) => candidate === RETIRED || (LEGACY.test(candidate) && candidate.startsWith('.generated-old-')))) {
    const retired = path.join(root, name);
    if (!(await exists(target))) {
      await rename(retired, target);
      continue;
    }
    for (const dir of PRESERVED_DIRS) {
      if (!(await exists(path.join(target, dir))) && (await exists(path.join(retired, dir)))) await rename(path.join(retired, dir), path.join(target, dir));
    }
    await rm(retired, { recursive: true, force: true });
  }
}

/** Recovers generated/ from what an interrupted write left (see {@link writeTreeAtomically}); a no-op when nothing was left. */
export async function recoverGenerated(root: string, options: Pick<WriteOptions, 'lockWaitMs'> = {}): Promise<void> {
  await withLock(root, options.lockWaitMs ?? 30_000, () => recover(root));
}

/** Where a write puts the files of the new tree, as they are made (paths relative to generated/). */
export interface GeneratedSink {
  write(file: string, content: string): Promise<void>;
  /** Copies a file of the current generated/ into the new tree unchanged (a file synth did not need to remake). */
  keep(file: string): Promise<void>;
}

/**
 * Replaces `<root>/generated` with `tree`. The new tree is written aside
 * (`.generated-building-<pid>`), with the preserved folders (the bot's ledger)
 * copied byte for byte, renamed to `.generated-new` once complete, then
 * swapped in: generated → `.generated-old`, `.generated-new` → generated,
 * `.generated-old` removed. A writer killed at any point leaves either the old
 * or the new tree complete on disk, and the next write (or
 * {@link recoverGenerated}) puts it back at generated/ first. Files of
 * generated/ that are not in `tree` disappear (their source is gone).
 */
export async function writeTreeAtomically(root: string, tree: ReadonlyMap<string, string>, options: WriteOptions = {}): Promise<void> {
  await writeGeneratedAtomically(
    root,
    async (sink) => {
      for (const [file, content] of tree) await sink.write(file, content);
    },
    options,
  );
}

/**
 * {@link writeTreeAtomically} for a tree made while it is written: `fill`
 * writes every file of the new tree into the sink, so no more than a file is
 * held at a time. A `fill` that throws leaves generated/ as it was.
 */
export async function writeGeneratedAtomically(root: string, fill: (sink: GeneratedSink) => Promise<void>, options: WriteOptions = {}): Promise<void> {
  const stage = async (name: WriteStage) => options.onStage?.(name);
  await withLock(root, options.lockWaitMs ?? 30_000, async () => {
    await stage('locked');
    await recover(root);
    await stage('recovered');
    const target = path.join(root, GENERATED_DIR);
    const building = path.join(root, `${BUILDING_PREFIX}${process.pid}`);
    const ready = path.join(root, READY);
    const retired = path.join(root, RETIRED);
    const folders = new Set<string>();
    const placed = async (file: string) => {
      const absolute = path.join(building, ...file.split('/'));
      const folder = path.dirname(absolute);
      if (!folders.has(folder)) {
        await mkdir(folder, { recursive: true });
        folders.add(folder);
      }
      return absolute;
    };
    try {
      await mkdir(building, { recursive: true });
      await fill({
        write: async (file, content) => {
          await writeFile(await placed(file), content);
          await stage('file-written');
        },
        keep: async (file) => {
          await copyFile(path.join(target, ...file.split('/')), await placed(file));
          await stage('file-written');
        },
      });
      for (const dir of PRESERVED_DIRS) {
        await cp(path.join(target, dir), path.join(building, dir), { recursive: true, errorOnExist: true, force: false }).catch((error: unknown) => {
          if (!missing(error)) throw error;
        });
      }
      await stage('built');
      await rename(building, ready);
    } catch (error) {
      await rm(building, { recursive: true, force: true });
      throw error;
    }
    await stage('ready');
    await rename(target, retired).catch((error: unknown) => {
      if (!missing(error)) throw error;
    });
    await stage('retired');
    await rename(ready, target);
    await stage('swapped');
    await rm(retired, { recursive: true, force: true });
    await stage('done');
  });
}
