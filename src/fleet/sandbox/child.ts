/**
 * The sandboxed child of the declaration loader (bundled by the parent and
 * imported by the bootstrap of run.ts, under Node's permission model, with an
 * empty environment). It takes its input from the bootstrap, evaluates each
 * declaration as a `vm` module linked only to the declaration language, the
 * repository's own modules and a few built-ins, and reports each default
 * export as plain data on the result channel. It reads no code from disk.
 *
 * Everything the reporting needs is captured before the first declaration
 * runs, so declaration code cannot reach the nonce or the channel's writer.
 */
import { Buffer } from 'node:buffer';
import * as fs from 'node:fs';
import * as fsPromises from 'node:fs/promises';
import * as nodePath from 'node:path';
import * as nodeUrl from 'node:url';
import * as nodeCrypto from 'node:crypto';
import * as nodeUtil from 'node:util';
import vm from 'node:vm';
import { ALLOWED_BUILTINS, DEFINE_FUNCTIONS, importRefused, INPUT_KEY, LANGUAGE_SPECIFIER, RESULT_FD, type SandboxInput, type SandboxIssue, type SandboxMessage } from './protocol.ts';

const writeSync = fs.writeSync;
const stringify = JSON.stringify;
const toBytes = Buffer.from.bind(Buffer);

/** What the current declaration tried and was not allowed (reported even when its code caught the error). */
const violations: string[] = [];

class SandboxViolation extends Error {
  override readonly name = 'SandboxViolation';
}

function deny(what: string): never {
  violations.push(what);
  throw new SandboxViolation(`declarations may not ${what}`);
}

/** An ERR_ACCESS_DENIED from Node's permission model, in words. */
function describeDenied(error: { permission?: string; resource?: string }): string {
  if (error.permission === 'FileSystemRead') return `read ${error.resource} (declarations may read files under models/, prompts/, environments/ and policies/ only)`;
  if (error.permission === 'FileSystemWrite') return `write ${error.resource} (declarations write no files)`;
  if (error.permission === 'ChildProcess') return 'start a process';
  if (error.permission === 'WorkerThreads') return 'start a thread';
  return `use ${error.permission ?? 'a restricted API'}`;
}

function noteDenied(error: unknown): void {
  if ((error as { code?: string })?.code === 'ERR_ACCESS_DENIED') violations.push(describeDenied(error as { permission?: string; resource?: string }));
}

/** Wraps a function so that a permission error is noted before it reaches the declaration (which might catch it). */
function watched<F extends object>(fn: F): F {
  const observe = (call: () => unknown) => {
    try {
      const result = call();
      return result instanceof Promise
        ? result.catch((error: unknown) => {
            noteDenied(error);
            return Promise.reject(error);
          })
        : result;
    } catch (error) {
      noteDenied(error);
      throw error;
    }
  };
  return new Proxy(fn, {
    apply: (target, self, args) => observe(() => Reflect.apply(target as () => unknown, self, args)),
    construct: (target, args, newTarget) => observe(() => Reflect.construct(target as new () => object, args, newTarget)) as object,
  });
}

/** A file-system module whose functions (and `promises`) are watched. */
function watchedFs(namespace: object): Record<string, unknown> {
  const wrap = (value: unknown): unknown => {
    if (typeof value === 'function') return watched(value);
    if (value && typeof value === 'object')
      return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, typeof inner === 'function' ? watched(inner) : key === 'promises' ? wrap(inner) : inner]));
    return value;
  };
  return Object.fromEntries(Object.entries(namespace).map(([key, value]) => [key, wrap(value)]));
}

const BUILTINS: Record<string, Record<string, unknown>> = {
  fs: watchedFs(fs),
  'fs/promises': watchedFs(fsPromises),
  path: { ...nodePath },
  url: { ...nodeUrl },
  crypto: { ...nodeCrypto },
  util: { ...nodeUtil },
};

const inputKey = Symbol.for(INPUT_KEY);
const input = (globalThis as Record<symbol, unknown>)[inputKey] as SandboxInput;
delete (globalThis as Record<symbol, unknown>)[inputKey];
const nonce = input.nonce;

function send(message: SandboxMessage): void {
  const bytes = toBytes(`${nonce} ${stringify(message)}\n`);
  for (let offset = 0; offset < bytes.length; ) offset += writeSync(RESULT_FD, bytes, offset);
}

const sources = new Map(input.modules.map((module) => [module.url, module.source]));
const modules = new Map<string, vm.Module>();

function sourceModule(url: string, source: string): vm.Module {
  let module = modules.get(url);
  if (!module) {
    module = new vm.SourceTextModule(source, {
      identifier: url,
      initializeImportMeta: (meta) => void (meta.url = url),
      importModuleDynamically: dynamicImport as never,
    });
    modules.set(url, module);
  }
  return module;
}

function builtinModule(name: string): vm.Module {
  const key = `node:${name}`;
  let module = modules.get(key);
  if (!module) {
    const namespace = BUILTINS[name]!;
    module = new vm.SyntheticModule(
      Object.keys(namespace),
      function (this: vm.SyntheticModule) {
        for (const [exported, value] of Object.entries(namespace)) this.setExport(exported, value);
      },
      { identifier: key },
    );
    modules.set(key, module);
  }
  return module;
}

/** Imports resolve to the declaration language, an allowed built-in, or a module of the repository the parent bundled. */
function resolve(specifier: string, referrer: vm.Module): vm.Module {
  if (specifier === LANGUAGE_SPECIFIER) return sourceModule(input.language.url, input.language.source);
  const builtin = specifier.replace(/^node:/, '');
  if (ALLOWED_BUILTINS.includes(builtin)) return builtinModule(builtin);
  if (/^(\.{1,2}\/|\/|file:)/.test(specifier)) {
    const url = new URL(specifier, referrer.identifier).href;
    const source = sources.get(url);
    if (source !== undefined) return sourceModule(url, source);
  }
  throw new Error(importRefused(stringify(specifier)));
}

