#!/usr/bin/env node
/**
 * The precompiled CLI. esbuild bundles the compiler's TypeScript (the entry
 * points below; npm packages stay external and load from node_modules) into
 * `dist/<id>/` (git-ignored), where <id> is a hash of what was built, and
 * `dist/manifest.json` records that id with the SHA-256, size and time of
 * every file that went into it. `npm ci` builds it (the `prepare` script runs
 * this file); bin/llmops.js checks the manifest on every start — sizes and
 * times first, the content hash of a file whose time changed (a checkout, a
 * `touch`) — and builds again when a source changed, so neither contributors
 * nor `npm ci --ignore-scripts` (CI, where no script runs) need a build step.
 * When no build can be written (a read-only checkout without one), the CLI
 * runs from the sources.
 *
 * Plain JavaScript: it runs before anything is compiled.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const PACKAGE_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DIST = path.join(PACKAGE_ROOT, 'dist');
const MANIFEST = path.join(DIST, 'manifest.json');
/** The CLI, the synth worker (a thread of its own), and the sandbox's compiler (to build the sandbox's runtime into the folder). */
const ENTRIES = { main: 'src/cli/main.ts', 'synth-worker': 'src/synth/synth-worker.ts', 'sandbox-compile': 'src/fleet/sandbox/compile.ts' };
/** Files besides the bundled sources whose change calls for a new build (the dependencies' versions, compiler options, this file). */
const ALSO = ['package.json', 'package-lock.json', 'tsconfig.json', 'bin/build.js'];
/** Builds kept in dist/: a running process (the bot's --serve) may still import a chunk of the build it started from. */
const KEEP = 3;
/** A build folder left by a killed build is removed after this long (ms). */
const ABANDONED_MS = 60 * 60_000;

const posix = (file) => file.split(path.sep).join('/');

/** SHA-256 of a file of the package (relative POSIX path), or `missing`. */
function hashOf(file) {
  try {
    return createHash('sha256')
      .update(readFileSync(path.join(PACKAGE_ROOT, file)))
      .digest('hex');
  } catch {
    return 'missing';
  }
}

/** `size:mtime` of a file of the package (relative POSIX path), or `missing`. */
function stampOf(file) {
  try {
    const stats = statSync(path.join(PACKAGE_ROOT, file));
    return `${stats.size}:${stats.mtimeMs}`;
  } catch {
    return 'missing';
  }
}

/**
 * URL of the build's main.js when dist/ holds a build of the current sources,
 * else undefined. Synchronous and small: it runs on every start.
 */
export function freshBuild() {
  let manifest;
  try {
    manifest = JSON.parse(readFileSync(MANIFEST, 'utf8'));
  } catch {
    return undefined;
  }
  const restamped = {};
  for (const [file, expected] of Object.entries(manifest.inputs)) {
    const stamp = stampOf(file);
    if (stamp === expected) continue;
    if (hashOf(file) !== manifest.hashes?.[file]) return undefined;
    restamped[file] = stamp;
  }
  const main = path.join(DIST, manifest.id, 'main.js');
  try {
    statSync(main);
  } catch {
    return undefined;
  }
  // Same content, new times: remember the times, so the next start compares stamps only (best effort).
  if (Object.keys(restamped).length > 0) writeManifest({ ...manifest, inputs: { ...manifest.inputs, ...restamped } }).catch(() => undefined);
  return pathToFileURL(main).href;
}

/**
 * npm packages stay external, as written, except a deep import into a
 * CommonJS package without an `exports` map (`@cdktf/provider-aws/lib/eks-node-group`
 * names a folder): Node's ES module resolver does not complete those, so the
 * bundle names the file (`…/eks-node-group/index.js`), as the CommonJS resolver would.
 */
const externalPackages = {
  name: 'external-packages',
  setup(compiler) {
    const resolving = Symbol('resolving');
    compiler.onResolve({ filter: /^(@[^/.][^/]*\/)?[^/.][^/]*(\/.*)?$/ }, async (args) => {
      if (args.kind === 'entry-point' || args.pluginData === resolving || args.path.startsWith('node:')) return undefined;
      const [, scope = '', rest] = args.path.match(/^(@[^/]+\/)?(.*)$/);
      const [name, ...subpath] = rest.split('/');
      if (subpath.length === 0) return { path: args.path, external: true };
      const packageDir = path.join(PACKAGE_ROOT, 'node_modules', `${scope}${name}`);
      const manifest = JSON.parse(await readFile(path.join(packageDir, 'package.json'), 'utf8').catch(() => '{}'));
      if (manifest.exports !== undefined) return { path: args.path, external: true };
      const resolved = await compiler.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, pluginData: resolving });
      if (resolved.errors.length > 0) return { errors: resolved.errors };
      return { path: `${scope}${name}/${posix(path.relative(packageDir, resolved.path))}`, external: true };
    });
  },
};

