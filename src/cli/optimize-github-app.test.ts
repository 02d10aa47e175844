/**
 * The bot as the in-cluster manifests run it: an empty work volume, the
 * repository cloned at start, and a GitHub App's private key instead of a
 * token. GitHub's two App endpoints are served here, checked against GitHub's
 * OpenAPI description, and verify the JWT with the App's public key; every
 * other request goes on to the GitHub stand-in.
 */
import { execFile, spawn } from 'node:child_process';
import { createVerify, generateKeyPairSync } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { appJwt, mintInstallationToken } from '../act/github-app-token.ts';
import type { PrometheusServer } from '../prometheus/server.ts';
import { createBotWorld, REPOSITORY, TOKEN, type BotWorld } from '../testing/bot-harness.ts';
import { REPO_ROOT } from '../testing/fixture-fleet.ts';
import { GITHUB_APP_OPERATIONS, type GitHubAppOperation } from '../testing/github-api/operations.ts';
import { exampleOf, matchOperation, requestViolations, responseViolations } from '../testing/github-openapi.ts';
import { IDLE_PRODUCTION_8B, lastWednesdayAfternoon, prometheusWithScenario } from '../testing/plan-harness.ts';

const run = promisify(execFile);
const AT = new Date(lastWednesdayAfternoon().getTime() - 60 * 60_000);
const CLIENT_ID = 'Iv23liTestApp0001';
const INSTALLATION_ID = 4242;
const APP_SLUG = 'acme-llmops';

const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const privateKeyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

/** Problems with the JWT in `authorization`, checked as GitHub does: RS256 signature by the App's key, iss, iat, exp. */
function jwtProblems(authorization: string | undefined): string[] {
  const [header, payload, signature] = (authorization ?? '').replace(/^Bearer /, '').split('.');
  if (!header || !payload || !signature) return ['no JWT'];
  const problems: string[] = [];
  if (!createVerify('RSA-SHA256').update(`${header}.${payload}`).verify(publicKey, Buffer.from(signature, 'base64url'))) problems.push('bad signature');
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as { iss: string; iat: number; exp: number };
  // GitHub checks the JWT against its own clock, not the cycle's (--at).
  const now = Math.floor(Date.now() / 1000);
  if (claims.iss !== CLIENT_ID) problems.push(`iss ${claims.iss}`);
  if (!(claims.iat <= now && claims.exp > now && claims.exp - now <= 600)) problems.push(`iat ${claims.iat} / exp ${claims.exp} around ${now}`);
  if (JSON.parse(Buffer.from(header, 'base64url').toString()).alg !== 'RS256') problems.push('alg');
  return problems;
}

const bodyOf = async (request: IncomingMessage) => {
  let text = '';
  for await (const chunk of request) text += chunk;
  return text;
};

/** GitHub's App endpoints, and a pass-through to the stand-in for the rest. */
class AppEndpoints {
  readonly violations: string[] = [];
  readonly minted: string[] = [];
  private server?: Server;
  url = '';

  constructor(private readonly standIn: string) {}

