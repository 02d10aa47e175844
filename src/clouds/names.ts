/**
 * Cloud names derived from declaration names (node pools, IAM roles, service
 * accounts, containers): each cloud's rules, a stable way to shorten a long
 * name, and the check the loader runs so a name the cloud would refuse, or two
 * names that collide, are reported with the declaration field that caused them.
 */
import { createHash } from 'node:crypto';
import type { Environment, NodePool } from '../declarations/environment.ts';

/** A cloud's rule for one kind of name. */
export interface NameRule {
  /** What the name is, for messages: `AKS node pool name`. */
  readonly what: string;
  /** Longest name the cloud accepts, in characters. */
  readonly maxLength: number;
  /** Shortest name the cloud accepts, in characters. Default: 1. */
  readonly minLength?: number;
  /** The whole name must match. */
  readonly pattern: RegExp;
  /** The pattern in words, for messages. */
  readonly alphabet: string;
}

/** A name the Terraform or Kubernetes output will use, and the declaration field it comes from. */
export interface DerivedName {
  /** Field path in the environment declaration that the name is made from. */
  readonly field: string;
  readonly rule: NameRule;
  readonly value: string;
  /** Names must be unique within a scope (`aks-node-pools`, `iam-roles`). */
  readonly scope: string;
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

/**
 * Problems with derived names: each against its rule, then uniqueness within
 * each scope (a scope can span environments: one AWS account's IAM roles).
 * `origin` says where a name comes from in a collision message (default: its field).
 */
export function nameIssues<Name extends DerivedName>(names: readonly Name[], origin: (name: Name) => string = (name) => name.field): { name: Name; message: string }[] {
  const issues: { name: Name; message: string }[] = [];
  const seen = new Map<string, Name>();
  for (const name of names) {
    const { rule, value } = name;
    const minLength = rule.minLength ?? 1;
    if (value.length > rule.maxLength || value.length < minLength || !rule.pattern.test(value)) {
      issues.push({
        name,
        message: `expected a value that makes a valid ${rule.what}: ${minLength}–${rule.maxLength} characters, ${rule.alphabet} (got ${JSON.stringify(value)}, ${value.length} characters); rename it`,
      });
      continue;
    }
    const key = `${name.scope}\u0000${value}`;
    const first = seen.get(key);
    if (first) {
      issues.push({ name, message: `expected ${/^[AEIOU]/.test(rule.what) ? 'an' : 'a'} ${rule.what} no other name gives (got ${JSON.stringify(value)}, also made from ${origin(first)}); rename one of them` });
    } else seen.set(key, name);
  }
  return issues;
}

/** The cloud name of each node pool, unique within the cluster. */
export function poolNames(environment: Environment, rule: NameRule, scope: string, nameOf: (pool: NodePool) => string): DerivedName[] {
  return environment.nodePools.map((pool, index) => ({ field: `nodePools[${index}].name`, rule, value: nameOf(pool), scope: `${scope}/${environment.cluster}` }));
}

/** Lower-case letters, digits and '-', starting with a letter and ending with a letter or digit. */
export const LOWER_DASH_LETTER_FIRST = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
