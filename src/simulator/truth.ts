/**
 * The world's true performance for a running deployment, as a benchmark would
 * record it: the scenario's measured table where it gives one, otherwise the
 * serving model's sweep for exactly the flags the manifest renders, reshaped by
 * the scenario. Only the simulator reads it; the optimizer sees Prometheus.
 */
import { benchmarkCurve, reshapeCurve, type BenchmarkCurve } from '../performance/curve.ts';
import { concurrencyLimit, kvCacheTokens, startsUp, type Lengths, type OperatingPoint } from '../performance/serving-model.ts';
import { replicaSetup, type ModelFacts } from '../performance/setup.ts';
import type { RunningDeployment } from './manifests.ts';
import { GpuTruth, type ModelTruth, type TruthTable } from './scenario.ts';

/** The serving model's facts of a scenario's model. */
export function truthFacts(truth: ModelTruth): ModelFacts {
  return {
    parametersBillions: truth.parametersBillions,
    bytesPerParameter: truth.bytesPerParameter,
    kvBytesPerToken: truth.kvBytesPerToken,
    layers: truth.layers ?? Math.round(16 * Math.cbrt(truth.parametersBillions)),
    contextLengthTokens: truth.contextLengthTokens,
  };
}

/** A measured table as a curve at a deployment's lengths (TTFT scaled by prompt length; throughput from Little's law). */
function tableCurve(table: TruthTable, lengths: Lengths, maxConcurrency: number, kvTokens: number): BenchmarkCurve {
  const context = lengths.promptTokens + lengths.outputTokens / 2;
  const measured = [...table.points].sort((a, b) => a.concurrency - b.concurrency);
  const limit = Math.max(1, Math.min(maxConcurrency, measured[measured.length - 1]!.concurrency));
  const points: OperatingPoint[] = measured
    .filter((point) => point.concurrency <= limit)
    .map((point) => {
      const ttftSeconds = (point.ttftMs / 1000) * (lengths.promptTokens / table.promptTokens);
      const tpotSeconds = point.tpotMs / 1000;
      const requestsPerSecond = point.concurrency / (ttftSeconds + lengths.outputTokens * tpotSeconds);
      return {
        concurrency: point.concurrency,
        running: point.concurrency,
        waiting: 0,
        requestsPerSecond,
        outputTokensPerSecond: requestsPerSecond * lengths.outputTokens,
        ttftSeconds,
        tpotSeconds,
        interTokenP95Seconds: (point.interTokenP95Ms ?? point.tpotMs) / 1000,
        // A measured p95 above the TPOT: one gap in ten that long (the rest shorter, to keep the mean).
        longGapSeconds: (point.interTokenP95Ms ?? point.tpotMs) / 1000,
        longGapShare: point.interTokenP95Ms !== undefined && point.interTokenP95Ms > point.tpotMs ? 0.1 : 0,
        prefillShare: 0,
        kvCacheUsage: Math.min(1, (point.concurrency * context) / Math.max(1, kvTokens)),
      };
    });
  return { lengths, maxConcurrency: points[points.length - 1]!.concurrency, points };
}

/** The true sweep of one replica of `running` at these lengths; undefined when vLLM would not start (the KV cache cannot hold one `--max-model-len` sequence). */
export function truthCurve(running: RunningDeployment, truth: ModelTruth, lengths: Lengths): BenchmarkCurve | undefined {
  const setup = replicaSetup(truthFacts(truth), running.gpuType, running.gpuCount, running.engineArgs);
  if (!startsUp(setup)) return undefined;
  const gpu = truth.gpus[running.gpuType] ?? GpuTruth.parse({});
  if (gpu.table && gpu.table.gpuCount === setup.gpuCount) return tableCurve(gpu.table, lengths, concurrencyLimit(setup, lengths), kvCacheTokens(setup));
  const scaling = gpu.tensorParallelEfficiency ** Math.log2(setup.gpuCount);
  return reshapeCurve(benchmarkCurve(setup, lengths), { speed: gpu.speed * scaling, knee: gpu.knee, prefillSpeed: gpu.prefillSpeed });
}
