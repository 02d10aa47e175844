/**
 * The metrics contract of a vLLM server (V1 engine, `vllm/vllm-openai`): the
 * names, types, labels and histogram buckets it exports on `/metrics`, and the
 * PromQL every reader builds from them. The recording and alerting rules, the
 * canary analysis, KEDA, the simulator and the bot's `observe` all take their
 * series from here, so they cannot disagree about what a server exports.
 * Source: vllm-project/vllm docs/design/metrics.md and vllm/v1/metrics/loggers.py.
 */

/** Bucket bounds of vLLM's histograms, copied so PromQL quantiles behave as on a real server. */
export const TTFT_BUCKETS = [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 20, 40, 80, 160, 640, 2560];
export const INTER_TOKEN_BUCKETS = [0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 20, 40, 80];
export const REQUEST_SECONDS_BUCKETS = [0.3, 0.5, 0.8, 1, 1.5, 2, 2.5, 5, 10, 15, 20, 30, 40, 50, 60, 120, 240, 480, 960, 1920, 7680];
export const TOKEN_BUCKETS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000, 100000];

export type FamilyType = 'gauge' | 'counter' | 'histogram';

/** One metric family as an exporter writes it (a counter's samples carry `_total`). */
export interface Family {
  readonly name: string;
  readonly type: FamilyType;
  readonly help: string;
  readonly buckets?: readonly number[];
}

/** The label carrying the served model name on every engine metric. */
export const MODEL_LABEL = 'model_name';
/** The label carrying the engine index on every engine metric. */
export const ENGINE_LABEL = 'engine';
/** The label of `vllm:request_success_total` saying why a request finished: `stop`, `length` or `abort` (a client cancellation). */
export const FINISHED_REASON_LABEL = 'finished_reason';

/** vLLM's own metric families. */
export const VLLM_FAMILIES = {
  running: { name: 'vllm:num_requests_running', type: 'gauge', help: 'Number of requests in model execution batches.' },
  waiting: { name: 'vllm:num_requests_waiting', type: 'gauge', help: 'Number of requests waiting to be processed.' },
  kvCache: { name: 'vllm:kv_cache_usage_perc', type: 'gauge', help: 'KV-cache usage. 1 means 100 percent usage.' },
  promptTokens: { name: 'vllm:prompt_tokens', type: 'counter', help: 'Number of prefill tokens processed.' },
  generationTokens: { name: 'vllm:generation_tokens', type: 'counter', help: 'Number of generation tokens processed.' },
  requestSuccess: { name: 'vllm:request_success', type: 'counter', help: 'Count of successfully processed requests.' },
  e2e: { name: 'vllm:e2e_request_latency_seconds', type: 'histogram', help: 'Histogram of end to end request latency in seconds.', buckets: REQUEST_SECONDS_BUCKETS },
  ttft: { name: 'vllm:time_to_first_token_seconds', type: 'histogram', help: 'Histogram of time to first token in seconds.', buckets: TTFT_BUCKETS },
  interToken: { name: 'vllm:inter_token_latency_seconds', type: 'histogram', help: 'Histogram of inter-token latency in seconds.', buckets: INTER_TOKEN_BUCKETS },
  queueTime: { name: 'vllm:request_queue_time_seconds', type: 'histogram', help: 'Histogram of time spent in WAITING phase for request.', buckets: REQUEST_SECONDS_BUCKETS },
  requestPromptTokens: { name: 'vllm:request_prompt_tokens', type: 'histogram', help: 'Number of prefill tokens processed.', buckets: TOKEN_BUCKETS },
  requestGenerationTokens: { name: 'vllm:request_generation_tokens', type: 'histogram', help: 'Number of generation tokens processed.', buckets: TOKEN_BUCKETS },
} as const satisfies Record<string, Family>;

/**
 * The OpenAI-compatible server's own HTTP metrics: the server-error signal. Checked against the
 * source: vLLM installs prometheus-fastapi-instrumentator with its default instrumentation
 * (`Instrumentator(excluded_handlers=["/metrics", "/health", …]).add().instrument(app)` in
 * `mount_metrics` of vllm/entrypoints/openai/api_server.py up to v0.11, in
 * vllm/entrypoints/serve/instrumentator/metrics.py since), whose `metrics.default()` counts
 * `http_requests_total{handler, method, status}` with `should_group_status_codes=True`, so `status`
 * is `2xx` … `5xx` (trallnag/prometheus-fastapi-instrumentator v8.0.2 metrics.py, middleware.py).
 * `vllm:request_success_total{finished_reason="abort"}` counts client cancellations, which are
 * not server errors.
 * The instrumentator adds no `model_name`: a pod's model comes from joining its vLLM series
 * (withServedModel).
 */
export const HTTP_FAMILIES = {
  requests: { name: 'http_requests', type: 'counter', help: 'Total number of requests by method, status and handler.' },
} as const satisfies Record<string, Family>;
/** The label of `http_requests_total` holding the grouped status code (`2xx`, `4xx`, `5xx`). */
export const HTTP_STATUS_LABEL = 'status';
/** The label of `http_requests_total` holding the route (`/v1/chat/completions`). */
export const HTTP_HANDLER_LABEL = 'handler';
/** The label of `http_requests_total` holding the HTTP method. */
export const HTTP_METHOD_LABEL = 'method';
/** The grouped status of a server error. */
export const SERVER_ERROR_STATUS = '5xx';
/** The route of the OpenAI chat endpoint. */
export const CHAT_COMPLETIONS_HANDLER = '/v1/chat/completions';

