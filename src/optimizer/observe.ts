/**
 * observe: what Prometheus says about every deployment over a window — vLLM's
 * own metrics, the OpenAI server's errors, GPU utilisation from dcgm-exporter,
 * replicas from the exporter a cluster has for the workload's kind (Argo
 * Rollouts for a Rollout, kube-state-metrics for a Deployment), and the series
 * orient needs (latency per minute, request-length histograms now and before).
 * One query per signal for the whole fleet (`by (namespace, model_name)`), so a
 * thousand deployments cost the same number of queries as one. Over the
 * 5-minute window the latency and rate signals prefer the recording rules the
 * Kubernetes output defines.
 */
import { ARGO_ROLLOUTS_FAMILIES, DCGM_FAMILIES, KUBE_STATE_FAMILIES } from '../prometheus/exporters.ts';
import type { InstantSample, PrometheusClient } from '../prometheus/client.ts';
import { FINISHED_REASON_LABEL, MODEL_LABEL, quantileQuery, rateQuery, serverErrorRatioQuery, VLLM_FAMILIES, withServedModel, type VllmCounter, type VllmHistogram } from '../vllm/metrics.ts';

/** Which deployment: its namespace and served model name. */
export interface DeploymentTarget {
  readonly namespace: string;
  readonly model: string;
}

/** Scalar signals of one deployment over the window; `undefined` where Prometheus has no data. */
export interface Signals {
  /** Finished requests per second (every reason, client cancellations and time-outs included). */
  readonly requestsPerSecond?: number;
  /** Requests per second served to the end (`finished_reason` stop or length): what the replicas' capacity delivered. */
  readonly servedRequestsPerSecond?: number;
  /** Server errors (HTTP 5xx) ÷ all requests of the OpenAI server; client cancellations are not errors. */
  readonly errorRatio?: number;
  readonly e2eP95Seconds?: number;
  readonly ttftP95Seconds?: number;
  readonly interTokenP95Seconds?: number;
  /** Output tokens per second. */
  readonly generationTokensPerSecond?: number;
  readonly promptTokensPerSecond?: number;
  /** Mean gap between output tokens, seconds (continuous, unlike a p95 read from buckets). */
  readonly meanInterTokenSeconds?: number;
  /** Mean lengths per request, tokens. */
  readonly meanPromptTokens?: number;
  readonly meanOutputTokens?: number;
  /** Mean KV-cache usage (0–1). */
  readonly kvCacheUsage?: number;
  /** Mean waiting requests across the deployment. */
  readonly waitingRequests?: number;
  /** Share of the window's minutes (0–1) in which at least one request waited: a queue that persists, not a spike. */
  readonly queuedShare?: number;
  /** Mean requests the deployment's engines run at once (summed over its pods). */
  readonly runningRequests?: number;
  /** Mean GPU utilisation (dcgm-exporter's, as reported), percent. */
  readonly gpuUtilizationPct?: number;
  /** Mean serving replicas. */
  readonly replicas?: number;
  /** Highest 5-minute request rate in the window. */
  readonly peakRequestsPerSecond?: number;
  /** Highest completion rate per replica over 10 minutes of steady replicas in the window: a lower bound of a replica's capacity (its capacity, when requests were queued). */
  readonly peakCompletionsPerReplica?: number /** Seconds of the peak window Prometheus holds data of the deployment for (minutes with a running-requests sample): how much history a shrink would rest on. */;
  readonly historySeconds?: number;
}

/** Cumulative bucket counts of a length histogram over a period: `le` → requests. */
export type LengthHistogram = ReadonlyMap<number, number>;

/** Everything observed about one deployment. */
export interface Observation extends Signals {
  /** p95 end-to-end latency per minute over the window, oldest first (seconds). */
  readonly e2eP95PerMinute: readonly number[];
  /** Prompt-length histogram of the recent part of the window, and of the part before it. */
  readonly promptLengths: { readonly recent: LengthHistogram; readonly before: LengthHistogram };
  readonly outputLengths: { readonly recent: LengthHistogram; readonly before: LengthHistogram };
}

/** A PromQL duration (`1h`, `30m`). */
export type Window = string;

const BY_LABELS = ['namespace', MODEL_LABEL];
/** Requests the engine finished by generating them to the end (not aborted). */
const SERVED = `{${FINISHED_REASON_LABEL}!="abort"}`;
const BY = BY_LABELS.join(', ');

