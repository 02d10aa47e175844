/**
 * Runs compiled declarations in a child process: Node's permission model
 * (read access to the declaration folders only; no writes, processes,
 * threads or native add-ons), an empty environment, a heap limit and a time
 * limit, and a strict result protocol. A child that exits, hangs, runs out of
 * memory, never settles or writes a line the protocol does not allow is an
 * error naming the declaration it was loading; the remaining files are then
 * loaded in a new child, so every problem is still reported at once.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { z } from 'zod';
import type { SandboxRuntime } from './compile.ts';
import { INPUT_KEY, type SandboxInput, type SandboxIssue, type SandboxModule } from './protocol.ts';

/** Limits of one load. */
export interface SandboxLimits {
  /** Wall-clock time for evaluating every declaration, milliseconds. Default: 30,000 (`LLMOPS_LOAD_TIMEOUT_SECONDS`). */
  readonly timeoutMs: number;
  /** V8 heap of the child, MiB. Default: 512 (`LLMOPS_LOAD_MEMORY_MIB`). */
  readonly memoryMiB: number;
}

/** What one declaration file gave: its default export as plain data (absent: none), or problems. */
export type FileOutcome = { readonly kind: 'value'; readonly value?: unknown } | { readonly kind: 'issues'; readonly issues: readonly SandboxIssue[] };

const Issue = z.strictObject({ path: z.string(), message: z.string() });
const Message = z.discriminatedUnion('t', [
  z.strictObject({ t: z.literal('start'), file: z.string() }),
  z.strictObject({ t: z.literal('value'), file: z.string(), value: z.unknown().optional() }),
  z.strictObject({ t: z.literal('issues'), file: z.string(), issues: z.array(Issue).min(1) }),
  z.strictObject({ t: z.literal('done') }),
]);

/** Node flags of the child: the permission model (`--permission` from Node 22.13 and 23.5), read access, vm modules, the heap limit. */
export function childFlags(readable: readonly string[], memoryMiB: number): string[] {
  const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
  const stablePermission = major >= 24 || (major === 23 && minor >= 5) || (major === 22 && minor >= 13);
  return [
    stablePermission ? '--permission' : '--experimental-permission',
    ...readable.map((folder) => `--allow-fs-read=${folder}`),
    '--experimental-vm-modules',
    `--max-old-space-size=${memoryMiB}`,
    '--no-warnings',
  ];
}

/**
 * What the child runs first, before the parent has compiled anything (Node
 * starts while esbuild works): read `{ program, input }` from stdin, leave the
 * input where the program takes it, import the program. No file is read.
 */
const BOOTSTRAP = `const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const { program, input } = JSON.parse(Buffer.concat(chunks).toString('utf8'));
globalThis[Symbol.for(${JSON.stringify(INPUT_KEY)})] = input;
await import('data:text/javascript;base64,' + Buffer.from(program).toString('base64'));`;

/** A child started with the bootstrap, waiting for its program and input. */
export interface StartedChild {
  readonly process: ChildProcess;
  readonly output: ReturnType<typeof outputTail>;
  /** Settles once the child has exited and its output is read to the end. */
  readonly closed: Promise<{ readonly code: number | null; readonly signal: NodeJS.Signals | null }>;
}

/** Starts a child: the permission model, read access to `readable`, an empty environment, the heap limit. */
export function startChild(root: string, readable: readonly string[], memoryMiB: number): StartedChild {
  const child = spawn(process.execPath, [...childFlags(readable, memoryMiB), '--input-type=module', '-e', BOOTSTRAP], {
    cwd: root,
    env: {},
    stdio: ['pipe', 'pipe', 'pipe', 'pipe'],
  });
  const output = outputTail();
  child.stdout!.on('data', output.add);
  child.stderr!.on('data', output.add);
  child.stdin!.on('error', () => {});
  const closed = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
  return { process: child, output, closed };
}

/** Keeps the last few KiB of what the child printed, for the error message when it dies. */
function outputTail(limit = 8192) {
  let text = '';
  return {
    add: (chunk: Buffer) => void (text = (text + chunk.toString('utf8')).slice(-limit)),
    /** The last line that says what went wrong (not a stack frame or Node's version banner). */
    lastError: () =>
      text
        .split('\n')
        .map((line) => line.trim())
        .filter((line) => line !== '' && !line.startsWith('at ') && !/^Node\.js v/.test(line) && !/^\^+$/.test(line))
        .pop() ?? '',
    text: () => text,
  };
}

interface Stop {
  readonly file: string;
  readonly message: string;
  readonly timedOut?: boolean;
}

interface ChildRun {
  readonly outcomes: Map<string, FileOutcome>;
  /** The child stopped before its last answer, while loading (or right after) this file. */
  readonly stop?: Stop;
}

interface ChildOptions {
  readonly memoryMiB: number;
  readonly timeoutMs: number;
  /** The configured time limit, for the message (the child may get less when an earlier child used some). */
  readonly limitSeconds: number;
}

