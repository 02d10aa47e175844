/**
 * A simulation scenario: traffic over time per deployment, request lengths (and a
 * shift of them), injected server errors and client cancellations, and the truth:
 * how each model really performs on each GPU type, as a benchmark would record it
 * (a concurrency sweep), hidden from the optimizer — only the simulator reads it.
 * By default the truth is the sweep the serving model predicts (itself held to
 * published measurements); a scenario reshapes it (a GPU slower than its
 * datasheet, an earlier or later saturation knee, slower prefill, worse
 * tensor-parallel scaling) or gives a measured table.
 */
import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import { z } from 'zod';
import { GpuType } from '../catalogue/gpus.ts';
import { DnsLabel } from '../declarations/dns-label.ts';
import { validate, type DeclarationIssue } from '../declarations/issues.ts';

/** Requests per second over time. */
export const Traffic = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('steady'), requestsPerSecond: z.number().min(0) }),
  z.strictObject({
    kind: z.literal('diurnal'),
    /** Trough, requests/s. */
    baseRequestsPerSecond: z.number().min(0),
    /** Peak, requests/s. */
    peakRequestsPerSecond: z.number().min(0),
    /** Period of one day, minutes (compress it to simulate days in hours). Default: 1440. */
    periodMinutes: z.number().positive().default(1440),
    /** Minute of the first peak. Default: a quarter period. */
    peakAtMinute: z.number().min(0).optional(),
  }),
  z.strictObject({
    kind: z.literal('steps'),
    /** Requests/s from the start until the first step. */
    requestsPerSecond: z.number().min(0),
    /** From `atMinute` on, `requestsPerSecond` (ascending minutes). */
    steps: z.array(z.strictObject({ atMinute: z.number().min(0), requestsPerSecond: z.number().min(0) })).min(1),
  }),
  z.strictObject({
    kind: z.literal('bursts'),
    baseRequestsPerSecond: z.number().min(0),
    burstRequestsPerSecond: z.number().min(0),
    /** A burst starts every this many minutes. */
    everyMinutes: z.number().positive(),
    /** Each burst lasts this long, minutes. */
    burstMinutes: z.number().positive(),
  }),
]);
export type Traffic = z.infer<typeof Traffic>;

/** A token-length distribution (log-normal with this mean and coefficient of variation). */
export const Lengths = z.strictObject({
  /** Mean tokens. */
  mean: z.number().positive(),
  /** Standard deviation ÷ mean. Default: 0.5. */
  cv: z.number().min(0).default(0.5),
});
export type Lengths = z.infer<typeof Lengths>;

export const DeploymentScenario = z.strictObject({
  traffic: Traffic,
  promptTokens: Lengths,
  outputTokens: Lengths,
  /** From this minute on, lengths follow other distributions (drift). */
  shift: z.strictObject({ atMinute: z.number().min(0), promptTokens: Lengths, outputTokens: Lengths }).optional(),
  /** Share of requests the server fails (HTTP 5xx, `http_requests_total{status="5xx"}`). Default: 0.001. */
  errorRatio: z.number().min(0).max(1).default(0.001),
  /** A window with a higher server-error share. */
  errorSpike: z.strictObject({ fromMinute: z.number().min(0), toMinute: z.number().min(0), errorRatio: z.number().min(0).max(1) }).optional(),
  /** Share of requests the client cancels (`vllm:request_success_total{finished_reason="abort"}`; not a server error). Default: 0.002. */
  cancelRatio: z.number().min(0).max(1).default(0.002),
  /**
   * Seconds a client waits before it gives up (the OpenAI Python client's default: 600): requests
   * that would wait longer in the queue are abandoned, and vLLM aborts them. Default: 600.
   */
  clientTimeoutSeconds: z.number().positive().default(600),
  /** From this minute on, the Argo Rollouts controller reports the rollout aborted (`rollout_info{phase="Abort"}`: its canary analysis failed). Rollouts only. */
  rolloutDegradedFromMinute: z.number().min(0).optional(),
});
export type DeploymentScenario = z.infer<typeof DeploymentScenario>;

/** A measured concurrency sweep of one replica (`vllm bench serve --max-concurrency N`), the truth where given. */
export const TruthTable = z.strictObject({
  /** GPUs of the replica the sweep was measured on; the table applies to deployments of that many. Default: 1. */
  gpuCount: z.int().min(1).default(1),
  /** Request lengths of the sweep; TTFT scales with a deployment's prompt length relative to these. */
  promptTokens: z.int().positive(),
  outputTokens: z.int().positive(),
  points: z
    .array(
      z.strictObject({
        concurrency: z.number().positive(),
        /** Mean time to first token, ms. */
        ttftMs: z.number().positive(),
        /** Mean time per output token, ms. */
        tpotMs: z.number().positive(),
        /** 95th percentile inter-token latency, ms. Default: the TPOT. */
        interTokenP95Ms: z.number().positive().optional(),
      }),
    )
    .min(2),
});
export type TruthTable = z.infer<typeof TruthTable>;