export type VllmFamily = keyof typeof VLLM_FAMILIES;
export type VllmHistogram = { [K in VllmFamily]: (typeof VLLM_FAMILIES)[K]['type'] extends 'histogram' ? K : never }[VllmFamily];
export type VllmCounter = { [K in VllmFamily]: (typeof VLLM_FAMILIES)[K]['type'] extends 'counter' ? K : never }[VllmFamily];

/** The sample name of a counter as exposed (`vllm:request_success_total`). */
export function counterName(counter: VllmCounter): string {
  return `${VLLM_FAMILIES[counter].name}_total`;
}

/** A PromQL label matcher: `{namespace="x",model_name="y"}` from ordered pairs; empty pairs give `""`. */
export function matcher(labels: Readonly<Record<string, string>>): string {
  const pairs = Object.entries(labels).map(([name, value]) => `${name}="${value}"`);
  return pairs.length > 0 ? `{${pairs.join(',')}}` : '';
}

/** `sum by (…) (rate(<counter>_total{…}[window]))`; `by` empty sums everything. */
export function rateQuery(counter: VllmCounter, selector: string, window: string, by: readonly string[] = []): string {
  const rate = `rate(${counterName(counter)}${selector}[${window}])`;
  return by.length > 0 ? `sum by (${by.join(', ')}) (${rate})` : `sum(${rate})`;
}

/** The q-quantile of a histogram over `window`, aggregated over every series the selector matches, split by `by`. */
export function quantileQuery(quantile: number, histogram: VllmHistogram, selector: string, window: string, by: readonly string[] = []): string {
  return `histogram_quantile(${quantile}, sum by (${[...by, 'le'].join(', ')}) (rate(${VLLM_FAMILIES[histogram].name}_bucket${selector}[${window}])))`;
}

/** `handler` values of the OpenAI inference routes (`/v1/chat/completions`, `/v1/completions`, …). */
export const INFERENCE_HANDLER_PATTERN = '/v1/.+';
/** The sample name of the HTTP request counter as exposed. */
export const HTTP_REQUESTS_TOTAL = `${HTTP_FAMILIES.requests.name}_total`;

/** `sum by (…) (rate|increase(http_requests_total{…}[window]))`: the OpenAI server's requests as counted by its HTTP layer. */
export function httpRequestsQuery(fn: 'rate' | 'increase', selector: string, window: string, by: readonly string[] = []): string {
  const inner = `${fn}(${HTTP_REQUESTS_TOTAL}${selector}[${window}])`;
  return by.length > 0 ? `sum by (${by.join(', ')}) (${inner})` : `sum(${inner})`;
}

/**
 * `expression` — series labelled by `namespace` and `pod` but not by model, such as the HTTP
 * counter's or dcgm-exporter's — with each pod's `model_name`, joined on (namespace, pod) from any
 * vLLM series the pod exported in `window`. The right-hand side is `group` (value 1): a join,
 * never a scaling.
 */
export function withServedModel(expression: string, window: string): string {
  return `(${expression}) * on (namespace, pod) group_left (${MODEL_LABEL}) group by (namespace, pod, ${MODEL_LABEL}) (last_over_time(${VLLM_FAMILIES.running.name}[${window}]))`;
}

/** Server errors ÷ all requests of the OpenAI server over `window` (5xx of `http_requests_total`), by `by` (which may include `model_name`). */
export function serverErrorRatioQuery(window: string, by: readonly string[]): string {
  const rate = (selector: string) => `sum by (${by.join(', ')}) (${withServedModel(`rate(${HTTP_REQUESTS_TOTAL}${selector}[${window}])`, window)})`;
  const all = rate('');
  return `(${rate(matcher({ [HTTP_STATUS_LABEL]: SERVER_ERROR_STATUS }))} or ${all} * 0) / ${all}`;
}

/** Observations around one value, spread evenly within ±`spread` of it, making up `weight` of them. */
export interface ObservedMass {
  readonly seconds: number;
  readonly weight: number;
}

/**
 * What `histogram_quantile(quantile, …)` reports for observations spread evenly within ±`spread`
 * (default ±20 %) around `seconds` — or around each of several masses: the bucket counts such
 * observations fill, interpolated as Prometheus does. A prediction is compared with an observed p95
 * as Prometheus would report it, continuous in `seconds`, unlike a single value's bucket.
 */
export function reportedQuantile(quantile: number, seconds: number | readonly ObservedMass[], buckets: readonly number[], spread = 0.2): number {
  const masses = typeof seconds === 'number' ? [{ seconds, weight: 1 }] : seconds.filter((mass) => mass.weight > 0);
  const total = masses.reduce((sum, mass) => sum + mass.weight, 0);
  const below = (bound: number) =>
    masses.reduce((sum, mass) => {
      const low = mass.seconds * (1 - spread);
      const high = mass.seconds * (1 + spread);
      const share = high <= low ? (mass.seconds <= bound ? 1 : 0) : Math.min(1, Math.max(0, (bound - low) / (high - low)));
      return sum + (mass.weight * share) / total;
    }, 0);
  let lower = 0;
  for (const bound of buckets) {
    const share = below(bound) - below(lower);
    if (below(bound) >= quantile && share > 0) return lower + ((bound - lower) * (quantile - below(lower))) / share;
    lower = bound;
  }
  return buckets[buckets.length - 1]!;
}
