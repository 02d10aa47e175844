/**
 * Cloud names derived from declaration names (node pools, IAM roles, service
 * accounts, containers): each cloud's rules, a stable way to shorten a long
 * name. The loader checks them with every other derived name
 * (src/fleet/name-check.ts), so a name the cloud would refuse, or two names
 * that collide, are reported with the declaration field that caused them.
 */
import { createHash } from 'node:crypto';
import type { Environment, NodePool } from '../declarations/environment.ts';
import type { DerivedName, NameRule } from '../fleet/name-check.ts';

/** A cloud's rule for one kind of name: what it names (`AKS node pool`) and its syntax. */
export interface CloudNameRule extends NameRule {
  readonly what: string;
}

/** A rule from the cloud's documented limits: `minLength`–`maxLength` characters of `alphabet` (in words), matching `pattern`. */
export function cloudNameRule(what: string, limits: { minLength?: number; maxLength: number; pattern: RegExp; alphabet: string }): CloudNameRule {
  const { minLength = 1, maxLength, pattern, alphabet } = limits;
  return { what, description: `${minLength}–${maxLength} characters, ${alphabet}`, pattern, minLength, maxLength };
}

/** A name the cloud's output uses and the environment field it comes from; the loader adds the declaration file. */
export type CloudDerivedName = Omit<DerivedName, 'declarationFile'>;

/** The record of one cloud name: `scope` says where it must be unique, in words (`AWS account 123456789012`). */
export function cloudName(rule: CloudNameRule, name: string, fieldPath: string, scope: string): CloudDerivedName {
  return { name, rule, kind: rule.what, scope, fieldPath };
}

const HASH_LENGTH = 6;

/** First characters of the SHA-256 of a name: stable across runs and machines. */
function hashOf(name: string): string {
  return createHash('sha256').update(name).digest('hex').slice(0, HASH_LENGTH);
}

/**
 * The name itself when it fits, else its head and a hash of the whole name, so
 * that two long names sharing a prefix stay distinct (never truncated into one).
 * `separator` joins head and hash ('' where the cloud allows no '-').
 */
export function shortenName(name: string, maxLength: number, separator = '-'): string {
  if (name.length <= maxLength) return name;
  const head = name.slice(0, maxLength - HASH_LENGTH - separator.length).replace(/-+$/, '');
  return `${head}${separator}${hashOf(name)}`;
}

/** The cloud name of each node pool, unique within the cluster. */
export function poolNames(environment: Environment, rule: CloudNameRule, nameOf: (pool: NodePool) => string): CloudDerivedName[] {
  return environment.nodePools.map((pool, index) => cloudName(rule, nameOf(pool), `nodePools[${index}].name`, `cluster ${environment.cluster}`));
}

/** Lower-case letters, digits and '-', starting with a letter and ending with a letter or digit. */
export const LOWER_DASH_LETTER_FIRST = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