/** How a model really performs on a GPU type, relative to the serving model's sweep (1 = as predicted). */
export const GpuTruth = z.strictObject({
  /** Every time scaled by 1 ÷ speed: a GPU at half its datasheet is 0.5. Default: 1. */
  speed: z.number().positive().default(1),
  /** Stretch of the concurrency axis of the latencies: above 1 the saturation knee comes later (faster at high batch), below 1 earlier. Default: 1. */
  knee: z.number().positive().default(1),
  /** Prefill speed (TTFT, and the decode time prefill takes) relative to the prediction. Default: 1. */
  prefillSpeed: z.number().positive().default(1),
  /** Speed kept per doubling of tensor-parallel GPUs, beyond the predicted all-reduce cost. Default: 1. */
  tensorParallelEfficiency: z.number().positive().max(1).default(1),
  /** A measured sweep, used instead of the prediction for replicas of its GPU count. */
  table: TruthTable.optional(),
});
export type GpuTruth = z.infer<typeof GpuTruth>;

export const ModelTruth = z.strictObject({
  /** Parameters, billions. */
  parametersBillions: z.number().positive(),
  /** KV-cache bytes per token at the model's dtype (an fp8 `--kv-cache-dtype` halves it). */
  kvBytesPerToken: z.int().positive(),
  /** Bytes per weight at the model's dtype. Default: 2 (bf16); `--quantization` overrides it. */
  bytesPerParameter: z.number().positive().default(2),
  /** Transformer layers. Default: estimated from the size (16 × ∛parameters in billions, as Llama's). */
  layers: z.int().positive().optional(),
  /** The model's context length (vLLM's default `--max-model-len`). Default: 131072. */
  contextLengthTokens: z.int().positive().default(131072),
  /** Per GPU type, how the world departs from the serving model. Default: not at all. */
  gpus: z.partialRecord(GpuType, GpuTruth).default({}),
});
export type ModelTruth = z.infer<typeof ModelTruth>;

export const Scenario = z.strictObject({
  /** Simulated minutes. */
  durationMinutes: z.number().positive(),
  /** Seconds between samples (Prometheus scrape interval). Default: 15. */
  stepSeconds: z.int().min(1).default(15),
  /** Random seed (same seed, same metrics). Default: 1. */
  seed: z.int().default(1),
  /**
   * Traffic before minute 0, so that Prometheus holds the history a bot needs before it shrinks anything (a policy's
   * seasonality, a day by default): the timeline continued backwards (steady and periodic traffic as it runs, steps
   * at their first rate, no injected errors), simulated in coarser steps. Backfill only (`llmops simulate --tsdb`).
   * Default: none.
   */
  history: z
    .strictObject({
      /** Hours before minute 0. */
      hours: z
        .number()
        .positive()
        .max(24 * 35),
      /** Seconds between its samples: at most half of Prometheus' 5-minute rate window. Default: 120. */
      stepSeconds: z.int().min(1).max(150).default(120),
    })
    .optional(),
  /** Traffic per deployment, keyed `<environment>/<model>`. */
  deployments: z.record(z.string(), DeploymentScenario),
  /** The hidden truth per model. */
  truth: z.record(DnsLabel, ModelTruth),
});
export type Scenario = z.infer<typeof Scenario>;

/** Loads and validates a scenario file (YAML or JSON). */
export async function loadScenario(file: string): Promise<{ ok: true; scenario: Scenario } | { ok: false; issues: DeclarationIssue[] }> {
  let raw: unknown;
  try {
    raw = parse(await readFile(file, 'utf8'));
  } catch (error) {
    return { ok: false, issues: [{ file, path: '', message: `could not be read: ${(error as Error).message}` }] };
  }
  const result = validate(Scenario, raw, file);
  return result.ok ? { ok: true, scenario: result.value } : result;
}

/** Requests/s of a traffic shape at a simulated minute. */
export function arrivalRate(traffic: Traffic, minute: number): number {
  switch (traffic.kind) {
    case 'steady':
      return traffic.requestsPerSecond;
    case 'diurnal': {
      const peakAt = traffic.peakAtMinute ?? traffic.periodMinutes / 4;
      const phase = (2 * Math.PI * (minute - peakAt)) / traffic.periodMinutes;
      return traffic.baseRequestsPerSecond + ((traffic.peakRequestsPerSecond - traffic.baseRequestsPerSecond) * (1 + Math.cos(phase))) / 2;
    }
    case 'bursts':
      // Before minute 0 too (a history): the remainder of a negative minute is taken into [0, everyMinutes).
      return ((minute % traffic.everyMinutes) + traffic.everyMinutes) % traffic.everyMinutes < traffic.burstMinutes ? traffic.burstRequestsPerSecond : traffic.baseRequestsPerSecond;
    case 'steps':
      return traffic.steps.filter((step) => minute >= step.atMinute).reduce((_rate, step) => step.requestsPerSecond, traffic.requestsPerSecond);
  }
}