  async start(): Promise<this> {
    this.server = createServer(async (request, response) => {
      const url = new URL(request.url!, 'http://localhost');
      const text = await bodyOf(request);
      const matched = matchOperation(request.method!, url.pathname, GITHUB_APP_OPERATIONS);
      if (!matched) {
        const forwarded = await fetch(`${this.standIn}${request.url}`, {
          method: request.method,
          headers: Object.fromEntries(Object.entries(request.headers).filter(([name]) => name !== 'host' && name !== 'content-length')) as Record<string, string>,
          body: text || undefined,
        });
        response.writeHead(forwarded.status, Object.fromEntries([...forwarded.headers].filter(([name]) => name !== 'content-encoding' && name !== 'content-length' && name !== 'transfer-encoding')));
        response.end(Buffer.from(await forwarded.arrayBuffer()));
        return;
      }
      this.violations.push(
        ...requestViolations(matched, url.searchParams, text ? JSON.parse(text) : undefined),
        ...jwtProblems(request.headers.authorization).map((problem) => `${matched.template}: JWT ${problem}`),
      );
      const [status, body] = this.answer(matched.key, text);
      if (matched.params.installation_id !== undefined && matched.params.installation_id !== String(INSTALLATION_ID)) this.violations.push(`installation ${matched.params.installation_id}`);
      if (status === 201) this.minted.push(text);
      // Responses checked against the description: the token's. The installation's schema has a `nullable` without `type`, which Ajv
      // cannot compile, and the App's is nullable as a whole, so the contract helper makes no example of it; both carry what the bot reads.
      if (status === 201) this.violations.push(...responseViolations(matched, status, body));
      response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as { port: number }).port}`;
    return this;
  }

  /** GitHub's answer to an App endpoint: status and body. */
  private answer(key: GitHubAppOperation, text: string): [number, Record<string, unknown>] {
    switch (key) {
      case 'get /app':
        return [200, { ...exampleOf('integration'), slug: APP_SLUG }];
      case 'get /repos/{owner}/{repo}/installation':
        return [200, { ...exampleOf('installation'), id: INSTALLATION_ID }];
      case 'post /app/installations/{installation_id}/access_tokens':
        return [
          201,
          {
            ...exampleOf('installation-token'),
            token: TOKEN,
            expires_at: new Date(AT.getTime() + 3_600_000).toISOString(),
            permissions: JSON.parse(text).permissions,
            repository_selection: 'selected',
          },
        ];
      default: {
        // Every listed operation has its case: the compiler rejects a list entry without one.
        const unanswered: never = key;
        throw new Error(`no answer for ${String(unanswered)}`);
      }
    }
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }
}

let prometheus: PrometheusServer;
let world: BotWorld;
let github: AppEndpoints;
let dir: string;
beforeAll(async () => {
  prometheus = await prometheusWithScenario(IDLE_PRODUCTION_8B, AT);
}, 120_000);
afterAll(async () => prometheus?.stop());
beforeEach(async () => {
  world = await createBotWorld(() => AT);
  github = await new AppEndpoints(world.github.url).start();
  dir = await mkdtemp(path.join(tmpdir(), 'llmops-pod-'));
  await writeFile(path.join(dir, 'private-key.pem'), privateKeyPem);
});
afterEach(async () => {
  await github?.stop();
  await world?.remove();
  await rm(dir, { recursive: true, force: true });
});

describe('llmops optimize with a GitHub App key, in an empty volume', () => {
  it('mints an installation token from the key, clones the repository, and opens the pull request with that token', async () => {
    const root = path.join(dir, 'repository');
    const child = spawn(
      process.execPath,
      [
        path.join(REPO_ROOT, 'bin/llmops.js'),
        'optimize',
        '--once',
        '--root',
        root,
        '--clone',
        world.bare,
        '--repository',
        REPOSITORY,
        '--github-api-url',
        github.url,
        '--prometheus',
        prometheus.url,
        '--at',
        String(AT.getTime() / 1000),
      ],
      // As the in-cluster manifest sets them: the App, and the bot's signing key.
      {
        env: {
          ...process.env,
          GITHUB_TOKEN: '',
          LLMOPS_BOT_LOGIN: '',
          LLMOPS_GITHUB_APP_CLIENT_ID: CLIENT_ID,
          LLMOPS_GITHUB_APP_PRIVATE_KEY_FILE: path.join(dir, 'private-key.pem'),
          LLMOPS_BOT_SECRET: 'a-signing-key-of-the-bot-in-the-cluster-0123456789',
        },
      },
    );
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.stdout.resume();
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));

    expect(code, stderr).toBe(0);
    expect(github.minted.map((body) => JSON.parse(body))).toEqual([{ repositories: ['llmops-gitops'], permissions: { contents: 'write', pull_requests: 'write' } }]);
    expect(github.violations).toEqual([]);
    expect(world.github.pulls.map((pull) => pull.head)).toEqual(['llmops/production/llama-3-1-8b-instruct']);
    expect(world.github.contractViolations).toEqual([]);
    expect((await run('git', ['remote', 'get-url', 'origin'], { cwd: root })).stdout.trim()).toBe(world.bare);
  }, 120_000);

  it('says what is wrong when GitHub rejects the JWT or the App is not installed', async () => {
    const wrongKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const rejecting = createServer((request, response) =>
      response.writeHead(jwtProblems(request.headers.authorization).length ? 401 : 404, { 'content-type': 'application/json' }).end('{"message":"x"}'),
    );
    await new Promise<void>((resolve) => rejecting.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(rejecting.address() as { port: number }).port}`;
    try {
      const forged = await mintInstallationToken({ clientId: CLIENT_ID, privateKeyPem: wrongKey }, REPOSITORY, url).catch((error: Error) => error.message);
      const notInstalled = await mintInstallationToken({ clientId: CLIENT_ID, privateKeyPem }, REPOSITORY, url).catch((error: Error) => error.message);

      expect(forged).toBe(`GitHub App: the installation on ${REPOSITORY}: GitHub rejected the App's JWT: check the client ID and that the private key is the App's current one`);
      expect(notInstalled).toBe(`GitHub App: the installation on ${REPOSITORY}: the App is not installed on ${REPOSITORY} (install it there, with contents and pull requests write)`);
      expect(jwtProblems(`Bearer ${appJwt({ clientId: CLIENT_ID, privateKeyPem }, new Date())}`)).toEqual([]);
      expect(await mintInstallationToken({ clientId: CLIENT_ID, privateKeyPem }, REPOSITORY, github.url)).toEqual({
        token: TOKEN,
        expiresAt: new Date(AT.getTime() + 3_600_000),
        login: `${APP_SLUG}[bot]`,
      });
      expect(jwtProblems(`Bearer ${appJwt({ clientId: CLIENT_ID, privateKeyPem }, new Date(Date.now() - 3_600_000))}`)).toEqual([expect.stringMatching(/^iat /)]);
    } finally {
      await new Promise((resolve) => rejecting.close(resolve));
    }
  });

  it('gives a fork of this repository (declarations importing the compiler by its own name) the running compiler’s dependencies', async () => {
    const root = path.join(dir, 'fork');
    const clone = spawn(process.execPath, [path.join(REPO_ROOT, 'bin/llmops.js'), 'optimize', '--once', '--local', '--root', root, '--clone', REPO_ROOT, '--prometheus', 'http://127.0.0.1:9'], {
      env: process.env,
    });
    clone.stdout.resume();
    clone.stderr.resume();
    await new Promise((resolve) => clone.on('exit', resolve));

    const validate = await run(process.execPath, [path.join(REPO_ROOT, 'bin/llmops.js'), 'validate', '--root', root]).then(
      () => 0,
      (error: { code: number; stderr: string }) => `${error.code}: ${error.stderr}`,
    );

    expect(validate).toBe(0);
  }, 120_000);
});
