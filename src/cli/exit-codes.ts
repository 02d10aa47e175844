/** Exit codes of `llmops` (documented in the README). */
export const ExitCode = {
  /** Done; for `synth --check`: generated/ is up to date. */
  ok: 0,
  /** The declarations are invalid, or `synth --check` found generated/ stale. */
  invalid: 1,
  /** Bad command line: unknown command, option or environment. */
  usage: 2,
  /** A step failed on a valid fleet (a bug or an I/O error); generated/ is untouched. */
  failure: 3,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];
