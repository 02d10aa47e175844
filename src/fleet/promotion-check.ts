/** Promotion chains (`promotesFrom`) must end: an environment may not, through others, promote from itself. */
import type { Environment } from '../declarations/environment.ts';
import type { DeclarationIssue } from '../declarations/issues.ts';
import type { Loaded } from './cross-check.ts';

export function checkPromotionCycles(environments: readonly Loaded<Environment>[]): DeclarationIssue[] {
  const source = new Map(environments.map(({ value }) => [value.name, value.promotesFrom]));
  const issues: DeclarationIssue[] = [];
  for (const { file, value } of environments) {
    const chain = [value.name];
    for (let next = value.promotesFrom; next !== undefined && source.has(next) && next !== value.name; next = source.get(next)) {
      if (chain.includes(next)) break;
      chain.push(next);
    }
    const last = source.get(chain[chain.length - 1]!);
    // A self-reference is reported by the reference check; here, chains of two or more that come back.
    if (chain.length > 1 && last === value.name) {
      issues.push({ file, path: 'promotesFrom', message: `expected a promotion chain that ends (got ${[...chain, value.name].join(' ← ')}, a cycle); remove promotesFrom from one of them` });
    }
  }
  return issues;
}
