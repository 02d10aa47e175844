/**
 * A fast path for the YAML synth writes: block maps and sequences of plain
 * data, written directly, with the same bytes as the `yaml` library's
 * `stringify(document, { lineWidth: 0, aliasDuplicateObjects: false })`.
 * Building a `yaml` Document node by node was a third of synthesis time
 * (BENCHMARKS.md, issue 17). Scalars take the library's own representation,
 * computed once per distinct value, except the common ones whose plain form
 * is certain; a document holding anything else — a string the library writes
 * on several lines (a block scalar, whose form depends on its indentation), a
 * key that is not a simple word, a value that is not plain data — is handed
 * to the library whole. yaml-emitter.test.ts holds the two to the same bytes
 * on every document synth makes.
 */
import { stringify } from 'yaml';

const OPTIONS = { lineWidth: 0, aliasDuplicateObjects: false } as const;

/** The library's YAML, for documents the fast path does not take. */
export const libraryYaml = (document: unknown) => stringify(document, OPTIONS);

/**
 * Strings the library certainly writes plain, as they are: a letter first,
 * then letters, digits and `-_./`, a colon not followed by a space nor last
 * (images, URLs), single inner spaces; not one of the core schema's words
 * for true, false and null.
 */
const CERTAINLY_PLAIN = /^[A-Za-z](?:[A-Za-z0-9_./-]|:(?=[^ ]))*(?: (?:[A-Za-z0-9_./-]|:(?=[^ ]))+)*$/;
const RESERVED = new Set(['true', 'True', 'TRUE', 'false', 'False', 'FALSE', 'null', 'Null', 'NULL']);

/** The library's single-line representation of scalars, by value. */
const scalars = new Map<unknown, string | null>();

class NotFast extends Error {}

function scalar(value: string | number | boolean | null): string {
  if (typeof value === 'string' && CERTAINLY_PLAIN.test(value) && !RESERVED.has(value)) return value;
  if (typeof value === 'number' && Number.isSafeInteger(value) && !Object.is(value, -0)) return String(value);
  let text = scalars.get(value);
  if (text === undefined) {
    const written = stringify(value, OPTIONS);
    // One line and its newline, else a block scalar whose form depends on where it stands.
    text = written.indexOf('\n') === written.length - 1 ? written.slice(0, -1) : null;
    scalars.set(value, text);
  }
  if (text === null) throw new NotFast();
  return text;
}

function key(name: string): string {
  if (CERTAINLY_PLAIN.test(name) && !RESERVED.has(name) && !name.includes(' ') && !name.includes(':')) return name;
  throw new NotFast();
}

const isPlainObject = (value: object) => Object.getPrototypeOf(value) === Object.prototype || Object.getPrototypeOf(value) === null;

/** `value` after `prefix` (`key:` or `-`), as the library's block style writes it, at `indent` spaces. */
function node(out: string[], prefix: string, value: unknown, indent: string): void {
  if (value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
    out.push(`${prefix} ${scalar(value)}\n`);
    return;
  }
  if (typeof value !== 'object') throw new NotFast();
  if (Array.isArray(value)) {
    if (value.length === 0) return void out.push(`${prefix} []\n`);
    if (prefix.endsWith(':')) out.push(`${prefix}\n`);
    const inner = prefix.endsWith(':') ? `${indent}  ` : indent;
    sequence(out, value, inner, prefix.endsWith(':') ? undefined : prefix);
    return;
  }
  if (!isPlainObject(value)) throw new NotFast();
  const entries = Object.entries(value).filter(([, member]) => member !== undefined);
  if (entries.length === 0) return void out.push(`${prefix} {}\n`);
  if (prefix.endsWith(':')) {
    out.push(`${prefix}\n`);
    map(out, entries, `${indent}  `);
  } else map(out, entries, indent, prefix);
}

/** Items of a sequence at `indent`; the first item continues `lead` (`- ` of an enclosing item) when given. */
function sequence(out: string[], items: readonly unknown[], indent: string, lead?: string): void {
  items.forEach((item, index) => {
    if (item === undefined) throw new NotFast();
    const prefix = index === 0 && lead !== undefined ? `${lead} -` : `${indent}-`;
    node(out, prefix, item, `${indent}  `);
  });
}

/** Entries of a map at `indent`; the first continues `lead` (`- ` of an enclosing item) when given. */
function map(out: string[], entries: readonly [string, unknown][], indent: string, lead?: string): void {
  entries.forEach(([name, member], index) => {
    const prefix = index === 0 && lead !== undefined ? `${lead} ${key(name)}:` : `${indent}${key(name)}:`;
    node(out, prefix, member, indent);
  });
}

/** One YAML document (a top-level map), byte for byte as {@link libraryYaml} writes it. */
export function yamlDocument(document: unknown): string {
  if (document === null || typeof document !== 'object' || Array.isArray(document) || !isPlainObject(document)) return libraryYaml(document);
  const entries = Object.entries(document).filter(([, member]) => member !== undefined);
  if (entries.length === 0) return libraryYaml(document);
  const out: string[] = [];
  try {
    map(out, entries, '');
  } catch (error) {
    if (error instanceof NotFast) return libraryYaml(document);
    throw error;
  }
  return out.join('');
}
