/**
 * observe: what Prometheus says about one deployment over a window — vLLM's own
 * metrics, GPU utilisation, replicas. Each signal prefers the recording rule the
 * Kubernetes output defines (cheap, already aggregated) and falls back to the raw
 * expression when the rule has no data yet (a fresh install, backfilled data).
 */
import type { PrometheusClient } from '../prometheus/client.ts';

/** Which deployment: its namespace and served model name. */
export interface DeploymentTarget {
  readonly namespace: string;
  readonly model: string;
}

/** Signals of one deployment over a window; `undefined` where Prometheus has no data. */
export interface Observation {
  /** Completed requests per second. */
  readonly requestsPerSecond?: number;
  /** Aborted ÷ finished requests. */
  readonly errorRatio?: number;
  readonly e2eP95Seconds?: number;
  readonly ttftP95Seconds?: number;
  readonly interTokenP95Seconds?: number;
  /** Output tokens per second. */
  readonly generationTokensPerSecond?: number;
  /** Prompt tokens per second. */
  readonly promptTokensPerSecond?: number;
  /** Mean prompt and output length per request, tokens. */
  readonly meanPromptTokens?: number;
  readonly meanOutputTokens?: number;
  /** Mean KV-cache usage (0–1). */
  readonly kvCacheUsage?: number;
  /** Mean waiting requests across the deployment. */
  readonly waitingRequests?: number;
  /** Mean GPU utilisation, percent. */
  readonly gpuUtilizationPct?: number;
  /** Mean serving replicas. */
  readonly replicas?: number;
  /** Peak request rate of the window (per-minute resolution). */
  readonly peakRequestsPerSecond?: number;
}

/** The window a query averages over, as a PromQL duration (`1h`, `30m`). */
export type Window = string;

function selector(target: DeploymentTarget, extra = ''): string {
  return `{namespace="${target.namespace}",model_name="${target.model}"${extra}}`;
}

/** The PromQL of every signal: the raw expression over the window (recording rules are tried first where they exist). */
export function signalQueries(target: DeploymentTarget, window: Window): Record<keyof Observation, string> {
  const sel = selector(target);
  const quantile = (histogram: string) => `histogram_quantile(0.95, sum by (le) (rate(vllm:${histogram}_bucket${sel}[${window}])))`;
  const rate = (counter: string, extra = '') => `sum(rate(vllm:${counter}${selector(target, extra)}[${window}]))`;
  return {
    requestsPerSecond: rate('request_success_total'),
    errorRatio: `${rate('request_success_total', ',finished_reason="abort"')} / ${rate('request_success_total')}`,
    e2eP95Seconds: quantile('e2e_request_latency_seconds'),
    ttftP95Seconds: quantile('time_to_first_token_seconds'),
    interTokenP95Seconds: quantile('inter_token_latency_seconds'),
    generationTokensPerSecond: rate('generation_tokens_total'),
    promptTokensPerSecond: rate('prompt_tokens_total'),
    meanPromptTokens: `${rate('request_prompt_tokens_sum')} / ${rate('request_prompt_tokens_count')}`,
    meanOutputTokens: `${rate('request_generation_tokens_sum')} / ${rate('request_generation_tokens_count')}`,
    kvCacheUsage: `avg(avg_over_time(vllm:kv_cache_usage_perc${sel}[${window}]))`,
    waitingRequests: `sum(avg_over_time(vllm:num_requests_waiting${sel}[${window}]))`,
    gpuUtilizationPct: `avg(avg_over_time(DCGM_FI_DEV_GPU_UTIL{namespace="${target.namespace}",pod=~"${target.model}-.*"}[${window}]))`,
    // kube-state-metrics' view, not a count of pod series (a gone pod's series lingers for the 5-minute lookback).
    replicas: `avg(avg_over_time(kube_deployment_status_replicas{namespace="${target.namespace}",deployment="${target.model}"}[${window}]))`,
    peakRequestsPerSecond: `max_over_time(${rate('request_success_total').replace(`[${window}]`, '[5m]')}[${window}:1m])`,
  };
}

/** Recording rules (see src/synth/kubernetes/prometheus-rules.ts) that answer a signal over the 5-minute window. */
function recordedQuery(target: DeploymentTarget, signal: keyof Observation): string | undefined {
  const sel = selector(target);
  const recorded: Partial<Record<keyof Observation, string>> = {
    requestsPerSecond: `llmops:vllm_requests:rate5m${sel}`,
    errorRatio: `llmops:vllm_request_errors:ratio_rate5m${sel}`,
    e2eP95Seconds: `llmops:vllm_e2e_request_latency_seconds:p95_5m${sel}`,
    ttftP95Seconds: `llmops:vllm_time_to_first_token_seconds:p95_5m${sel}`,
    interTokenP95Seconds: `llmops:vllm_inter_token_latency_seconds:p95_5m${sel}`,
  };
  return recorded[signal];
}

/** Reads every signal of a deployment at `time` (unix seconds; default now). */
export async function observe(client: PrometheusClient, target: DeploymentTarget, window: Window, time?: number): Promise<Observation> {
  const queries = signalQueries(target, window);
  const entries = await Promise.all(
    (Object.keys(queries) as (keyof Observation)[]).map(async (signal) => {
      // The 5-minute recording rules answer "now" questions only; a longer window reads raw series.
      const recorded = window === '5m' ? recordedQuery(target, signal) : undefined;
      const fromRule = recorded ? await client.instant(recorded, time) : [];
      const samples = fromRule.length > 0 ? fromRule : await client.instant(queries[signal], time);
      const value = samples[0]?.value;
      return [signal, value !== undefined && Number.isFinite(value) ? value : undefined] as const;
    }),
  );
  return Object.fromEntries(entries) as Observation;
}
