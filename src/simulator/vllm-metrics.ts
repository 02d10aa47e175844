/** vLLM's metric families as the simulator exports them: names, types and bucket bounds of a real server (REFERENCE.md). */

export const TTFT_BUCKETS = [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 20, 40, 80, 160, 640, 2560];
export const INTER_TOKEN_BUCKETS = [0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 20, 40, 80];
export const REQUEST_SECONDS_BUCKETS = [0.3, 0.5, 0.8, 1, 1.5, 2, 2.5, 5, 10, 15, 20, 30, 40, 50, 60, 120, 240, 480, 960, 1920, 7680];
export const TOKEN_BUCKETS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000, 100000];

export type FamilyType = 'gauge' | 'counter' | 'histogram';

export interface Family {
  readonly name: string;
  readonly type: FamilyType;
  readonly help: string;
  readonly buckets?: readonly number[];
}

export const FAMILIES = {
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
  gpuUtilization: { name: 'DCGM_FI_DEV_GPU_UTIL', type: 'gauge', help: 'GPU utilization (in %).' },
  replicas: { name: 'kube_deployment_status_replicas', type: 'gauge', help: 'The number of replicas per deployment.' },
  rolloutInfo: { name: 'rollout_info', type: 'gauge', help: 'Information about rollout.' },
} as const satisfies Record<string, Family>;

/** A histogram's state: cumulative-ready bucket counts (non-cumulative here), sum and count. */
export interface HistogramState {
  readonly counts: number[];
  sum: number;
  count: number;
}

export function emptyHistogram(family: Family): HistogramState {
  return { counts: new Array((family.buckets ?? []).length + 1).fill(0), sum: 0, count: 0 };
}

/** Records `weight` observations of `value`. */
export function observe(histogram: HistogramState, buckets: readonly number[], value: number, weight = 1): void {
  let index = buckets.findIndex((bound) => value <= bound);
  if (index < 0) index = buckets.length;
  histogram.counts[index] += weight;
  histogram.sum += value * weight;
  histogram.count += weight;
}
