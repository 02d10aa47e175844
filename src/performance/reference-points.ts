/**
 * Published measurements the serving model is held to (reference-points.json):
 * each with its source, setup and value, and the model's prediction for the same
 * setup. The reference-point test and the benchmark table both read them here.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { GpuType } from '../catalogue/gpus.ts';
import { EngineArgs } from '../vllm/engine-args.ts';
import { benchmarkCurve, pointOnCurve } from './curve.ts';
import { operatingPoint, type OperatingPoint } from './serving-model.ts';
import { replicaSetup } from './setup.ts';

const ReferenceModel = z.strictObject({
  name: z.string(),
  parametersBillions: z.number().positive(),
  layers: z.int().positive(),
  /** KV heads × head dimension. */
  kvDimension: z.int().positive(),
  contextLengthTokens: z.int().positive(),
});

const Source = z.strictObject({ title: z.string(), url: z.url(), engine: z.string() });

export const ReferencePoint = z.strictObject({
  id: z.string(),
  source: z.string(),
  model: z.string(),
  gpuType: GpuType,
  gpuCount: z.int().positive(),
  /** vLLM flags of the run (those the write-up names; vLLM's defaults for the rest). */
  engineArgs: EngineArgs,
  promptTokens: z.int().positive(),
  outputTokens: z.int().positive(),
  /** Requests in flight; `max`: requests at an infinite rate (the engine runs as many as its KV cache holds). */
  concurrency: z.union([z.int().positive(), z.literal('max')]),
  metric: z.enum(['tpotMs', 'ttftMs', 'outputTokensPerSecond']),
  value: z.number().positive(),
  note: z.string().optional(),
  /** Why the point is kept out of the test: it disagrees with the roofline and the other sources. */
  dropped: z.string().optional(),
  /** Measured with another engine than vLLM: the test allows 2x instead of 1.5x. */
  otherEngine: z.string().optional(),
});
export type ReferencePoint = z.infer<typeof ReferencePoint>;

export const ReferenceData = z.strictObject({
  models: z.record(z.string(), ReferenceModel),
  sources: z.record(z.string(), Source),
  points: z.array(ReferencePoint).min(1),
});
export type ReferenceData = z.infer<typeof ReferenceData>;

/** Most a prediction may be off a vLLM measurement, as a ratio either way. */
export const SAME_ENGINE_TOLERANCE = 1.5;
/** Most a prediction may be off a measurement of another engine (NIM, TensorRT-LLM). */
export const OTHER_ENGINE_TOLERANCE = 2;

export function loadReferenceData(): ReferenceData {
  const file = new URL('./reference-points.json', import.meta.url);
  return ReferenceData.parse(JSON.parse(readFileSync(file, 'utf8')));
}

/** The serving model's operating point for a reference point's setup. */
export function predictedPoint(data: ReferenceData, point: ReferencePoint): OperatingPoint {
  const model = data.models[point.model];
  if (!model) throw new Error(`reference point ${point.id}: unknown model ${point.model}`);
  const bytesPerParameter = 2;
  const setup = replicaSetup(
    {
      parametersBillions: model.parametersBillions,
      bytesPerParameter,
      kvBytesPerToken: 2 * model.layers * model.kvDimension * bytesPerParameter,
      layers: model.layers,
      contextLengthTokens: model.contextLengthTokens,
    },
    point.gpuType,
    point.gpuCount,
    point.engineArgs,
  );
  const lengths = { promptTokens: point.promptTokens, outputTokens: point.outputTokens };
  if (point.concurrency === 'max') {
    const curve = benchmarkCurve(setup, lengths);
    return pointOnCurve(curve, curve.maxConcurrency);
  }
  return operatingPoint(setup, point.concurrency, lengths);
}

/** The predicted value of a reference point's metric. */
export function predictedValue(data: ReferenceData, point: ReferencePoint): number {
  const predicted = predictedPoint(data, point);
  switch (point.metric) {
    case 'tpotMs':
      return predicted.tpotSeconds * 1000;
    case 'ttftMs':
      return predicted.ttftSeconds * 1000;
    case 'outputTokensPerSecond':
      return predicted.outputTokensPerSecond;
  }
}

/** Allowed ratio for a point. */
export const toleranceOf = (point: ReferencePoint) => (point.otherEngine ? OTHER_ENGINE_TOLERANCE : SAME_ENGINE_TOLERANCE);
