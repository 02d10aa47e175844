/** What synthesis produces, and how it fails. */

/** One file of `generated/`: a path relative to it (POSIX separators) and its full text. */
export interface OutputFile {
  readonly path: string;
  readonly content: string;
}

/** Synthesis failed on a valid fleet: a bug or an unsupported combination, never a half-written tree. */
export class SynthesisError extends Error {
  override readonly name = 'SynthesisError';
}

/** The files as one tree, sorted by path; two files of one path are a bug and fail loudly. */
export function treeOf(files: Iterable<OutputFile>): Map<string, string> {
  const tree = new Map<string, string>();
  for (const file of files) {
    if (tree.has(file.path)) throw new SynthesisError(`two steps wrote ${file.path}`);
    tree.set(file.path, file.content);
  }
  return new Map([...tree].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
