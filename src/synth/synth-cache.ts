/**
 * The synth cache: what this machine's compiler synthesized before, so that
 * `synth` and `synth --check` with nothing changed answer from hashes, and a
 * change re-synthesizes only the environments it touches.
 *
 * Two records, both in the compiler's cache folder (src/runtime/cache-dir.ts:
 * this user's, never in the repository, never trusted from a commit):
 * - per environment, content-addressed: the hash of the compiler
 *   (src/runtime/compiler-id.ts) and of the environment's slice of the fleet
 *   (src/synth/environment-slice.ts) names the SHA-256 of every file synth
 *   made for it. Synthesis is a pure function of the two, so such a record is
 *   never stale; it is used only when the files on disk hash to it.
 * - per fleet root: the hash of every input (the declaration folders' files,
 *   the files they import, package.json, CODEOWNERS, the bot's ledger) and of
 *   every file of generated/ after the last synth. With the same compiler and
 *   inputs, and generated/ on disk hashing to the record, nothing can have
 *   changed, and the fleet is not even loaded.
 * A record is a hint that is always proven against the files on disk; a
 * missing, unreadable or mismatching one only costs a synthesis.
 */
import { readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { DECLARATION_KINDS } from '../fleet/fleet.ts';
import { CODE_OWNERS_LOCATIONS } from '../fleet/code-owners.ts';
import { stableJson } from '../fleet/stable-json.ts';
import { cacheDir } from '../runtime/cache-dir.ts';
import { compilerId } from '../runtime/compiler-id.ts';
import { sha256, type FileHashes } from './content-hash.ts';
import type { EnvironmentSlice } from './environment-slice.ts';
import { GENERATED_DIR, PRESERVED_DIRS } from './write.ts';

/** What one fleet root's last synth (or clean check) saw and made. */
interface FleetRecord {
  readonly compiler: string;
  /** Every input, relative to the fleet root; `missing` for a CODEOWNERS location without a file. */
  readonly inputs: FileHashes;
  /** The files found in the declaration folders and the ledger's folder (a new file in one is a change too). */
  readonly listed: readonly string[];
  /** Every file of generated/ outside the bot's ledger, relative to generated/. */
  readonly files: FileHashes;
  /** What `synth --check` says beside the files: CODEOWNERS and the bot's ledger (nothing when all is well). */
  readonly checkProblems: readonly string[];
  /** The fleet's environments, by name. */
  readonly environments: readonly string[];
}

/** What the cache answers when nothing changed. */
export type UnchangedFleet = Pick<FleetRecord, 'files' | 'checkProblems' | 'environments'>;

/** Every file under `dir` (relative POSIX paths, sorted), or none when it is missing. */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(dir, path.join(entry.parentPath, entry.name)).split(path.sep).join('/'))
    .sort();
}

/** Files read at once while hashing: a few thousand generated files must not all sit in memory together. */
const FILES_READ_AT_ONCE = 32;

/** Hashes of the given files under `dir`; `missing` for a file that is not there. */
async function hashFiles(dir: string, files: readonly string[]): Promise<FileHashes> {
  const hashes: FileHashes = {};
  for (let start = 0; start < files.length; start += FILES_READ_AT_ONCE) {
    const batch = files.slice(start, start + FILES_READ_AT_ONCE);
    const results = await Promise.all(batch.map((file) => readFile(path.join(dir, ...file.split('/'))).then(sha256, () => 'missing')));
    batch.forEach((file, index) => {
      hashes[file] = results[index]!;
    });
  }
  return hashes;
}

/** Hashes of every file of `<root>/generated/` that synth owns (not the bot's ledger). */
export async function hashGenerated(root: string): Promise<FileHashes> {
  const dir = path.join(root, GENERATED_DIR);
  const files = (await filesUnder(dir)).filter((file) => !PRESERVED_DIRS.some((preserved) => file.startsWith(`${preserved}/`)));
  return hashFiles(dir, files);
}

/** The files of the declaration folders and of the bot's ledger, relative to the root. */
async function listedFiles(root: string): Promise<string[]> {
  const folders = [...DECLARATION_KINDS, ...PRESERVED_DIRS.map((dir) => `${GENERATED_DIR}/${dir}`)];
  const byFolder = await Promise.all(folders.map(async (folder) => (await filesUnder(path.join(root, folder))).map((file) => `${folder}/${file}`)));
  return byFolder.flat();
}

/** The inputs of a fleet besides the compiler: declarations, their imports, package.json, CODEOWNERS and the bot's ledger. */
async function fleetInputs(root: string, imports: readonly string[]): Promise<{ listed: string[]; inputs: FileHashes }> {
  const listed = await listedFiles(root);
  const files = [...new Set([...listed, ...imports, 'package.json', ...CODE_OWNERS_LOCATIONS])].sort();
  return { listed, inputs: await hashFiles(root, files) };
}