/** A workload replica count over `window` (`over`: avg_over_time, min_over_time…), its workload-name label (the served model's name) as `model_name`. */
function workloadReplicas(metric: string, nameLabel: string, window: Window, over: string): string {
  return `sum by (${BY}) (label_replace(${over}(${metric}[${window}]), "${MODEL_LABEL}", "$1", "${nameLabel}", "(.*)"))`;
}

/** Available replicas of every workload averaged over `window`, by namespace and model: Rollouts from the Argo Rollouts controller, Deployments from kube-state-metrics. */
function availableReplicas(window: Window, over = 'avg_over_time'): string {
  return `(${workloadReplicas(ARGO_ROLLOUTS_FAMILIES.rolloutReplicasAvailable.name, 'name', window, over)} or ${workloadReplicas(KUBE_STATE_FAMILIES.deploymentReplicasAvailable.name, 'deployment', window, over)})`;
}

/** The fleet-wide PromQL of every scalar signal over a window. */
export function signalQueries(window: Window, peakWindow: Window = window): Record<keyof Signals, string> {
  const rate = (counter: VllmCounter, selector = '') => rateQuery(counter, selector, window, BY_LABELS);
  const quantile = (histogram: VllmHistogram) => quantileQuery(0.95, histogram, '', window, BY_LABELS);
  const finished = `sum by (${BY}) (rate(${VLLM_FAMILIES.requestSuccess.name}_total[5m]))`;
  const meanOf = (histogram: VllmHistogram) => {
    const series = (suffix: string) => `sum by (${BY}) (rate(${VLLM_FAMILIES[histogram].name}_${suffix}[${window}]))`;
    return `${series('sum')} / ${series('count')}`;
  };
  return {
    requestsPerSecond: rate('requestSuccess'),
    servedRequestsPerSecond: rate('requestSuccess', SERVED),
    errorRatio: serverErrorRatioQuery(window, BY_LABELS),
    e2eP95Seconds: quantile('e2e'),
    ttftP95Seconds: quantile('ttft'),
    interTokenP95Seconds: quantile('interToken'),
    generationTokensPerSecond: rate('generationTokens'),
    promptTokensPerSecond: rate('promptTokens'),
    meanInterTokenSeconds: meanOf('interToken'),
    meanPromptTokens: meanOf('requestPromptTokens'),
    meanOutputTokens: meanOf('requestGenerationTokens'),
    kvCacheUsage: `avg by (${BY}) (avg_over_time(${VLLM_FAMILIES.kvCache.name}[${window}]))`,
    // Summed over pods at each minute, then averaged: pods that come and go in the window count only while they exist.
    waitingRequests: `avg_over_time(sum by (${BY}) (${VLLM_FAMILIES.waiting.name})[${window}:1m])`,
    queuedShare: `avg_over_time((sum by (${BY}) (${VLLM_FAMILIES.waiting.name}) >= bool 1)[${window}:1m])`,
    runningRequests: `avg_over_time(sum by (${BY}) (${VLLM_FAMILIES.running.name})[${window}:1m])`,
    // dcgm-exporter labels pods, not models: its own values, given the pod's model by a join.
    gpuUtilizationPct: `avg by (${BY}) (${withServedModel(`avg_over_time(${DCGM_FAMILIES.gpuUtilization.name}[${window}])`, window)})`,
    // Available replicas from the controller that owns the workload (not a count of pod series: a gone pod's series lingers for the lookback).
    replicas: availableReplicas(window),
    // Demand, not throughput: completions plus the growth of the queue (minus its drain), so that an overload is not
    // mistaken for its capacity and a backlog draining after a scale-out is not mistaken for a peak.
    // Completions per replica over 10 minutes in which the replica count did not move (no pod came or went).
    peakCompletionsPerReplica: `max_over_time(((sum by (${BY}) (rate(${VLLM_FAMILIES.requestSuccess.name}_total${SERVED}[10m])) / on (${BY}) (${availableReplicas('10m')} > 0)) and on (${BY}) (${availableReplicas('10m', 'min_over_time')} == on (${BY}) ${availableReplicas('10m', 'max_over_time')}))[${window}:1m])`,
    // The queue's growth is taken on the deployment's total (pods come and go; their own queues are shares of it).
    historySeconds: `count_over_time((sum by (${BY}) (${VLLM_FAMILIES.running.name}))[${peakWindow}:1m]) * 60`,
    peakRequestsPerSecond: `max_over_time(clamp_min(${finished} + (deriv((sum by (${BY}) (${VLLM_FAMILIES.waiting.name}))[5m:30s]) or ${finished} * 0), 0)[${peakWindow}:1m])`,
  };
}

