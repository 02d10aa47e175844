/**
 * Reading, comparing and atomically replacing `generated/`. The new tree is
 * built aside and swapped in only when complete, so a failure never leaves a
 * half-written folder.
 */
import { cp, mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
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

/**
 * Replaces `<root>/generated` with `tree`: writes a sibling folder, carries the
 * preserved folders over, then swaps the two with renames. Files of generated/
 * that are not in `tree` disappear (their source is gone).
 */
export async function writeTreeAtomically(root: string, tree: ReadonlyMap<string, string>): Promise<void> {
  const target = path.join(root, GENERATED_DIR);
  const staging = path.join(root, `.generated-new-${process.pid}`);
  const retired = path.join(root, `.generated-old-${process.pid}`);
  await rm(staging, { recursive: true, force: true });
  try {
    for (const [file, content] of tree) {
      const absolute = path.join(staging, ...file.split('/'));
      await mkdir(path.dirname(absolute), { recursive: true });
      await writeFile(absolute, content);
    }
    await mkdir(staging, { recursive: true });
    for (const dir of PRESERVED_DIRS) {
      await cp(path.join(target, dir), path.join(staging, dir), { recursive: true }).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'ENOENT') throw error;
      });
    }
    const hadTarget = await rename(target, retired).then(
      () => true,
      (error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT') return false;
        throw error;
      },
    );
    await rename(staging, target).catch(async (error: unknown) => {
      if (hadTarget) await rename(retired, target);
      throw error;
    });
    if (hadTarget) await rm(retired, { recursive: true, force: true });
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    throw error;
  }
}