const sameHashes = (a: FileHashes, b: FileHashes) => {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((key) => a[key] === b[key]);
};

/** Writes through a temporary file, so that a reader never sees half a record. */
async function writeWhole(file: string, text: string): Promise<void> {
  const partial = `${file}.${process.pid}`;
  await writeFile(partial, text, { mode: 0o600 });
  await rename(partial, file);
}

/** Records of each kind kept (per environment, per fleet root); the oldest beyond this are removed. */
const KEPT_RECORDS = 500;

export class SynthCache {
  private constructor(
    private readonly dir: string,
    private readonly compiler: string,
  ) {}

  /** The cache, or undefined when caching is off (`LLMOPS_CACHE=off`) or no private cache folder is available. */
  static async open(): Promise<SynthCache | undefined> {
    const dir = cacheDir('synth');
    return dir === undefined ? undefined : new SynthCache(dir, await compilerId());
  }

  private async fleetRecordFile(root: string): Promise<string> {
    return path.join(this.dir, `fleet-${sha256(path.resolve(root)).slice(0, 32)}.json`);
  }

  /**
   * The no-op answer: the record of the fleet's last synth when the compiler,
   * every input and every file of generated/ are as recorded; else undefined.
   */
  async unchangedFleet(root: string): Promise<UnchangedFleet | undefined> {
    let record: FleetRecord;
    try {
      record = JSON.parse(await readFile(await this.fleetRecordFile(root), 'utf8')) as FleetRecord;
    } catch {
      return undefined;
    }
    if (record.compiler !== this.compiler) return undefined;
    const [listed, inputs, files] = await Promise.all([listedFiles(root), hashFiles(root, Object.keys(record.inputs)), hashGenerated(root)]);
    const unchanged = listed.join('\n') === record.listed.join('\n') && sameHashes(inputs, record.inputs) && sameHashes(files, record.files);
    return unchanged ? record : undefined;
  }

  /** The inputs as they are before the fleet is loaded, for {@link recordFleet}. */
  async inputsBeforeLoad(root: string): Promise<FileHashes> {
    return (await fleetInputs(root, [])).inputs;
  }

  /**
   * Records what a synth of the whole fleet made (or a check found up to
   * date): `files` as they now are in generated/. Nothing is recorded when an
   * input changed since `before` (an edit during the run).
   */
  async recordFleet(root: string, before: FileHashes, imports: readonly string[], answer: UnchangedFleet): Promise<void> {
    if (!sameHashes(before, await this.inputsBeforeLoad(root))) return;
    const { listed, inputs } = await fleetInputs(root, imports);
    const record: FleetRecord = { compiler: this.compiler, inputs, listed, ...answer };
    await writeWhole(await this.fleetRecordFile(root), JSON.stringify(record));
  }

  /** Forgets a fleet root's record (a failed or partial synth). */
  async forgetFleet(root: string): Promise<void> {
    await rm(await this.fleetRecordFile(root), { force: true });
  }

  /** The key of an environment's output: the compiler and the slice. */
  environmentKey(slice: EnvironmentSlice): string {
    return sha256(`${this.compiler}\0${stableJson(slice)}`);
  }

  /** The hashes of the files synth makes for the environment of `key`, when recorded. */
  async environmentFiles(key: string): Promise<FileHashes | undefined> {
    return readFile(path.join(this.dir, `environment-${key}.json`), 'utf8').then(
      (text) => JSON.parse(text) as FileHashes,
      () => undefined,
    );
  }

  async recordEnvironment(key: string, files: FileHashes): Promise<void> {
    await writeWhole(path.join(this.dir, `environment-${key}.json`), JSON.stringify(files));
  }

  /** Removes the oldest records of each kind beyond {@link KEPT_RECORDS} (test runs make a fleet root a test). */
  async prune(): Promise<void> {
    const names = await readdir(this.dir);
    for (const prefix of ['environment-', 'fleet-']) {
      const records = names.filter((name) => name.startsWith(prefix));
      if (records.length <= KEPT_RECORDS) continue;
      const dated = await Promise.all(
        records.map(async (name) => ({
          name,
          mtimeMs: await stat(path.join(this.dir, name)).then(
            (stats) => stats.mtimeMs,
            () => 0,
          ),
        })),
      );
      dated.sort((a, b) => b.mtimeMs - a.mtimeMs);
      await Promise.all(dated.slice(KEPT_RECORDS).map(({ name }) => rm(path.join(this.dir, name), { force: true })));
    }
  }
}

/** Whether the files on disk under `<env>/` are exactly the recorded ones. */
export function environmentOnDisk(environmentName: string, onDisk: FileHashes, recorded: FileHashes): boolean {
  const prefix = `${environmentName}/`;
  const disk = Object.fromEntries(Object.entries(onDisk).filter(([file]) => file.startsWith(prefix)));
  return sameHashes(disk, recorded);
}