/** Stamps of every file under src/ and of {@link ALSO}, taken before a build: a file that changes while it runs is not recorded as built. */
function stampsBeforeBuild() {
  const files = readdirSync(path.join(PACKAGE_ROOT, 'src'), { recursive: true }).map((file) => posix(path.join('src', String(file))));
  return Object.fromEntries([...files, ...ALSO].map((file) => [file, stampOf(file)]));
}

/** Replaces dist/manifest.json whole (a reader never sees half of it). */
async function writeManifest(manifest) {
  const partial = `${MANIFEST}.${process.pid}`;
  await writeFile(partial, `${JSON.stringify(manifest, null, 1)}\n`);
  await rename(partial, MANIFEST);
}

/** A hash of a build folder's files, names and contents: the build's id. */
async function contentId(dir) {
  const hash = createHash('sha256');
  for (const name of (await readdir(dir)).sort())
    hash
      .update(`${name}\0`)
      .update(await readFile(path.join(dir, name)))
      .update('\0');
  return hash.digest('hex').slice(0, 20);
}

/** Removes all but the newest {@link KEEP} builds (always keeping `current`), and build folders abandoned by killed builds. */
async function prune(current) {
  const entries = await Promise.all(
    (await readdir(DIST, { withFileTypes: true })).filter((entry) => entry.isDirectory()).map(async (entry) => ({ name: entry.name, mtimeMs: (await stat(path.join(DIST, entry.name))).mtimeMs })),
  );
  const builds = entries.filter((entry) => !entry.name.startsWith('.') && entry.name !== current).sort((a, b) => b.mtimeMs - a.mtimeMs);
  const abandoned = entries.filter((entry) => entry.name.startsWith('.building-') && Date.now() - entry.mtimeMs > ABANDONED_MS);
  await Promise.all([...builds.slice(KEEP - 1), ...abandoned].map((entry) => rm(path.join(DIST, entry.name), { recursive: true, force: true })));
}

/** Builds dist/<id>/ from the sources and records it in the manifest; returns the URL of its main.js. */
export async function build() {
  const { build: bundle } = await import('esbuild');
  const before = stampsBeforeBuild();
  await mkdir(DIST, { recursive: true });
  const building = path.join(DIST, `.building-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    const result = await bundle({
      absWorkingDir: PACKAGE_ROOT,
      entryPoints: ENTRIES,
      outdir: building,
      chunkNames: '[name]-[hash]',
      bundle: true,
      splitting: true,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      plugins: [externalPackages],
      define: { LLMOPS_PRECOMPILED: 'true' },
      metafile: true,
      logLevel: 'silent',
      legalComments: 'none',
    });
    // The sandbox's runtime, built by the code that builds it at run time, from the build just made.
    const { writeSandboxRuntime } = await import(pathToFileURL(path.join(building, 'sandbox-compile.js')).href);
    const runtimeInputs = (await writeSandboxRuntime(building)).map((file) => posix(path.relative(PACKAGE_ROOT, file)));
    const inputs = [...new Set([...Object.keys(result.metafile.inputs), ...runtimeInputs, ...ALSO])].filter((file) => !file.split('/').includes('node_modules')).sort();

    const id = await contentId(building);
    const target = path.join(DIST, id);
    await rename(building, target).catch(async (error) => {
      // Another process built the same sources first: its folder holds the same files.
      if (
        !(await stat(target).then(
          () => true,
          () => false,
        ))
      )
        throw error;
      await rm(building, { recursive: true, force: true });
    });
    if (inputs.every((file) => before[file] === stampOf(file))) {
      await writeManifest({ id, inputs: Object.fromEntries(inputs.map((file) => [file, before[file]])), hashes: Object.fromEntries(inputs.map((file) => [file, hashOf(file)])) });
    }
    await prune(id);
    return pathToFileURL(path.join(target, 'main.js')).href;
  } catch (error) {
    await rm(building, { recursive: true, force: true });
    throw error;
  }
}

// `npm ci` (the `prepare` script): a build that cannot be made must not fail the install; the CLI then runs from the sources.
if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  try {
    const main = await build();
    process.stdout.write(`llmops: precompiled the CLI into ${path.relative(PACKAGE_ROOT, path.dirname(fileURLToPath(main)))}/\n`);
  } catch (error) {
    process.stderr.write(`llmops: no precompiled build (${error?.message ?? error}); the CLI runs from the sources\n`);
  }
}
