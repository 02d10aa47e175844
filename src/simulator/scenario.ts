/**
 * A simulation scenario: traffic over time per deployment, request lengths (and a
 * shift of them), injected errors, and the true performance of each model on each
 * GPU type. The truth is hidden from the optimizer: only the simulator reads it.
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
  /** Share of requests that fail (finished_reason "abort"). Default: 0.001. */
  errorRatio: z.number().min(0).max(1).default(0.001),
  /** A window with a higher error share. */
  errorSpike: z.strictObject({ fromMinute: z.number().min(0), toMinute: z.number().min(0), errorRatio: z.number().min(0).max(1) }).optional(),
  /** From this minute on, the Argo Rollout reports `Degraded` (its canary analysis aborted). Rollouts only. */
  rolloutDegradedFromMinute: z.number().min(0).optional(),
});
export type DeploymentScenario = z.infer<typeof DeploymentScenario>;

/** How a model really performs on a GPU type, relative to the physics defaults (1 = as the physics says). */
export const TruthFactors = z.strictObject({
  bandwidth: z.number().positive().default(1),
  saturation: z.number().positive().default(1),
  perSequence: z.number().positive().default(1),
  prefill: z.number().positive().default(1),
});

export const ModelTruth = z.strictObject({
  /** Parameters, billions. */
  parametersBillions: z.number().positive(),
  /** KV-cache bytes per token at the served KV dtype. */
  kvBytesPerToken: z.int().positive(),
  /** Bytes per weight as served. Default: 2 (bf16); fp8/4-bit flags override it. */
  bytesPerParameter: z.number().positive().default(2),
  /** Per GPU type, how far reality departs from the physics. Default: not at all. */
  gpus: z.partialRecord(GpuType, TruthFactors).default({}),
});
export type ModelTruth = z.infer<typeof ModelTruth>;

export const Scenario = z.strictObject({
  /** Simulated minutes. */
  durationMinutes: z.number().positive(),
  /** Seconds between samples (Prometheus scrape interval). Default: 15. */
  stepSeconds: z.int().min(1).default(15),
  /** Random seed (same seed, same metrics). Default: 1. */
  seed: z.int().default(1),
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
      return minute % traffic.everyMinutes < traffic.burstMinutes ? traffic.burstRequestsPerSecond : traffic.baseRequestsPerSecond;
  }
}
