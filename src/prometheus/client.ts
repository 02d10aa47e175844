/**
 * A small client of the Prometheus HTTP API (instant and range queries) with a
 * deadline per request (headers and body), retries with back-off on network
 * errors, timeouts and 5xx, and errors that say which server and which query
 * failed. It authenticates with a bearer token or basic auth and trusts an
 * extra CA for TLS, as a Prometheus behind an authenticating proxy needs
 * (settings from the environment: {@link prometheusFromEnvironment}); a URL is
 * only ever printed with its password masked.
 */
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';

/** One series of an instant vector. */
export interface InstantSample {
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** One series of a range matrix: [unix seconds, value] pairs. */
export interface RangeSeries {
  readonly labels: Readonly<Record<string, string>>;
  readonly points: readonly (readonly [number, number])[];
}

export class PrometheusError extends Error {
  override readonly name = 'PrometheusError';

  constructor(
    message: string,
    /** `unreachable` (network, timeout), `server` (5xx after retries), `auth` (401/403) or `query` (Prometheus rejected it). */
    readonly kind: 'unreachable' | 'server' | 'auth' | 'query',
  ) {
    super(message);
  }
}

/** How the client proves who it is: a bearer token, or a user name and password (basic auth). */
export type PrometheusAuth = { readonly bearerToken: string } | { readonly username: string; readonly password: string };

export interface PrometheusClientOptions {
  /** Deadline of one request, headers and body, ms. Default: 10,000. */
  readonly timeoutMs?: number;
  /** Retries after the first attempt for network errors, timeouts and 5xx. Default: 2. */
  readonly retries?: number;
  /** First back-off, ms (doubled each retry). Default: 250. */
  readonly backoffMs?: number;
  /** Credentials. Default: those in the URL (`https://user:password@host`), else none. */
  readonly auth?: PrometheusAuth;
  /** PEM certificates trusted for HTTPS besides the system's (a private CA). */
  readonly ca?: string;
}

type ApiResponse = { status: 'success' | 'error'; error?: string; errorType?: string; data?: { resultType: string; result: unknown } };

/** `url` with its password replaced by `***`, for messages. */
export function maskUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.href.replace(/\/$/, '');
  } catch {
    return url.replace(/\/\/([^/@:]*):[^/@]*@/, '//$1:***@');
  }
}

class TimeoutError extends Error {}

export class PrometheusClient {
  /** The server's URL without credentials. */
  readonly baseUrl: string;
  /** The URL as printed: any password masked. */
  readonly displayUrl: string;
  private readonly timeoutMs: number;
  private readonly retries: number;
  private readonly backoffMs: number;
  private readonly authorization?: string;
  private readonly ca?: string;

  constructor(baseUrl: string, options: PrometheusClientOptions = {}) {
    this.displayUrl = maskUrl(baseUrl);
    let parsed: URL;
    try {
      parsed = new URL(baseUrl);
    } catch {
      throw new PrometheusError(`expected a Prometheus URL such as http://prometheus-operated.monitoring.svc:9090 (got ${JSON.stringify(this.displayUrl)})`, 'query');
    }
    const inUrl = parsed.username ? { username: decodeURIComponent(parsed.username), password: decodeURIComponent(parsed.password) } : undefined;
    parsed.username = '';
    parsed.password = '';
    this.baseUrl = parsed.href.replace(/\/$/, '');
    const auth = options.auth ?? inUrl;
    if (auth && 'bearerToken' in auth) this.authorization = `Bearer ${auth.bearerToken}`;
    else if (auth) this.authorization = `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`;
    this.ca = options.ca;
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.retries = options.retries ?? 2;
    this.backoffMs = options.backoffMs ?? 250;
  }

  /** Evaluates `query` at `time` (unix seconds; default now). */
  async instant(query: string, time?: number): Promise<InstantSample[]> {
    const result = (await this.request('/api/v1/query', { query, ...(time === undefined ? {} : { time: String(time) }) }, query)) as {
      metric: Record<string, string>;
      value: [number, string];
    }[];
    return result.map(({ metric, value }) => ({ labels: metric, value: Number(value[1]) }));
  }

  /** Evaluates `query` over [start, end] every `stepSeconds`. */
  async range(query: string, start: number, end: number, stepSeconds: number): Promise<RangeSeries[]> {
    const result = (await this.request('/api/v1/query_range', { query, start: String(start), end: String(end), step: String(stepSeconds) }, query)) as {
      metric: Record<string, string>;
      values: [number, string][];
    }[];
    return result.map(({ metric, values }) => ({ labels: metric, points: values.map(([at, value]) => [at, Number(value)] as const) }));
  }