async function ready(module: vm.Module): Promise<vm.Module> {
  if (module.status === 'unlinked') await module.link(resolve);
  if (module.status !== 'evaluated') await module.evaluate();
  return module;
}

async function dynamicImport(specifier: string, referrer: vm.Module): Promise<vm.Module> {
  return ready(resolve(specifier, referrer));
}

/** Joins a path the way users write it: `deployments.llama.gpu.count`, `nodePools[0].name`. */
const join = (path: string, key: string | number) => (typeof key === 'number' ? `${path}[${key}]` : path === '' ? key : `${path}.${key}`);

const MAX_DEPTH = 64;

/** The default export as plain data (objects, lists, strings, numbers, booleans, null), or the problems that stop it being so. */
function plain(value: unknown, path: string, seen: Set<object>, issues: SandboxIssue[]): unknown {
  const wrong = (what: string) => void issues.push({ path, message: `expected plain data: objects, lists, strings, numbers and booleans (got ${what})` });
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : wrong(String(value));
  if (typeof value !== 'object') return wrong(typeof value === 'function' ? 'a function' : `a ${typeof value}`);
  if (typeof (value as { then?: unknown }).then === 'function') return wrong('a Promise');
  if (seen.has(value)) return wrong('a value that contains itself');
  if (seen.size >= MAX_DEPTH) return wrong(`more than ${MAX_DEPTH} levels of nesting`);
  seen.add(value);
  try {
    if (Array.isArray(value)) return value.map((item, index) => plain(item, join(path, index), seen, issues));
    const prototype = Object.getPrototypeOf(value);
    if (prototype !== Object.prototype && prototype !== null) return wrong(`a ${(value as object).constructor?.name ?? 'class instance'}`);
    const result: Record<string, unknown> = Object.create(null);
    for (const key of Object.keys(value)) {
      let item: unknown;
      try {
        item = (value as Record<string, unknown>)[key];
      } catch (error) {
        issues.push({ path: join(path, key), message: `could not be read: its getter threw ${stringify(String((error as Error)?.message ?? error))}` });
        continue;
      }
      if (item !== undefined) result[key] = plain(item, join(path, key), seen, issues);
    }
    return result;
  } finally {
    seen.delete(value);
  }
}

/** The outcome of a declaration whose module evaluated. */
function outcomeOf(file: string, namespace: Record<string, unknown>): SandboxMessage {
  if (!('default' in namespace)) return { t: 'value', file };
  const declared = namespace.default;
  const define = DEFINE_FUNCTIONS[file.split('/')[0] as keyof typeof DEFINE_FUNCTIONS] ?? 'define…';
  if (declared !== null && typeof declared === 'object' && typeof (declared as { then?: unknown }).then === 'function') {
    return {
      t: 'issues',
      file,
      issues: [{ path: '', message: `expected the declaration itself: export default ${define}({ … }) (got a Promise); remove Promise.resolve, or await the value before exporting it` }],
    };
  }
  const issues: SandboxIssue[] = [];
  const value = plain(declared, '', new Set(), issues);
  return issues.length > 0 ? { t: 'issues', file, issues } : { t: 'value', file, value };
}

/** The problems an error thrown while loading stands for. */
function issuesOf(error: unknown): SandboxIssue[] {
  const { name, issues, message } = (error ?? {}) as { name?: string; issues?: unknown; message?: unknown };
  if (name === 'DeclarationError' && Array.isArray(issues))
    return issues.map((issue: { path?: unknown; message?: unknown }) => ({ path: String(issue?.path ?? ''), message: String(issue?.message ?? '') }));
  const text = typeof message === 'string' ? message : String(error);
  return [
    {
      path: '',
      message: `could not be loaded: ${text
        .split('\n')
        .filter((line) => line.trim() !== '')
        .slice(0, 3)
        .join(' ')
        .trim()}`,
    },
  ];
}

// From here on, declaration code runs: no environment to read, no way to end the process.
const emptyEnvironment = new Proxy(Object.create(null) as Record<string, string>, {
  get: (_, key) => (typeof key === 'symbol' ? undefined : deny(`read the environment variable ${key} (declarations run without environment variables: no tokens, no secrets)`)),
  has: (_, key) => (typeof key === 'symbol' ? false : deny(`read the environment variable ${key} (declarations run without environment variables: no tokens, no secrets)`)),
  ownKeys: () => deny('list the environment variables (declarations run without environment variables: no tokens, no secrets)'),
  set: (_, key) => deny(`set the environment variable ${String(key)}`),
  deleteProperty: (_, key) => deny(`unset the environment variable ${String(key)}`),
});
process.env = emptyEnvironment;
for (const name of ['exit', 'reallyExit', 'abort', 'kill'] as const) {
  Object.defineProperty(process, name, { value: () => deny(`call process.${name} (a declaration only declares)`), writable: false, configurable: false });
}

for (const entry of input.entries) {
  send({ t: 'start', file: entry.file });
  violations.length = 0;
  let outcome: SandboxMessage;
  try {
    const module = await ready(sourceModule(entry.url, sources.get(entry.url) ?? ''));
    outcome = outcomeOf(entry.file, module.namespace as Record<string, unknown>);
  } catch (error) {
    outcome = { t: 'issues', file: entry.file, issues: issuesOf(error) };
  }
  if (violations.length > 0) outcome = { t: 'issues', file: entry.file, issues: [...new Set(violations)].map((what) => ({ path: '', message: `tried to ${what}` })) };
  send(outcome);
}
send({ t: 'done' });
