import type { Fleet } from '../fleet/fleet.ts';

/** One file of `generated/`: a path relative to it (POSIX separators) and its full text. */
export interface OutputFile {
  readonly path: string;
  readonly content: string;
}

/**
 * One output kind (kubernetes, helm, terraform, argocd). A synthesizer is pure:
 * the same fleet gives the same files, and it writes nothing itself.
 */
export interface Synthesizer {
  /** Short name, shown when the step fails. */
  readonly name: string;
  /**
   * Files for the whole fleet. `earlier` holds what the steps before this one
   * produced, for steps that repackage another's output (Helm from Kubernetes).
   */
  synthesize(fleet: Fleet, earlier: ReadonlyMap<string, string>): OutputFile[];
}

/** A synthesizer failed on a valid fleet: a bug or an unsupported combination, never a half-written tree. */
export class SynthesisError extends Error {
  override readonly name = 'SynthesisError';
}

/**
 * Runs every step in order and returns the whole tree, sorted by path. Two steps
 * writing one path is a bug and fails loudly.
 */
export function synthesizeFleet(fleet: Fleet, steps: readonly Synthesizer[]): Map<string, string> {
  const tree = new Map<string, string>();
  for (const step of steps) {
    let files: OutputFile[];
    try {
      files = step.synthesize(fleet, tree);
    } catch (error) {
      throw new SynthesisError(`the ${step.name} step failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
    for (const file of files) {
      if (tree.has(file.path)) throw new SynthesisError(`the ${step.name} step wrote ${file.path}, which an earlier step already wrote`);
      tree.set(file.path, file.content);
    }
  }
  return new Map([...tree.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
