/**
 * Compiles what the sandboxed loader runs, in the (trusted) parent with
 * esbuild: the child program, the declaration language, and the declarations
 * bundled with the repository modules they import. The import rule — inside
 * the repository, `llmops-gitops`, a few built-ins — is enforced here with the
 * file and line of the import, and again in the child for dynamic imports.
 */
import { createHash } from 'node:crypto';
import { readFile, realpath, rename, stat, writeFile } from 'node:fs/promises';
import { isBuiltin } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { build, type BuildFailure, type BuildOptions, type Message, type Plugin } from 'esbuild';
import { cacheDir } from '../../runtime/cache-dir.ts';
import { PRECOMPILED_DIR, SOURCE_ROOT } from '../../runtime/precompiled.ts';
import { ALLOWED_BUILTINS, importRefused, LANGUAGE_SPECIFIER, type SandboxModule } from './protocol.ts';

const COMMON: BuildOptions = { bundle: true, format: 'esm', platform: 'node', target: 'node20', write: false, logLevel: 'silent', legalComments: 'none' };

// From the sources, also in the precompiled build (whose chunks sit elsewhere): the language's URL names src/index.ts either way.
const CHILD_ENTRY = path.join(SOURCE_ROOT, 'fleet/sandbox/child.ts');
const LANGUAGE_ENTRY = path.join(SOURCE_ROOT, 'index.ts');

/** The runtime's file in the precompiled build's folder (bin/build.js writes it with {@link writeSandboxRuntime}). */
const PRECOMPILED_RUNTIME = 'sandbox-runtime.json';

/** The child program and the declaration language. */
export interface SandboxRuntime {
  /** The child's JavaScript (an ES module run with `node -e`). */
  readonly child: string;
  /** `llmops-gitops` as the running compiler defines it, with zod bundled in. */
  readonly language: SandboxModule;
}

/**
 * Run from the sources, compiled runtimes are kept between runs in the
 * compiler's cache folder (src/runtime/cache-dir.ts: this user's, refused when
 * anyone else may write to it), keyed by the size and time of every source
 * file that went into them: a run skips the build while none changed. The
 * precompiled build ships its runtime instead.
 */
const cacheFile = () => {
  const dir = cacheDir('sandbox');
  return dir && path.join(dir, `runtime-${createHash('sha256').update(CHILD_ENTRY).digest('hex').slice(0, 16)}.json`);
};

interface CachedRuntime {
  /** Absolute source path → `size:mtime` when the runtime was built. */
  readonly inputs: Record<string, string>;
  readonly runtime: SandboxRuntime;
}

const stamp = async (file: string) =>
  stat(file).then(
    (stats) => `${stats.size}:${stats.mtimeMs}`,
    () => 'missing',
  );

async function readCachedRuntime(file: string | undefined): Promise<SandboxRuntime | undefined> {
  if (file === undefined) return undefined;
  try {
    const cached = JSON.parse(await readFile(file, 'utf8')) as CachedRuntime;
    const stamps = await Promise.all(Object.entries(cached.inputs).map(async ([input, expected]) => (await stamp(input)) === expected));
    return stamps.every(Boolean) ? cached.runtime : undefined;
  } catch {
    return undefined;
  }
}

/** Writes `text` to `file` through a temporary file, so that a reader never sees half of it. */
async function writeWhole(file: string, text: string): Promise<void> {
  const partial = `${file}.${process.pid}`;
  await writeFile(partial, text, { mode: 0o600 });
  await rename(partial, file);
}

async function buildRuntime(): Promise<CachedRuntime> {
  const compile = (entry: string) => build({ ...COMMON, entryPoints: [entry], metafile: true, absWorkingDir: path.dirname(LANGUAGE_ENTRY) });
  const [child, language] = await Promise.all([compile(CHILD_ENTRY), compile(LANGUAGE_ENTRY)]);
  const runtime: SandboxRuntime = { child: child.outputFiles![0]!.text, language: { url: pathToFileURL(LANGUAGE_ENTRY).href, source: language.outputFiles![0]!.text } };
  const files = [...Object.keys(child.metafile!.inputs), ...Object.keys(language.metafile!.inputs)].map((file) => path.resolve(path.dirname(LANGUAGE_ENTRY), file));
  const inputs = Object.fromEntries(await Promise.all(files.map(async (file) => [file, await stamp(file)] as const)));
  return { inputs, runtime };
}

async function cachedOrBuiltRuntime(): Promise<SandboxRuntime> {
  const file = cacheFile();
  const cached = await readCachedRuntime(file);
  if (cached) return cached;
  const built = await buildRuntime();
  // Best effort: a cache that cannot be written only costs the next run a build.
  if (file !== undefined) await writeWhole(file, JSON.stringify(built)).catch(() => undefined);
  return built.runtime;
}

/**
 * Builds the runtime into a precompiled build's folder (bin/build.js calls it)
 * and returns the source files that went into it, for the build's freshness check.
 */
export async function writeSandboxRuntime(dir: string): Promise<string[]> {
  const { inputs, runtime } = await buildRuntime();
  await writeWhole(path.join(dir, PRECOMPILED_RUNTIME), JSON.stringify(runtime));
  return Object.keys(inputs);
}

async function precompiledRuntime(): Promise<SandboxRuntime | undefined> {
  if (PRECOMPILED_DIR === undefined) return undefined;
  return readFile(path.join(PRECOMPILED_DIR, PRECOMPILED_RUNTIME), 'utf8').then(
    (text) => JSON.parse(text) as SandboxRuntime,
    () => undefined,
  );
}

