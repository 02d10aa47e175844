/**
 * What the declaration loader (the parent) and its sandboxed child say to each
 * other. The child starts as a small bootstrap (while the parent compiles);
 * the parent then sends `{ program, input }` on its stdin: the bootstrap hands
 * the {@link SandboxInput} to the program (the child proper) through a global
 * the program deletes before any declaration runs, and imports it. The child
 * answers on file descriptor 3, one line per message:
 * `<nonce> <JSON of a SandboxMessage>`. Declaration code never sees the nonce,
 * so it cannot write a line the parent accepts. Plain types and constants
 * only: the child bundles this file.
 */

/** The only package a declaration may import: the declaration language of the running compiler. */
export const LANGUAGE_SPECIFIER = 'llmops-gitops';

/** Node built-ins a declaration may import (with or without `node:`); reading is still limited to the declaration folders. */
export const ALLOWED_BUILTINS: readonly string[] = ['fs', 'fs/promises', 'path', 'url', 'crypto', 'util'];

/** Why an import was refused, in one wording for the compiler (static imports) and the child (dynamic ones). */
export function importRefused(got: string): string {
  return `imports may reach the repository, ${LANGUAGE_SPECIFIER} and node:${ALLOWED_BUILTINS.join(', node:')} only (got ${got})`;
}

/** Where the bootstrap leaves the input for the program. */
export const INPUT_KEY = 'llmops.sandbox.input';

/** File descriptor of the result channel in the child. */
export const RESULT_FD = 3;

/** The `define…` function of each declaration folder, for messages. */
export const DEFINE_FUNCTIONS = { models: 'defineModel', prompts: 'definePrompt', environments: 'defineEnvironment', policies: 'definePolicy' } as const;

/** One compiled module: a `file:` URL and its JavaScript. */
export interface SandboxModule {
  readonly url: string;
  readonly source: string;
}

/** Everything the child needs, sent on its stdin: it reads no code from disk. */
export interface SandboxInput {
  /** Prefix of every result line; unknown to declaration code. */
  readonly nonce: string;
  /** The declaration language, bundled (what `import … from 'llmops-gitops'` gives). */
  readonly language: SandboxModule;
  /** The declarations and the repository modules they import, bundled (entries and shared chunks). */
  readonly modules: readonly SandboxModule[];
  /** Declaration files to evaluate, in order: the file relative to the fleet root and its module URL. */
  readonly entries: readonly { readonly file: string; readonly url: string }[];
}

/** A problem at a field path of a declaration (empty path: the whole file). */
export interface SandboxIssue {
  readonly path: string;
  readonly message: string;
}

/** The child's answers, in order: `start` and one outcome per entry, then `done`. */
export type SandboxMessage =
  | { readonly t: 'start'; readonly file: string }
  /** The default export as plain data; `value` absent: the file has no default export. */
  | { readonly t: 'value'; readonly file: string; readonly value?: unknown }
  /** Problems the file's own code reported (a `define…` call) or the sandbox found (a Promise, a function, a denied read). */
  | { readonly t: 'issues'; readonly file: string; readonly issues: readonly SandboxIssue[] }
  | { readonly t: 'done' };
