import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer as createHttpServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { preparedFixture, runCli } from '../testing/fixture-fleet.ts';
import { PrometheusClient, PrometheusError, prometheusFromEnvironment } from './client.ts';
import { startPrometheus, type PrometheusServer } from './server.ts';

const run = promisify(execFile);
const TOKEN = 'prom-bearer-token';
const USER = 'reader';
const PASSWORD = 'pa55-word';

let prometheus: PrometheusServer;
let home: string;
let caFile: string;
/** An authenticating HTTPS proxy (as kube-rbac-proxy or oauth2-proxy would be) in front of the real Prometheus. */
let proxy: Server;
let proxyUrl: string;
/** A server that answers 200 and then never finishes the body. */
let stalling: Server;
let stallingUrl: string;

const listen = async (server: Server) => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
};

function forward(request: IncomingMessage, response: ServerResponse): void {
  const allowed = [`Bearer ${TOKEN}`, `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`];
  if (!allowed.includes(request.headers.authorization ?? '')) {
    response.writeHead(401, { 'www-authenticate': 'Basic realm="prometheus"' }).end('Unauthorized\n');
    return;
  }
  const upstream = new URL(request.url ?? '/', prometheus.url);
  const outgoing = httpRequest(upstream, { method: request.method, headers: { ...request.headers, host: upstream.host } }, (answer) => {
    response.writeHead(answer.statusCode ?? 502, answer.headers);
    answer.pipe(response);
  });
  request.pipe(outgoing);
}

beforeAll(async () => {
  prometheus = await startPrometheus();
  home = await mkdtemp(path.join(tmpdir(), 'llmops-tls-'));
  caFile = path.join(home, 'cert.pem');
  const keyFile = path.join(home, 'key.pem');
  await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', caFile, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1']);
  proxy = createHttpsServer({ cert: await readFile(caFile), key: await readFile(keyFile) }, forward);
  proxyUrl = `https://127.0.0.1:${await listen(proxy)}`;
  stalling = createHttpServer((_, response) => {
    response.writeHead(200, { 'content-type': 'application/json' });
    response.write('{"status":"succ');
  });
  stallingUrl = `http://127.0.0.1:${await listen(stalling)}`;
}, 120_000);

afterAll(async () => {
  for (const server of [proxy, stalling]) {
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
  }
  await prometheus?.stop();
  await rm(home, { recursive: true, force: true });
});

describe('the Prometheus client behind authentication and TLS', () => {
  it('sends a bearer token from LLMOPS_PROMETHEUS_TOKEN and trusts the CA in LLMOPS_PROMETHEUS_CA_FILE', async () => {
    const client = await prometheusFromEnvironment(proxyUrl, { LLMOPS_PROMETHEUS_TOKEN: TOKEN, LLMOPS_PROMETHEUS_CA_FILE: caFile });

    expect(await client.instant('vector(7)')).toEqual([{ labels: {}, value: 7 }]);
  });

  it('uses basic auth from LLMOPS_PROMETHEUS_USERNAME and _PASSWORD, or from the URL', async () => {
    const fromEnvironment = await prometheusFromEnvironment(proxyUrl, { LLMOPS_PROMETHEUS_USERNAME: USER, LLMOPS_PROMETHEUS_PASSWORD: PASSWORD, LLMOPS_PROMETHEUS_CA_FILE: caFile });
    const fromUrl = await prometheusFromEnvironment(proxyUrl.replace('https://', `https://${USER}:${PASSWORD}@`), { LLMOPS_PROMETHEUS_CA_FILE: caFile });

    expect(await fromEnvironment.instant('vector(1)')).toEqual([{ labels: {}, value: 1 }]);
    expect(await fromUrl.instant('vector(2)')).toEqual([{ labels: {}, value: 2 }]);
    expect(fromUrl.displayUrl).toBe(proxyUrl.replace('https://', `https://${USER}:***@`));
  });

  it('says when Prometheus asks for credentials, and never prints a password', async () => {
    const ca = await readFile(caFile, 'utf8');
    const none = new PrometheusClient(proxyUrl, { ca, retries: 0 });
    const wrong = new PrometheusClient(proxyUrl.replace('https://', `https://${USER}:not-the-password@`), { ca, retries: 0 });

    await expect(none.instant('up')).rejects.toThrow(
      `Prometheus at ${proxyUrl} asks for credentials (HTTP 401); set LLMOPS_PROMETHEUS_TOKEN (a bearer token) or LLMOPS_PROMETHEUS_USERNAME and LLMOPS_PROMETHEUS_PASSWORD (basic auth)`,
    );
    const error = await wrong.instant('up').catch((caught: PrometheusError) => caught);
    expect(error).toBeInstanceOf(PrometheusError);
    expect((error as PrometheusError).message).toContain(`https://${USER}:***@127.0.0.1:`);
    expect((error as PrometheusError).message).not.toContain('not-the-password');
  });

  it('refuses a certificate it does not trust', async () => {
    const client = new PrometheusClient(proxyUrl, { auth: { bearerToken: TOKEN }, retries: 0 });

    await expect(client.instant('up')).rejects.toThrow(/is unreachable \(self[- ]signed certificate\)/);
  });

  it('says "timeout" when the body stalls', async () => {
    const client = new PrometheusClient(stallingUrl, { timeoutMs: 300, retries: 1, backoffMs: 10 });

    await expect(client.instant('up')).rejects.toThrow(`Prometheus at ${stallingUrl} is unreachable (timeout: no complete answer within 300 ms) after 2 attempts`);
  });
});

describe('llmops plan options', () => {
  it('prints a --prometheus URL with its password masked, and checks --window before any query', async () => {
    const root = await preparedFixture();
    const masked = await runCli(['plan', '--root', root, '--prometheus', 'http://reader:hunter2@127.0.0.1:9']);
    const injected = await runCli(['plan', '--root', root, '--prometheus', prometheus.url, '--window', '1h]) or vector(1) #']);

    expect(masked.exitCode).toBe(3);
    expect(masked.stderr).toContain('Prometheus at http://reader:***@127.0.0.1:9 is unreachable');
    expect(masked.stderr).not.toContain('hunter2');
    expect(injected.exitCode).toBe(2);
    expect(injected.stderr).toBe('--window: expected a duration such as 30m, 1h or 2d (got "1h]) or vector(1) #")\n');
  });
});
