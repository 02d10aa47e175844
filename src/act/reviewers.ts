/**
 * Who reviews a bot pull request: the policy's `pullRequests.reviewers`, or
 * else the code owners (.github/CODEOWNERS, GitHub's rules: the last matching
 * line wins) of the files the change touches. GitHub requests code owners by
 * itself; asking explicitly makes the request visible from the first push and
 * works where "Require review from Code Owners" is off. Pure.
 */
import { ownersOf, parseCodeOwners } from '../fleet/code-owners.ts';

export interface Reviewers {
  /** Logins. */
  readonly users: readonly string[];
  /** Team slugs (of `@org/team`). */
  readonly teams: readonly string[];
}

/** Splits `@login` and `@org/team` (e-mail owners cannot be requested through the API and are left out). */
function split(owners: readonly string[], exclude: readonly string[]): Reviewers {
  const handles = [...new Set(owners.filter((owner) => !owner.includes('@', 1)).map((owner) => owner.replace(/^@/, '')))];
  return {
    users: handles.filter((handle) => !handle.includes('/') && !exclude.includes(handle)),
    teams: handles.filter((handle) => handle.includes('/')).map((handle) => handle.split('/')[1]!),
  };
}

/** The reviewers of a change to `files`: the policy's when it names any, else the code owners'. `exclude`: the bot (it cannot review its own). */
export function reviewersFor(policyReviewers: readonly string[], codeOwners: string | undefined, files: readonly string[], exclude: readonly string[]): Reviewers {
  if (policyReviewers.length > 0) return split(policyReviewers, exclude);
  if (!codeOwners) return { users: [], teams: [] };
  const rules = parseCodeOwners(codeOwners);
  return split(
    files.flatMap((file) => ownersOf(rules, file)),
    exclude,
  );
}