/** Recording rules (src/synth/kubernetes/prometheus-rules.ts) that answer a signal over 5 minutes. */
const RECORDED_5M: Partial<Record<keyof Signals, string>> = {
  requestsPerSecond: 'llmops:vllm_requests:rate5m',
  e2eP95Seconds: 'llmops:vllm_e2e_request_latency_seconds:p95_5m',
  ttftP95Seconds: 'llmops:vllm_time_to_first_token_seconds:p95_5m',
  interTokenP95Seconds: 'llmops:vllm_inter_token_latency_seconds:p95_5m',
};

const keyOf = (labels: Readonly<Record<string, string>>) => `${labels.namespace}/${labels.model_name}`;
export const targetKey = (target: DeploymentTarget) => `${target.namespace}/${target.model}`;

function byTarget(samples: readonly InstantSample[]): Map<string, number> {
  return new Map(samples.filter((sample) => Number.isFinite(sample.value)).map((sample) => [keyOf(sample.labels), sample.value]));
}

function histograms(samples: readonly InstantSample[]): Map<string, Map<number, number>> {
  const out = new Map<string, Map<number, number>>();
  for (const sample of samples) {
    const key = keyOf(sample.labels);
    if (!out.has(key)) out.set(key, new Map());
    out.get(key)!.set(sample.labels.le === '+Inf' ? Infinity : Number(sample.labels.le), sample.value);
  }
  return out;
}

/** Seconds of a PromQL duration. */
export function windowSeconds(window: Window): number {
  const match = /^(\d+)([smhd])$/.exec(window);
  if (!match) throw new Error(`expected a duration such as 30m or 1h (got ${JSON.stringify(window)})`);
  return Number(match[1]) * { s: 1, m: 60, h: 3600, d: 86400 }[match[2] as 's' | 'm' | 'h' | 'd'];
}

/**
 * Observes every target at `time` (unix seconds) over `window`; `recent` is the
 * trailing part compared with what came before it (drift, latency change);
 * `peakWindow` (default: `window`) is how far back the peak request rate looks.
 */
export async function observeFleet(
  client: PrometheusClient,
  targets: readonly DeploymentTarget[],
  options: { window: Window; recent: Window; time: number; peakWindow?: Window },
): Promise<Map<string, Observation>> {
  const { window, recent, time } = options;
  const queries = signalQueries(window, options.peakWindow);
  const signalNames = Object.keys(queries) as (keyof Signals)[];
  const scalar = await Promise.all(
    signalNames.map(async (signal) => {
      const recorded = window === '5m' ? RECORDED_5M[signal] : undefined;
      const fromRule = recorded ? await client.instant(recorded, time) : [];
      return byTarget(fromRule.length > 0 ? fromRule : await client.instant(queries[signal], time));
    }),
  );
  const before = `${windowSeconds(window) - windowSeconds(recent)}s`;
  const lengths = (histogram: string, range: string, offset = '') => client.instant(`sum by (${BY}, le) (increase(vllm:${histogram}_bucket[${range}]${offset}))`, time);
  const [promptRecent, promptBefore, outputRecent, outputBefore, latency] = await Promise.all([
    lengths('request_prompt_tokens', recent),
    lengths('request_prompt_tokens', before, ` offset ${recent}`),
    lengths('request_generation_tokens', recent),
    lengths('request_generation_tokens', before, ` offset ${recent}`),
    client.range(`histogram_quantile(0.95, sum by (${BY}, le) (rate(vllm:e2e_request_latency_seconds_bucket[2m])))`, time - windowSeconds(window) + 120, time, 60),
  ]);
  const promptRecentBy = histograms(promptRecent);
  const promptBeforeBy = histograms(promptBefore);
  const outputRecentBy = histograms(outputRecent);
  const outputBeforeBy = histograms(outputBefore);
  const latencyBy = new Map(latency.map((series) => [keyOf(series.labels), series.points.map(([, value]) => value).filter(Number.isFinite)]));

  return new Map(
    targets.map((target) => {
      const key = targetKey(target);
      const signals = Object.fromEntries(signalNames.map((signal, index) => [signal, scalar[index].get(key)])) as Signals;
      return [
        key,
        {
          ...signals,
          e2eP95PerMinute: latencyBy.get(key) ?? [],
          promptLengths: { recent: promptRecentBy.get(key) ?? new Map(), before: promptBeforeBy.get(key) ?? new Map() },
          outputLengths: { recent: outputRecentBy.get(key) ?? new Map(), before: outputBeforeBy.get(key) ?? new Map() },
        },
      ];
    }),
  );
}
