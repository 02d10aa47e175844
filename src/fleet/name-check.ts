/**
 * The one checker of derived names: each name against its syntax rule, and
 * unique among names of its kind in its scope. Every record names the
 * declaration field that caused it, so a problem is reported where the user
 * can fix it. The Kubernetes side lists its names in derived-names.ts; a cloud
 * plug-in lists its own (IAM roles, node pools, buckets) the same way
 * (src/clouds/names.ts), and the loader checks all of them in one call.
 */
import type { DeclarationIssue } from '../declarations/issues.ts';

/** The syntax a name must follow. */
export interface NameRule {
  /** What the rule asks for, in words, after "expected …". */
  readonly description: string;
  readonly pattern: RegExp;
  /** Longest allowed name, characters. */
  readonly maxLength: number;
  /** Shortest allowed name, characters. Default: 1. */
  readonly minLength?: number;
}

// Kubernetes' rules: apimachinery/pkg/util/validation (IsDNS1123Label, IsDNS1035Label, IsDNS1123Subdomain).
export const DNS_1123_LABEL: NameRule = {
  description: "a DNS-1123 label: lower-case letters, digits and '-', starting and ending with a letter or digit, at most 63 characters",
  pattern: /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/,
  maxLength: 63,
};
/** Service names (Kubernetes validates them with `ValidateServiceName` = `NameIsDNS1035Label`). */
export const DNS_1035_LABEL: NameRule = {
  description: "a DNS-1035 label: lower-case letters, digits and '-', starting with a letter and ending with a letter or digit, at most 63 characters",
  pattern: /^[a-z]([-a-z0-9]*[a-z0-9])?$/,
  maxLength: 63,
};
/** Most object names (ConfigMaps, ServiceAccounts, custom resources). */
export const DNS_1123_SUBDOMAIN: NameRule = {
  description: "a DNS-1123 subdomain: DNS-1123 labels joined by '.', at most 253 characters",
  pattern: /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/,
  maxLength: 253,
};

/** One name the outputs will contain, and where it comes from. */
export interface DerivedName {
  /** The name exactly as written to the output. */
  readonly name: string;
  readonly rule: NameRule;
  /** What it names (`Service`, `ConfigMap`, `IAM role`): names of one kind in one scope must differ. */
  readonly kind: string;
  /** Where it must be unique, in words (`namespace llm of cluster gke-1`). Absent: only its syntax is checked. */
  readonly scope?: string;
  /** Its part, when one declaration field makes several names of a kind (`canary Service`). Default: `kind`. */
  readonly role?: string;
  /** The declaration file that caused it, relative to the fleet root; empty for the compiler's own fixed names. */
  readonly declarationFile: string;
  /** The field in that file (`deployments.llama-3-1-8b-instruct`). */
  readonly fieldPath: string;
}

const where = (derived: DerivedName) => (derived.declarationFile === '' ? 'the compiler itself' : `${derived.declarationFile}: ${derived.fieldPath}`);

/** Checks every name; each problem is reported once, at the field of the name that breaks the rule or comes second. */
export function checkDerivedNames(names: readonly DerivedName[]): DeclarationIssue[] {
  const issues: DeclarationIssue[] = [];
  const report = (derived: DerivedName, message: string) => issues.push({ file: derived.declarationFile, path: derived.fieldPath, message });
  const first = new Map<string, DerivedName>();
  for (const derived of names) {
    const { name, rule } = derived;
    const role = derived.role ?? derived.kind;
    if (name.length > rule.maxLength || name.length < (rule.minLength ?? 1) || !rule.pattern.test(name)) {
      report(derived, `expected the ${role} name it makes to be ${rule.description} (got ${JSON.stringify(name)}, ${name.length} characters); rename it`);
    }
    if (derived.scope === undefined) continue;
    const key = `${derived.scope}\u0000${derived.kind}\u0000${name}`;
    const earlier = first.get(key);
    if (!earlier) first.set(key, derived);
    else
      report(
        derived,
        `expected the ${role} name it makes to differ from every other ${derived.kind} in ${derived.scope} (got ${JSON.stringify(name)}, also the ${earlier.role ?? earlier.kind} of ${where(earlier)}); rename one of them`,
      );
  }
  return issues;
}
