/**
 * Turns validation problems into the one message format users see:
 * `path/to/file.ts: field.path: what was expected (got …)`.
 */
import { closest, distance } from 'fastest-levenshtein';
import type { z } from 'zod';

/** One problem in one declaration file. */
export interface DeclarationIssue {
  /** File relative to the fleet root (`environments/dev.ts`); empty for fleet-wide problems. */
  readonly file: string;
  /** Field path inside the declaration (`deployments.llama-3-1-8b.gpu.count`); empty for the whole file. */
  readonly path: string;
  /** What was expected and what was received. */
  readonly message: string;
}

/** Thrown by the `define…` functions; the loader reports its issues with the file name. */
export class DeclarationError extends Error {
  override readonly name = 'DeclarationError';

  constructor(
    readonly kind: string,
    readonly issues: readonly DeclarationIssue[],
  ) {
    super(`invalid ${kind} declaration:\n${issues.map((issue) => `  ${formatIssue(issue)}`).join('\n')}`);
  }
}

export function formatIssue(issue: DeclarationIssue): string {
  return [issue.file, issue.path, issue.message].filter((part) => part !== '').join(': ');
}

/** Renders a received value briefly: strings quoted, objects abridged. */
export function show(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
  if (Array.isArray(value)) return `a list of ${value.length}`;
  if (typeof value === 'object') return 'an object';
  return typeof value;
}

/**
 * Joins a zod path the way users write it: `deployments.llama.gpu.count`,
 * `nodePools[0].name`; a key with spaces, quotes or control characters is
 * quoted (`selectorLabels["a\nb"]`), so a message stays on one line.
 */
export function formatPath(path: readonly PropertyKey[]): string {
  return path
    .map((segment, index) => {
      if (typeof segment === 'number') return `[${segment}]`;
      const key = String(segment);
      if (/[^\x21-\x7e]|["'\\]/.test(key)) return `[${JSON.stringify(key)}]`;
      return `${index === 0 ? '' : '.'}${key}`;
    })
    .join('');
}

/** A close spelling among the candidates, or undefined when none is close enough. */
export function didYouMean(value: string, candidates: readonly string[]): string | undefined {
  if (candidates.length === 0) return undefined;
  const best = closest(value, candidates as string[]);
  return distance(value, best) <= Math.max(2, Math.floor(best.length / 3)) ? best : undefined;
}

export function suggestion(value: string, candidates: readonly string[]): string {
  const best = didYouMean(value, candidates);
  return best === undefined ? '' : ` (did you mean ${JSON.stringify(best)}?)`;
}

const EXPECTED_NAMES: Record<string, string> = {
  int: 'a whole number',
  number: 'a number',
  string: 'a string',
  boolean: 'true or false',
  object: 'an object',
  array: 'a list',
  record: 'an object',
};

type RawIssue = z.core.$ZodRawIssue;

function bound(issue: { minimum?: unknown; maximum?: unknown; inclusive?: boolean; origin?: string }, side: 'min' | 'max'): string {
  const value = Number(side === 'min' ? issue.minimum : issue.maximum);
  if (issue.origin === 'array') return side === 'min' ? `at least ${value} item(s)` : `at most ${value} item(s)`;
  if (issue.origin === 'string') return side === 'min' ? `at least ${value} character(s)` : `at most ${value} character(s)`;
  const op = side === 'min' ? (issue.inclusive ? '>=' : '>') : issue.inclusive ? '<=' : '<';
  return `a number ${op} ${value}`;
}

/** The value an issue is about: for a discriminated union, the discriminator's value rather than the whole object. */
function received(issue: RawIssue): unknown {
  const discriminator = (issue as { discriminator?: unknown }).discriminator;
  if (issue.code === 'invalid_union' && typeof discriminator === 'string' && issue.input !== null && typeof issue.input === 'object') {
    return (issue.input as Record<string, unknown>)[discriminator];
  }
  return issue.input;
}

/** What a raw zod issue expected, in words. */
function expectation(issue: RawIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      return EXPECTED_NAMES[issue.expected] ?? issue.expected;
    case 'too_small':
      return bound(issue, 'min');
    case 'too_big':
      return bound(issue, 'max');
    case 'invalid_value':
      return `one of ${issue.values.map((value) => JSON.stringify(value)).join(', ')}`;
    case 'not_multiple_of':
      return `a multiple of ${String(issue.divisor)}`;
    case 'invalid_union':
      return 'options' in issue && Array.isArray(issue.options) ? `one of ${issue.options.map((value: unknown) => JSON.stringify(value)).join(', ')}` : 'one of the allowed shapes';
    default:
      return issue.message ?? 'a valid value';
  }
}

/**
 * Validates `input` against `schema` and returns the value, or the issues in the
 * project's format (unknown fields one per line, with a did-you-mean).
 */
export function validate<S extends z.ZodType>(schema: S, input: unknown, file = ''): { ok: true; value: z.output<S> } | { ok: false; issues: DeclarationIssue[] } {
  const knownKeysByPath = new Map<string, string[]>();
  const result = schema.safeParse(input, {
    error: (issue) => {
      if (issue.code === 'unrecognized_keys') {
        knownKeysByPath.set(formatPath(issue.path ?? []), knownKeys(issue.inst));
        return 'unknown field';
      }
      // A record key that fails its own schema: that schema's message says what a key must be.
      if (issue.code === 'invalid_key' && issue.issues.length > 0) return issue.issues[0]!.message;
      if (issue.code === 'invalid_type' && issue.input === undefined) {
        return `required: expected ${expectation(issue)} (got nothing)`;
      }
      return `expected ${expectation(issue)} (got ${show(received(issue))})`;
    },
  });
  if (result.success) return { ok: true, value: result.data };

  const issues: DeclarationIssue[] = [];
  for (const issue of result.error.issues) {
    const path = formatPath(issue.path);
    if (issue.code === 'unrecognized_keys') {
      const known = knownKeysByPath.get(path) ?? [];
      for (const key of issue.keys) {
        issues.push({ file, path: path === '' ? key : `${path}.${key}`, message: `unknown field${suggestion(key, known)}` });
      }
    } else {
      issues.push({ file, path, message: issue.message });
    }
  }
  return { ok: false, issues };
}

/** The field names an object schema (or the keys a record's enum) accepts. */
function knownKeys(schema: unknown): string[] {
  const def = (schema as { _zod?: { def?: { type?: string; shape?: object; keyType?: { options?: unknown[] } } } })?._zod?.def;
  if (def?.type === 'object' && def.shape) return Object.keys(def.shape);
  if (def?.type === 'record' && Array.isArray(def.keyType?.options)) return def.keyType.options.map(String);
  return [];
}

/** A zod `error` option that words a failed check as "expected … (got …)". */
export function expected(what: string): (issue: { input?: unknown }) => string {
  return (issue) => `expected ${what} (got ${show(issue.input)})`;
}
