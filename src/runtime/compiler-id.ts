/**
 * What the running compiler is, as one hash: its version (package.json), its
 * dependencies' exact versions (package-lock.json) and its own code — the
 * precompiled build's id (a hash of the bundle, which holds the catalogues),
 * or, run from the sources, a hash of every source file. The synth cache keys
 * everything it records with it, so a new compiler never answers from an old
 * compiler's results.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { PACKAGE_ROOT, PRECOMPILED_DIR, SOURCE_ROOT } from './precompiled.ts';

/** The compiler's version, from its package.json. */
export async function compilerVersion(): Promise<string> {
  return (JSON.parse(await readFile(path.join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
}

/** Source files whose change cannot change what synth writes: tests and test support. */
const isOutsideTheCompiler = (file: string) => file.endsWith('.test.ts') || file.split(path.sep)[0] === 'testing';

async function sourcesHash(): Promise<string> {
  const files = (await readdir(SOURCE_ROOT, { recursive: true, withFileTypes: true }))
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(SOURCE_ROOT, path.join(entry.parentPath, entry.name)))
    .filter((file) => !isOutsideTheCompiler(file))
    .sort();
  const hash = createHash('sha256');
  const contents = await Promise.all(files.map((file) => readFile(path.join(SOURCE_ROOT, file))));
  files.forEach((file, index) => {
    hash.update(`${file}\0`).update(contents[index]!).update('\0');
  });
  return hash.digest('hex');
}

let id: Promise<string> | undefined;

/** The compiler's identity (hex), computed once per process. */
export function compilerId(): Promise<string> {
  id ??= (async () => {
    const [manifest, lockfile, code] = await Promise.all([
      readFile(path.join(PACKAGE_ROOT, 'package.json')),
      readFile(path.join(PACKAGE_ROOT, 'package-lock.json')).catch(() => Buffer.from('no lockfile')),
      PRECOMPILED_DIR === undefined ? sourcesHash() : Promise.resolve(`precompiled ${path.basename(PRECOMPILED_DIR)}`),
    ]);
    return createHash('sha256').update(manifest).update('\0').update(lockfile).update('\0').update(code).digest('hex');
  })();
  return id;
}