function runChild(started: StartedChild, runtime: SandboxRuntime, modules: readonly SandboxModule[], entries: readonly { file: string; url: string }[], options: ChildOptions): Promise<ChildRun> {
  const nonce = randomBytes(24).toString('hex');
  const input: SandboxInput = { nonce, language: runtime.language, modules, entries };
  const { process: child, output } = started;
  child.stdin!.end(JSON.stringify({ program: runtime.child, input }));

  const outcomes = new Map<string, FileOutcome>();
  let next = 0;
  let loading: string | undefined;
  let lastStarted: string | undefined;
  let finished = false;

  return new Promise<ChildRun>((resolve, reject) => {
    const finish = (stop?: Omit<Stop, 'file'>) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      child.kill('SIGKILL');
      const file = loading ?? lastStarted;
      if (stop && file === undefined) reject(new Error(`the declaration loader failed before loading any declaration: ${output.text().trim() || stop.message}`));
      else resolve({ outcomes, stop: stop && { file: file!, ...stop } });
    };
    const violation = (what: string) => finish({ message: `broke the loader's result protocol (${what}): declaration code may not write to the loader's result channel` });
    const timer = setTimeout(
      () => finish({ message: `did not finish loading within ${options.limitSeconds} s (an endless loop, or a wait that never ends?); the limit is LLMOPS_LOAD_TIMEOUT_SECONDS`, timedOut: true }),
      Math.max(0, options.timeoutMs),
    );

    createInterface({ input: child.stdio[3] as Readable }).on('line', (line) => {
      if (finished) return;
      const space = line.indexOf(' ');
      if (space < 0 || line.slice(0, space) !== nonce) return violation('a line without the nonce');
      let parsed;
      try {
        parsed = Message.safeParse(JSON.parse(line.slice(space + 1)));
      } catch {
        return violation('a line that is not JSON');
      }
      if (!parsed.success) return violation('a message of the wrong shape');
      const message = parsed.data;
      if (message.t === 'start') {
        if (loading !== undefined || message.file !== entries[next]?.file) return violation(`an unexpected start of ${message.file}`);
        loading = lastStarted = message.file;
      } else if (message.t === 'done') {
        if (loading !== undefined || next !== entries.length) return violation('done before every declaration was loaded');
        finish();
      } else {
        if (message.file !== loading) return violation(`an answer for ${message.file}`);
        outcomes.set(loading, message.t === 'value' ? { kind: 'value', ...('value' in message ? { value: message.value } : {}) } : { kind: 'issues', issues: message.issues });
        loading = undefined;
        next += 1;
      }
    });

    void started.closed.then(({ code, signal }) => {
      if (finished) return;
      const said = output.lastError();
      if (/heap out of memory|Reached heap limit/i.test(output.text())) finish({ message: `ran out of memory while loading: the loader allows ${options.memoryMiB} MiB (LLMOPS_LOAD_MEMORY_MIB)` });
      else if (code === 13) finish({ message: 'never finished loading: a top-level await waits for something that never happens' });
      else finish({ message: `stopped the loader (${signal ?? `exit code ${code}`}) before its declaration was read${said ? `: ${said}` : ''}` });
    });
  });
}

/**
 * Evaluates every entry (in order) and returns each file's outcome, starting
 * with `first` (a child started early). When a child stops on a file, that
 * file gets the error and a new child loads the files after it, within what
 * is left of the time limit.
 */
export async function evaluateInChildren(
  first: StartedChild,
  runtime: SandboxRuntime,
  compiled: { readonly modules: readonly SandboxModule[]; readonly entries: readonly { file: string; url: string }[] },
  options: { readonly root: string; readonly readable: readonly string[]; readonly limits: SandboxLimits },
): Promise<Map<string, FileOutcome>> {
  const outcomes = new Map<string, FileOutcome>();
  const deadline = Date.now() + options.limits.timeoutMs;
  const limitSeconds = Math.round(options.limits.timeoutMs / 100) / 10;
  let pending = compiled.entries;
  let next: StartedChild | undefined = first;
  if (pending.length === 0) first.process.kill('SIGKILL');
  while (pending.length > 0) {
    const started: StartedChild = next ?? startChild(options.root, options.readable, options.limits.memoryMiB);
    next = undefined;
    const run = await runChild(started, runtime, compiled.modules, pending, { memoryMiB: options.limits.memoryMiB, timeoutMs: deadline - Date.now(), limitSeconds });
    for (const [file, outcome] of run.outcomes) outcomes.set(file, outcome);
    if (!run.stop) break;
    outcomes.set(run.stop.file, { kind: 'issues', issues: [{ path: '', message: run.stop.message }] });
    pending = pending.slice(pending.findIndex((entry) => entry.file === run.stop!.file) + 1);
    if (run.stop.timedOut || Date.now() >= deadline) {
      for (const { file } of pending) outcomes.set(file, { kind: 'issues', issues: [{ path: '', message: `not checked: ${run.stop.file} used up the loader's ${limitSeconds} s` }] });
      break;
    }
  }
  return outcomes;
}