let runtime: Promise<SandboxRuntime> | undefined;

/** The child program and the declaration language: the precompiled build's, else from the cache while their sources are unchanged, else built. */
export function sandboxRuntime(): Promise<SandboxRuntime> {
  runtime ??= precompiledRuntime().then((shipped) => shipped ?? cachedOrBuiltRuntime());
  return runtime;
}

/** The declarations, compiled for the child. */
export interface CompiledDeclarations {
  /** Entries and the chunks they share, by `file:` URL. */
  readonly modules: readonly SandboxModule[];
  /** Module URL of each declaration file that compiled (relative file → URL). */
  readonly entries: ReadonlyMap<string, string>;
  /** Declaration files that did not compile, with the compiler's message (`file:line:column: text`). */
  readonly failures: ReadonlyMap<string, string>;
  /** Every repository file the compiled declarations are made of (relative POSIX paths): the declarations and what they import. */
  readonly inputs: readonly string[];
}

const isInside = (folder: string, file: string) => file === folder || file.startsWith(`${folder}${path.sep}`);

/** Lets an import through only when it stays in the repository (outside .git/), is the declaration language or an allowed built-in. */
function importRule(realRoot: string): Plugin {
  const resolving = Symbol('resolving');
  return {
    name: 'llmops-import-rule',
    setup(compiler) {
      compiler.onResolve({ filter: /.*/ }, async (args) => {
        if (args.kind === 'entry-point' || args.pluginData === resolving) return undefined;
        if (args.path === LANGUAGE_SPECIFIER) return { path: args.path, external: true };
        if (isBuiltin(args.path)) {
          return ALLOWED_BUILTINS.includes(args.path.replace(/^node:/, '')) ? { path: args.path, external: true } : { errors: [{ text: importRefused(JSON.stringify(args.path)) }] };
        }
        if (!/^(\.{1,2}\/|\/)/.test(args.path)) return { errors: [{ text: importRefused(`the package ${JSON.stringify(args.path)}`) }] };
        const resolved = await compiler.resolve(args.path, { kind: args.kind, importer: args.importer, resolveDir: args.resolveDir, pluginData: resolving });
        if (resolved.errors.length > 0) return { errors: resolved.errors };
        if (!isInside(realRoot, resolved.path) || isInside(path.join(realRoot, '.git'), resolved.path)) {
          return { errors: [{ text: importRefused(`${JSON.stringify(args.path)}, which is ${isInside(realRoot, resolved.path) ? 'in .git/' : 'outside the repository'}`) }] };
        }
        return resolved;
      });
    },
  };
}

const describeMessage = (message: Message) => (message.location ? `${message.location.file}:${message.location.line}:${message.location.column}: ${message.text}` : message.text);

const isBuildFailure = (error: unknown): error is BuildFailure => Array.isArray((error as BuildFailure)?.errors);

/**
 * Bundles each declaration file (`models/a.ts`, relative to `root`) with the
 * repository modules it imports; modules they share become chunks, so a
 * helper is evaluated once. A file that does not compile is reported and the
 * others are compiled without it.
 */
export async function compileDeclarations(root: string, files: readonly string[]): Promise<CompiledDeclarations> {
  const realRoot = await realpath(root);
  const bundle = (entries: readonly string[]) =>
    build({
      ...COMMON,
      absWorkingDir: realRoot,
      entryPoints: [...entries],
      outdir: realRoot,
      outbase: realRoot,
      entryNames: '[dir]/[name]',
      chunkNames: '.llmops-chunks/[name]-[hash]',
      splitting: true,
      metafile: true,
      plugins: [importRule(realRoot)],
    });

  const failures = new Map<string, string>();
  let compiled = files;
  let result;
  try {
    result = files.length > 0 ? await bundle(files) : undefined;
  } catch (error) {
    if (!isBuildFailure(error)) throw error;
    // Which files fail: each alone (only on this slow path), then the rest together.
    const alone = await Promise.all(
      files.map((file) =>
        bundle([file]).then(
          () => undefined,
          (failure: unknown) => (isBuildFailure(failure) ? failure.errors.map(describeMessage).join('; ') : String(failure)),
        ),
      ),
    );
    files.forEach((file, index) => {
      alone[index] !== undefined && failures.set(file, alone[index]!);
    });
    compiled = files.filter((file) => !failures.has(file));
    result = compiled.length > 0 ? await bundle(compiled) : undefined;
  }

  const entries = new Map<string, string>();
  const byOutput = new Map(compiled.map((file) => [path.join(realRoot, file.replace(/\.ts$/, '.js')), file]));
  const modules = (result?.outputFiles ?? []).map((output) => {
    const file = byOutput.get(output.path);
    // An entry keeps its source's URL, so `import.meta.url` names the declaration file.
    const url = pathToFileURL(file === undefined ? output.path : path.join(realRoot, file)).href;
    if (file !== undefined) entries.set(file, url);
    return { url, source: output.text };
  });
  const inputs = Object.keys(result?.metafile?.inputs ?? {})
    .filter((file) => !file.includes(':'))
    .map((file) => path.relative(realRoot, path.resolve(realRoot, file)).split(path.sep).join('/'));
  return { modules, entries, failures, inputs: inputs.sort() };
}
