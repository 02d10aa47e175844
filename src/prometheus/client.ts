/**
 * A small client of the Prometheus HTTP API (instant and range queries) with a
 * timeout per request, retries with back-off on network errors and 5xx, and
 * errors that say which server and which query failed.
 */

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
    /** `unreachable` (network, timeout), `server` (5xx after retries) or `query` (Prometheus rejected it). */
    readonly kind: 'unreachable' | 'server' | 'query',
  ) {
    super(message);
  }
}

export interface PrometheusClientOptions {
  /** Per-request timeout, ms. Default: 10,000. */
  readonly timeoutMs?: number;
  /** Retries after the first attempt for network errors and 5xx. Default: 2. */
  readonly retries?: number;
  /** First back-off, ms (doubled each retry). Default: 250. */
  readonly backoffMs?: number;
}

type ApiResponse = { status: 'success' | 'error'; error?: string; errorType?: string; data?: { resultType: string; result: unknown } };

export class PrometheusClient {
  private readonly timeoutMs: number;
  private readonly retries: number;
  private readonly backoffMs: number;

  constructor(
    readonly baseUrl: string,
    options: PrometheusClientOptions = {},
  ) {
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

  private async request(endpoint: string, parameters: Record<string, string>, query: string): Promise<unknown> {
    let lastProblem = '';
    for (let attempt = 0; attempt <= this.retries; attempt += 1) {
      if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, this.backoffMs * 2 ** (attempt - 1)));
      let response: Response;
      try {
        response = await fetch(`${this.baseUrl}${endpoint}`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams(parameters),
          signal: AbortSignal.timeout(this.timeoutMs),
        });
      } catch (error) {
        lastProblem = (error as Error).name === 'TimeoutError' ? `no answer within ${this.timeoutMs} ms` : (error as Error).message;
        continue;
      }
      if (response.status >= 500) {
        lastProblem = `HTTP ${response.status}`;
        continue;
      }
      const body = (await response.json().catch(() => undefined)) as ApiResponse | undefined;
      if (!body || body.status !== 'success' || !body.data) {
        throw new PrometheusError(`Prometheus at ${this.baseUrl} rejected the query ${JSON.stringify(query)}: ${body?.errorType ?? `HTTP ${response.status}`}: ${body?.error ?? 'no body'}`, 'query');
      }
      return body.data.result;
    }
    throw new PrometheusError(`Prometheus at ${this.baseUrl} is unreachable (${lastProblem}) after ${this.retries + 1} attempts; check --prometheus and that the server is up`, lastProblem.startsWith('HTTP') ? 'server' : 'unreachable');
  }
}
