/**
 * GitHub's 401, 403 and 404 in words: which token, permission or resource is
 * missing, instead of octokit's bare "Not Found". Permissions are the
 * fine-grained ones GitHub lists per endpoint ("Permissions required for
 * fine-grained personal access tokens"; the same names for GitHub Apps).
 */

/** GitHub refused a call; the message says what to change. */
export class GitHubAccessError extends Error {
  override readonly name = 'GitHubAccessError';

  constructor(
    message: string,
    /** GitHub's status: 401, 403 or 404. */
    readonly status: 401 | 403 | 404,
  ) {
    super(message);
  }
}

interface RequestErrorLike {
  readonly status?: number;
  readonly request?: { readonly method?: string; readonly url?: string };
  readonly response?: { readonly data?: { readonly message?: string } };
}

function permissionFor(method: string, pathname: string): string {
  const access = method === 'GET' ? 'read' : 'write';
  if (pathname === '/user') return 'a user token: GET /user tells the bot its own login, and a GitHub App token cannot call it (set LLMOPS_BOT_LOGIN to the App\'s "<app-slug>[bot]" login instead)';
  if (/\/git\//.test(pathname)) return `"Contents: ${access}" on the repository (the bot makes its commits through the Git Data API)`;
  if (/\/collaborators\//.test(pathname)) return '"Metadata: read" on the repository (the bot checks who may give it commands)';
  if (/\/issues(\/|$)/.test(pathname)) return `"Issues: ${access}" on the repository (the dashboard issue; on pull requests "Pull requests: ${access}" also allows it)`;
  if (/\/pulls/.test(pathname)) return `"Pull requests: ${access}" on the repository`;
  return `the permission GitHub documents for ${method} ${pathname}`;
}

/** A clear error for a 401, 403 or 404 from GitHub, or undefined for anything else. */
export function describeGitHubError(error: unknown, repository: string): GitHubAccessError | undefined {
  const { status, request, response } = (error ?? {}) as RequestErrorLike;
  if (status !== 401 && status !== 403 && status !== 404) return undefined;
  const method = request?.method ?? 'GET';
  const pathname = request?.url ? new URL(request.url).pathname.replace(/^\/api\/v3/, '') : '';
  const call = `${method} ${pathname}`;
  const said = response?.data?.message ? `: ${response.data.message}` : '';
  if (status === 401) {
    return new GitHubAccessError(
      `GitHub rejected the token on ${call} (401${said}): it is wrong, expired or revoked (a GitHub App installation token lasts one hour); set GITHUB_TOKEN to a valid token`,
      401,
    );
  }
  if (status === 403) return new GitHubAccessError(`GitHub refused ${call} (403${said}): the token lacks ${permissionFor(method, pathname)}`, 403);
  return new GitHubAccessError(
    `GitHub answered 404 for ${call}${said}: ${pathname.startsWith(`/repos/${repository}`) ? `the repository ${repository}, or the object named in the path, does not exist or the token cannot see it (a fine-grained token must list the repository; a GitHub App must be installed on it)` : 'no such resource'}`,
    404,
  );
}
