/**
 * The GitHub REST operations our test doubles serve, as `<method> <path
 * template>` of GitHub's OpenAPI description: the route tables of the GitHub
 * stand-in (src/testing/github-stand-in.ts) and of the GitHub App endpoints
 * (src/cli/optimize-github-app.test.ts). Both dispatch with a `switch` over
 * these keys that the compiler checks is exhaustive, so a route cannot be
 * served without being listed here. scripts/vendor-github-openapi.ts vendors
 * exactly these operations of the description; they live apart from the
 * doubles so that script reads them without loading the description it makes.
 */
import { fileURLToPath } from 'node:url';

/** The stand-in's routes. Order matters where templates overlap: the first that matches wins. */
export const STAND_IN_OPERATIONS = [
  'get /user',
  'get /repos/{owner}/{repo}/pulls',
  'post /repos/{owner}/{repo}/pulls',
  'get /repos/{owner}/{repo}/pulls/{pull_number}',
  'patch /repos/{owner}/{repo}/pulls/{pull_number}',
  'put /repos/{owner}/{repo}/pulls/{pull_number}/merge',
  'post /repos/{owner}/{repo}/issues/{issue_number}/labels',
  'get /repos/{owner}/{repo}/issues/{issue_number}/comments',
  'post /repos/{owner}/{repo}/issues/{issue_number}/comments',
  'patch /repos/{owner}/{repo}/issues/comments/{comment_id}',
  'get /repos/{owner}/{repo}/issues',
  'post /repos/{owner}/{repo}/issues',
  'get /repos/{owner}/{repo}/issues/{issue_number}',
  'patch /repos/{owner}/{repo}/issues/{issue_number}',
  'get /repos/{owner}/{repo}/collaborators/{username}/permission',
  'post /repos/{owner}/{repo}/pulls/{pull_number}/requested_reviewers',
  'post /repos/{owner}/{repo}/git/blobs',
  'post /repos/{owner}/{repo}/git/trees',
  'post /repos/{owner}/{repo}/git/commits',
  'get /repos/{owner}/{repo}/git/ref/{ref}',
  'post /repos/{owner}/{repo}/git/refs',
  'patch /repos/{owner}/{repo}/git/refs/{ref}',
] as const;
export type StandInOperation = (typeof STAND_IN_OPERATIONS)[number];

/** The GitHub App endpoints the bot calls to mint an installation token (src/act/github-app-token.ts). */
export const GITHUB_APP_OPERATIONS = ['get /repos/{owner}/{repo}/installation', 'post /app/installations/{installation_id}/access_tokens', 'get /app'] as const;
export type GitHubAppOperation = (typeof GITHUB_APP_OPERATIONS)[number];

/** Every operation a double serves: what the vendored description must hold. */
export const SERVED_OPERATIONS: readonly string[] = [...STAND_IN_OPERATIONS, ...GITHUB_APP_OPERATIONS];

/** Where the vendored description of these operations lives (written by scripts/vendor-github-openapi.ts). */
export const VENDORED_DESCRIPTION = fileURLToPath(new URL('./api.github.com.subset.json', import.meta.url));
