/**
 * Declarations are code, and code from a pull request must not fool CI or
 * reach secrets. They are compiled here (the import rule checked), then
 * evaluated in a child process that has no environment, may read only the
 * declaration folders, may not write, start processes or threads, and is held
 * to a time and a memory limit. What comes back is plain data that the loader
 * validates again with zod; nothing a declaration does can make an invalid
 * fleet pass.
 */
import { realpath } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { DeclarationIssue } from '../../declarations/issues.ts';
import { compileDeclarations, sandboxRuntime } from './compile.ts';
import { readableFolders } from './readable.ts';
import { evaluateInChildren, startChild, type FileOutcome, type SandboxLimits } from './run.ts';

export type { FileOutcome, SandboxLimits } from './run.ts';

const DEFAULT_TIMEOUT_SECONDS = 30;
const DEFAULT_MEMORY_MIB = 512;

/** The limits, from `LLMOPS_LOAD_TIMEOUT_SECONDS` and `LLMOPS_LOAD_MEMORY_MIB` when set. */
export function limitsFromEnvironment(environment: NodeJS.ProcessEnv = process.env): SandboxLimits | DeclarationIssue {
  const read = (name: string, fallback: number, unit: string) => {
    const text = environment[name];
    if (text === undefined || text === '') return fallback;
    const value = Number(text);
    return Number.isFinite(value) && value > 0 ? value : `${name}: expected a positive number of ${unit} (got ${JSON.stringify(text)})`;
  };
  const seconds = read('LLMOPS_LOAD_TIMEOUT_SECONDS', DEFAULT_TIMEOUT_SECONDS, 'seconds');
  const memory = read('LLMOPS_LOAD_MEMORY_MIB', DEFAULT_MEMORY_MIB, 'MiB');
  if (typeof seconds === 'string' || typeof memory === 'string') return { file: '', path: '', message: [seconds, memory].filter((part) => typeof part === 'string').join('; ') };
  return { timeoutMs: seconds * 1000, memoryMiB: Math.round(memory) };
}

/** Removes the fleet root from a message, so users read `models/a.ts`, not a machine's path. */
function relativeTo(roots: readonly string[], text: string): string {
  return roots.reduce(
    (result, root) =>
      result
        .split(`${pathToFileURL(root).href}/`)
        .join('')
        .split(`${root}${path.sep}`)
        .join(''),
    text,
  );
}

/**
 * Loads declaration files (relative to `root`, in order) in the sandbox and
 * returns each file's outcome; `issues` are problems that stop the load as a
 * whole (a symbolic link out of the repository, a bad limit).
 */
export async function loadInSandbox(
  root: string,
  files: readonly string[],
  folders: readonly string[],
  limits: SandboxLimits | DeclarationIssue = limitsFromEnvironment(),
): Promise<{ outcomes: Map<string, FileOutcome>; issues: DeclarationIssue[]; inputs: readonly string[] }> {
  if ('message' in limits) return { outcomes: new Map(), issues: [limits], inputs: [] };
  const readable = await readableFolders(root, folders);
  if (readable.issues.length > 0) return { outcomes: new Map(), issues: readable.issues, inputs: [] };

  // The child's Node starts while esbuild compiles.
  const first = startChild(root, readable.folders, limits.memoryMiB);
  let runtime, compiled;
  try {
    [runtime, compiled] = await Promise.all([sandboxRuntime(), compileDeclarations(root, files)]);
  } catch (error) {
    first.process.kill('SIGKILL');
    throw error;
  }
  const entries = files.filter((file) => compiled.entries.has(file)).map((file) => ({ file, url: compiled.entries.get(file)! }));
  const evaluated = await evaluateInChildren(first, runtime, { modules: compiled.modules, entries }, { root, readable: readable.folders, limits });

  const roots = [...new Set([root, await realpath(root)])];
  const outcomes = new Map<string, FileOutcome>();
  for (const file of files) {
    const failure = compiled.failures.get(file);
    const outcome: FileOutcome = failure !== undefined ? { kind: 'issues', issues: [{ path: '', message: `could not be loaded: ${failure}` }] } : evaluated.get(file)!;
    outcomes.set(file, outcome.kind === 'issues' ? { kind: 'issues', issues: outcome.issues.map((issue) => ({ path: issue.path, message: relativeTo(roots, issue.message) })) } : outcome);
  }
  return { outcomes, issues: [], inputs: compiled.inputs };
}