  /** One POST, answered in full (status and body) within the deadline, or a TimeoutError. */
  private post(endpoint: string, parameters: Record<string, string>): Promise<{ status: number; text: string }> {
    const url = new URL(`${this.baseUrl}${endpoint}`);
    const body = new URLSearchParams(parameters).toString();
    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', 'content-length': String(Buffer.byteLength(body)) };
    if (this.authorization) headers.authorization = this.authorization;
    return new Promise((resolve, reject) => {
      const request = (url.protocol === 'https:' ? https : http).request(url, { method: 'POST', headers, ...(this.ca ? { ca: this.ca } : {}) }, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        response.on('error', reject);
      });
      const deadline = setTimeout(() => request.destroy(new TimeoutError()), this.timeoutMs);
      request.on('close', () => clearTimeout(deadline));
      request.on('error', reject);
      request.end(body);
    });
  }

  private async request(endpoint: string, parameters: Record<string, string>, query: string): Promise<unknown> {
    let lastProblem = '';
    for (let attempt = 0; attempt <= this.retries; attempt += 1) {
      if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, this.backoffMs * 2 ** (attempt - 1)));
      let response: { status: number; text: string };
      try {
        response = await this.post(endpoint, parameters);
      } catch (error) {
        lastProblem = error instanceof TimeoutError ? `timeout: no complete answer within ${this.timeoutMs} ms` : ((error as Error).message ?? String(error));
        continue;
      }
      if (response.status >= 500) {
        lastProblem = `HTTP ${response.status}`;
        continue;
      }
      if (response.status === 401 || response.status === 403) {
        const how = this.authorization ? 'refused the credentials it was given' : 'asks for credentials';
        throw new PrometheusError(
          `Prometheus at ${this.displayUrl} ${how} (HTTP ${response.status}); set LLMOPS_PROMETHEUS_TOKEN (a bearer token) or LLMOPS_PROMETHEUS_USERNAME and LLMOPS_PROMETHEUS_PASSWORD (basic auth)`,
          'auth',
        );
      }
      let body: ApiResponse | undefined;
      try {
        body = JSON.parse(response.text) as ApiResponse;
      } catch {
        body = undefined;
      }
      if (body?.status !== 'success' || !body.data) {
        const said = body?.error ?? (response.text.trim() === '' ? 'an empty body' : `a body that is not the API's JSON (${JSON.stringify(response.text.slice(0, 80))})`);
        throw new PrometheusError(`Prometheus at ${this.displayUrl} rejected the query ${JSON.stringify(query)}: ${body?.errorType ?? `HTTP ${response.status}`}: ${said}`, 'query');
      }
      return body.data.result;
    }
    throw new PrometheusError(
      `Prometheus at ${this.displayUrl} is unreachable (${lastProblem}) after ${this.retries + 1} attempts; check --prometheus and that the server is up`,
      lastProblem.startsWith('HTTP') ? 'server' : 'unreachable',
    );
  }
}

/**
 * A client for `url` with the credentials and CA from the environment:
 * `LLMOPS_PROMETHEUS_TOKEN` (bearer), or `LLMOPS_PROMETHEUS_USERNAME` and
 * `LLMOPS_PROMETHEUS_PASSWORD` (basic auth), and `LLMOPS_PROMETHEUS_CA_FILE`
 * (PEM). Credentials in the URL itself are used when none of these is set.
 */
export async function prometheusFromEnvironment(url: string, environment: NodeJS.ProcessEnv = process.env): Promise<PrometheusClient> {
  const token = environment.LLMOPS_PROMETHEUS_TOKEN || undefined;
  const username = environment.LLMOPS_PROMETHEUS_USERNAME || undefined;
  const password = environment.LLMOPS_PROMETHEUS_PASSWORD ?? '';
  if (token && username) throw new PrometheusError('LLMOPS_PROMETHEUS_TOKEN and LLMOPS_PROMETHEUS_USERNAME are both set: expected one way to authenticate (a bearer token, or basic auth)', 'auth');
  const caFile = environment.LLMOPS_PROMETHEUS_CA_FILE || undefined;
  let ca: string | undefined;
  if (caFile) {
    try {
      ca = await readFile(caFile, 'utf8');
    } catch (error) {
      throw new PrometheusError(`LLMOPS_PROMETHEUS_CA_FILE: expected a readable PEM file (got ${JSON.stringify(caFile)}: ${(error as NodeJS.ErrnoException).code ?? String(error)})`, 'auth');
    }
  }
  const auth: PrometheusAuth | undefined = token ? { bearerToken: token } : username ? { username, password } : undefined;
  return new PrometheusClient(url, { ...(auth ? { auth } : {}), ...(ca ? { ca } : {}) });
}
