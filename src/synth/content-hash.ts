/** Content hashes of generated files (the synth cache and the no-op check compare them). */
import { createHash } from 'node:crypto';

/** SHA-256 of a file's content, hex. */
export const sha256 = (content: string | Buffer) => createHash('sha256').update(content).digest('hex');

/** Relative POSIX path → SHA-256 of the content. */
export type FileHashes = Record<string, string>;
