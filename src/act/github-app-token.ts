/**
 * A GitHub App installation token, minted from the App's private key, so the
 * bot stores no long-lived token: an installation token expires after an hour,
 * and the bot mints a new one every cycle.
 *
 * 1. A JWT signed RS256 with the App's private key: `iat` 60 s in the past
 *    (clock drift), `exp` at most 10 minutes ahead, `iss` the App's client ID
 *    (docs.github.com, "Generating a JSON Web Token (JWT) for a GitHub App").
 * 2. `GET /repos/{owner}/{repo}/installation` with the JWT: the installation.
 * 3. `POST /app/installations/{installation_id}/access_tokens`, narrowed to the
 *    one repository and the permissions the bot uses (contents and pull
 *    requests, write).
 * 4. `GET /app` with the JWT: the App's slug, whose bot user `<slug>[bot]` is
 *    the author of the bot's pull requests (an installation token cannot ask
 *    `GET /user` who it is).
 */
import { createSign } from 'node:crypto';
import { readFile } from 'node:fs/promises';

export interface GitHubAppCredentials {
  /** The App's client ID. */
  readonly clientId: string;
  /** The App's private key, PEM. */
  readonly privateKeyPem: string;
}

export interface InstallationToken {
  readonly token: string;
  readonly expiresAt: Date;
  /** The App's bot user, `<app-slug>[bot]`. */
  readonly login: string;
}

export class GitHubAppError extends Error {}

/** Variables naming the App in the bot's environment (the in-cluster manifests set them). */
export const APP_CLIENT_ID_VARIABLE = 'LLMOPS_GITHUB_APP_CLIENT_ID';
export const APP_PRIVATE_KEY_FILE_VARIABLE = 'LLMOPS_GITHUB_APP_PRIVATE_KEY_FILE';

/** The App's credentials from the environment, or undefined when neither variable is set. */
export async function appCredentialsFromEnvironment(environment: NodeJS.ProcessEnv = process.env): Promise<GitHubAppCredentials | undefined> {
  const clientId = environment[APP_CLIENT_ID_VARIABLE];
  const keyFile = environment[APP_PRIVATE_KEY_FILE_VARIABLE];
  if (!clientId && !keyFile) return undefined;
  if (!clientId || !keyFile)
    throw new GitHubAppError(
      `${APP_CLIENT_ID_VARIABLE} and ${APP_PRIVATE_KEY_FILE_VARIABLE}: expected both, the App's client ID and the file holding its private key (got only ${clientId ? APP_CLIENT_ID_VARIABLE : APP_PRIVATE_KEY_FILE_VARIABLE})`,
    );
  const privateKeyPem = await readFile(keyFile, 'utf8').catch((error: Error) => {
    throw new GitHubAppError(`${APP_PRIVATE_KEY_FILE_VARIABLE}: cannot read the App's private key ${keyFile} (${error.message})`);
  });
  return { clientId, privateKeyPem };
}

/** The App's JSON Web Token, valid for 9 minutes from `now`. */
export function appJwt(credentials: GitHubAppCredentials, now: Date): string {
  const seconds = Math.floor(now.getTime() / 1000);
  const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const unsigned = `${encode({ alg: 'RS256', typ: 'JWT' })}.${encode({ iat: seconds - 60, exp: seconds + 9 * 60, iss: credentials.clientId })}`;
  const signature = createSign('RSA-SHA256').update(unsigned).sign(credentials.privateKeyPem).toString('base64url');
  return `${unsigned}.${signature}`;
}

/** What a failed step means, by status. */
function failure(step: string, status: number, repository: string, body: string): GitHubAppError {
  const reason =
    status === 401
      ? "GitHub rejected the App's JWT: check the client ID and that the private key is the App's current one"
      : status === 404
        ? `the App is not installed on ${repository} (install it there, with contents and pull requests write)`
        : status === 422
          ? 'GitHub refused the permissions asked for: grant the App contents and pull requests write'
          : `HTTP ${status}: ${body.slice(0, 200)}`;
  return new GitHubAppError(`GitHub App: ${step}: ${reason}`);
}

/** Mints an installation token for `repository` (`owner/name`). */
export async function mintInstallationToken(credentials: GitHubAppCredentials, repository: string, apiUrl = 'https://api.github.com', now = new Date()): Promise<InstallationToken> {
  const headers = { accept: 'application/vnd.github+json', authorization: `Bearer ${appJwt(credentials, now)}`, 'x-github-api-version': '2022-11-28', 'user-agent': 'llmops-gitops' };
  const call = async (step: string, url: string, init: RequestInit = {}) => {
    const response = await fetch(url, { ...init, headers, signal: AbortSignal.timeout(30_000) }).catch((error: Error) => {
      throw new GitHubAppError(`GitHub App: ${step}: ${error.name === 'TimeoutError' ? 'timeout after 30 s' : error.message} (${url})`);
    });
    const text = await response.text();
    if (!response.ok) throw failure(step, response.status, repository, text);
    return JSON.parse(text) as Record<string, unknown>;
  };
  const installation = await call(`the installation on ${repository}`, `${apiUrl}/repos/${repository}/installation`);
  const minted = await call('the installation token', `${apiUrl}/app/installations/${String(installation.id)}/access_tokens`, {
    method: 'POST',
    body: JSON.stringify({ repositories: [repository.split('/')[1]], permissions: { contents: 'write', pull_requests: 'write' } }),
  });
  const app = await call('the App', `${apiUrl}/app`);
  return { token: String(minted.token), expiresAt: new Date(String(minted.expires_at)), login: `${String(app.slug)}[bot]` };
}
