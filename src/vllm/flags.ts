/**
 * vLLM engine arguments as command-line flags and back. The synthesizer renders
 * them; the simulator parses a rendered container's arguments with the same
 * schema, so what it runs is exactly what the manifest says.
 */
import { z } from 'zod';
import { EngineArgs } from './engine-args.ts';

/** `--name value` for every argument, sorted by name; booleans as `--name` / `--no-name`. */
export function renderFlags(flags: Readonly<Record<string, string | number | boolean | undefined>>): string[] {
  const args: string[] = [];
  for (const name of Object.keys(flags).sort()) {
    const value = flags[name];
    if (value === undefined) continue;
    if (value === true) args.push(`--${name}`);
    else if (value === false) args.push(`--no-${name}`);
    else args.push(`--${name}`, String(value));
  }
  return args;
}

/** Flags from a command line: `--name value`, a bare `--name` (true) or `--no-name` (false); positional arguments are skipped. */
export function parseFlags(args: readonly string[]): Record<string, string | boolean> {
  const flags: Record<string, string | boolean> = {};
  for (let index = 0; index < args.length; index += 1) {
    const arg = args[index];
    if (!arg.startsWith('--')) continue;
    const next = args[index + 1];
    if (next !== undefined && !next.startsWith('--')) {
      flags[arg.slice(2)] = next;
      index += 1;
    } else if (arg.startsWith('--no-')) flags[arg.slice(5)] = false;
    else flags[arg.slice(2)] = true;
  }
  return flags;
}

/** The engine arguments of parsed flags, typed by the one schema the declarations use; other flags are ignored. */
export function engineArgsFromFlags(flags: Readonly<Record<string, string | boolean>>): EngineArgs {
  const numeric = new Set(['max-num-seqs', 'max-num-batched-tokens', 'gpu-memory-utilization', 'tensor-parallel-size', 'max-model-len']);
  const known = Object.fromEntries(
    Object.entries(flags)
      .filter(([name]) => name in EngineArgs.shape)
      .map(([name, value]) => [name, numeric.has(name) && typeof value === 'string' ? Number(value) : value]),
  );
  const parsed = EngineArgs.safeParse(known);
  if (!parsed.success) throw new Error(`vLLM flags do not match the engine-argument schema: ${z.prettifyError(parsed.error).replace(/\n/g, ' ')}`);
  return parsed.data;
}
