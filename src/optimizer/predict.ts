/**
 * Predictions for a configuration: the serving model's sweep (src/performance)
 * for exactly the engine arguments the deployment would run, calibrated on what
 * Prometheus shows the current configuration doing (calibration.ts), carried to
 * other configurations by physics (the prior's ratio between them), never
 * better than the roofline allows, and with an uncertainty that grows the
 * further a prediction is from what was observed.
 */
import type { GpuType } from '../catalogue/gpus.ts';
import { benchmarkCurve, servingAt, type BenchmarkCurve } from '../performance/curve.ts';
import { rooflineCapacityCeiling, rooflineTpotFloorSeconds, startsUp, type Lengths, type OperatingPoint, type ReplicaSetup } from '../performance/serving-model.ts';
import { replicaSetup, type ModelFacts } from '../performance/setup.ts';
import type { EngineArgs, Quantization } from '../vllm/engine-args.ts';
import { TUNED_KNOBS } from '../vllm/knobs.ts';
import { INTER_TOKEN_BUCKETS, REQUEST_SECONDS_BUCKETS, reportedQuantile, TTFT_BUCKETS, type ObservedMass } from '../vllm/metrics.ts';
import type { Calibration } from './calibration.ts';

/** A configuration the optimizer can propose for one deployment. */
export interface Configuration {
  readonly gpuType: GpuType;
  readonly gpuCount: number;
  readonly quantization?: Quantization;
  /** `--max-num-seqs`. */
  readonly maxNumSeqs: number;
  /** `--max-num-batched-tokens`; absent: vLLM's default for the GPU type. */
  readonly maxNumBatchedTokens?: number;
  readonly replicasMin: number;
  readonly replicasMax: number;
}

/** Load the configuration must carry: mean and peak request rate, mean lengths. */
export interface Demand {
  readonly requestsPerSecond: number;
  readonly peakRequestsPerSecond: number;
  readonly promptTokens: number;
  readonly outputTokens: number;
}

/** Predicted behaviour of a configuration at the peak of the demand, on its minimum replicas. */
export interface Prediction {
  readonly e2eP95Seconds: number;
  readonly ttftP95Seconds: number;
  readonly interTokenP95Seconds: number;
  /** Requests/s all minimum replicas complete at most. */
  readonly capacityRequestsPerSecond: number;
  /** Peak demand ÷ capacity. */
  readonly peakUtilization: number;
  /** Requests that would queue without bound at the peak. */
  readonly overloaded: boolean;
  /** Relative uncertainty (standard deviation of the log) of the predicted latencies and capacity. */
  readonly uncertainty: number;
  /** The roofline floor bounded the calibrated prediction (it would otherwise have been faster than physics allows). */
  readonly atRooflineFloor: boolean;
  /** vLLM starts with these flags (its KV cache holds one `--max-model-len` sequence). */
  readonly startsUp: boolean;
}

/** What every prediction for one deployment shares. */
export interface PredictionContext {
  readonly facts: ModelFacts;
  /** The deployment's engine arguments as declared (model's overlaid with the deployment's). */
  readonly engineArgs: EngineArgs;
  readonly current: Configuration;
  readonly demand: Demand;
  readonly calibration: Calibration;
}

/** Uncertainty added per unit of log-distance between a predicted and the observed concurrency. */
const EXTRAPOLATION_UNCERTAINTY = 0.05;
/**
 * Uncertainty added for what the observations did not cover, per dimension changed: from `fitted` when the prior
 * described the current configuration closely, up to `unfitted` when it missed by a factor of two or more (or nothing
 * was observed). The prior carries a configuration to another by physics (bytes moved, FLOPs, the datasheets' ratios);
 * published vLLM measurements put its single-configuration error at a factor of 0.8–1.45 (BENCHMARKS.md, "The serving
 * model against published measurements"), and calibration takes out the part the current configuration shares with
 * the next one. What it cannot take out is a departure specific to the current hardware: the further the prior was
 * from what Prometheus showed, the less its ratios are trusted.
 */
export const TRANSFER_UNCERTAINTY = {
  gpuType: { fitted: 0.04, unfitted: 0.15 },
  gpuCount: { fitted: 0.03, unfitted: 0.08 },
  quantization: { fitted: 0.03, unfitted: 0.1 },
  knob: { fitted: 0.01, unfitted: 0.02 },
} as const;
/** A prior miss (largest |ln(observed ÷ prior)| of the calibration's factors) at which transfers count as unfitted. */
const UNFITTED_PRIOR_MISS = Math.log(2);

/** The engine arguments a replica of `configuration` runs: the declared ones with the configuration's hardware, quantization and knobs. */
export function engineArgsOf(declared: EngineArgs, configuration: Configuration): EngineArgs {
  const { quantization: _declared, ...rest } = declared;
  const knobs = Object.fromEntries(TUNED_KNOBS.map((knob) => [knob.flag, configuration[knob.key] ?? declared[knob.flag]]).filter(([, value]) => value !== undefined));
  return { ...rest, ...knobs, 'tensor-parallel-size': configuration.gpuCount, ...(configuration.quantization ? { quantization: configuration.quantization } : {}) };
}

export function setupOf(facts: ModelFacts, declared: EngineArgs, configuration: Configuration): ReplicaSetup {
  return replicaSetup(facts, configuration.gpuType, configuration.gpuCount, engineArgsOf(declared, configuration));
}

const curves = new Map<string, BenchmarkCurve>();
/** Sweeps are pure functions of setup and lengths; a plan over a thousand deployments asks for the same ones often. */
const CURVE_CACHE_LIMIT = 20_000;

/** The prior's sweep of one replica (memoised). */
export function priorCurve(setup: ReplicaSetup, lengths: Lengths): BenchmarkCurve {
  const key = JSON.stringify([setup, lengths.promptTokens, lengths.outputTokens]);
  let curve = curves.get(key);
  if (!curve) {
    if (curves.size >= CURVE_CACHE_LIMIT) curves.clear();
    curve = benchmarkCurve(setup, lengths);
    curves.set(key, curve);
  }
  return curve;
}

export const lengthsOf = (demand: Demand): Lengths => ({ promptTokens: Math.max(1, demand.promptTokens), outputTokens: Math.max(1, demand.outputTokens) });

/**
 * How far a configuration is from the observed one: added uncertainty for each dimension the observations did not
 * cover, scaled by how well the prior fitted the current configuration (`calibration.priorMiss`).
 */
export function transferUncertainty(current: Configuration, configuration: Configuration, calibration: Pick<Calibration, 'priorMiss'>): number {
  const fit = Math.min(1, calibration.priorMiss / UNFITTED_PRIOR_MISS);
  const added = (dimension: keyof typeof TRANSFER_UNCERTAINTY) => TRANSFER_UNCERTAINTY[dimension].fitted + fit * (TRANSFER_UNCERTAINTY[dimension].unfitted - TRANSFER_UNCERTAINTY[dimension].fitted);
  let extra = 0;
  if (configuration.gpuType !== current.gpuType) extra += added('gpuType');
  if (configuration.gpuCount !== current.gpuCount) extra += added('gpuCount');
  if (configuration.quantization !== current.quantization) extra += added('quantization');
  for (const knob of TUNED_KNOBS) if (configuration[knob.key] !== current[knob.key]) extra += added('knob');
  return extra;
}

/**
 * A prediction's relative uncertainty from its evidence: the calibration's (the requests observed), the distance of
 * the extrapolation from the observed concurrency (`runningPerReplica` predicted against the observed one), and
 * what the observations did not cover (transferUncertainty).
 */
export function predictionUncertainty(
  calibration: Pick<Calibration, 'uncertainty' | 'priorMiss' | 'observedRunningPerReplica'>,
  current: Configuration,
  configuration: Configuration,
  runningPerReplica: number,
): number {
  const distance = Math.abs(Math.log((1 + runningPerReplica) / (1 + calibration.observedRunningPerReplica)));
  return calibration.uncertainty + EXTRAPOLATION_UNCERTAINTY * distance + transferUncertainty(current, configuration, calibration);
}

/** How much a request's gaps vary around the short or long step (±10 %, as in the simulator's and a server's jitter). */
export const GAP_SPREAD = 0.1;

/** The inter-token gaps of an operating point as masses (plain decode steps and steps carrying a prefill chunk), scaled by a decode-speed factor. */
export function gapMasses(point: OperatingPoint, factor: number): ObservedMass[] {
  const short = Math.max(0, (point.tpotSeconds - point.longGapShare * point.longGapSeconds) / (1 - point.longGapShare));
  return [
    { seconds: short * factor, weight: 1 - point.longGapShare },
    { seconds: point.longGapSeconds * factor, weight: point.longGapShare },
  ];
}

/** Requests/s one replica of `configuration` completes at most: calibrated, bounded by the roofline, and — for the configuration observed — never below what it was seen completing. */
export function replicaCapacity(context: PredictionContext, configuration: Configuration): number {
  const setup = setupOf(context.facts, context.engineArgs, configuration);
  if (!startsUp(setup)) return 0;
  const lengths = lengthsOf(context.demand);
  const prior = servingAt(priorCurve(setup, lengths), 0).capacityRequestsPerSecond;
  const predicted = Math.min(prior * context.calibration.capacity, rooflineCapacityCeiling(setup, lengths));
  return transferUncertainty(context.current, configuration, context.calibration) === 0 ? Math.max(predicted, context.calibration.observedCapacityLowerBound) : predicted;
}

/**
 * Predicts a configuration at the demand's peak on its minimum replicas (KEDA
 * scales on a queue, so the minimum must carry the peak without one). The world
 * at load a behaves as the prior at a ÷ capacity factor, its latencies scaled by
 * the observed ÷ prior ratios; no latency below the roofline floor.
 */
export function predict(context: PredictionContext, configuration: Configuration): Prediction {
  const { demand, calibration, facts } = context;
  const setup = setupOf(facts, context.engineArgs, configuration);
  const lengths = lengthsOf(demand);
  const replicas = Math.max(1, configuration.replicasMin);
  const perReplica = demand.peakRequestsPerSecond / replicas;
  const capacity = replicaCapacity(context, configuration);
  const startable = startsUp(setup);
  if (!startable || capacity <= 0) {
    return {
      e2eP95Seconds: Infinity,
      ttftP95Seconds: Infinity,
      interTokenP95Seconds: Infinity,
      capacityRequestsPerSecond: 0,
      peakUtilization: Infinity,
      overloaded: true,
      uncertainty: 1,
      atRooflineFloor: false,
      startsUp: startable,
    };
  }
  const state = servingAt(priorCurve(setup, lengths), Math.min(perReplica, capacity) / calibration.capacity);
  const { point } = state;
  // p95s as Prometheus will report them (vLLM's buckets), scaled by what was observed; never below the roofline.
  const floor = rooflineTpotFloorSeconds(setup, Math.max(1, point.running), lengths);
  const reported = (seconds: number, buckets: readonly number[]) => reportedQuantile(0.95, seconds, buckets);
  const calibratedInterToken = reportedQuantile(0.95, gapMasses(point, calibration.interToken), INTER_TOKEN_BUCKETS, GAP_SPREAD) * calibration.interTokenTail;
  const interToken = Math.max(reported(floor, INTER_TOKEN_BUCKETS), calibratedInterToken);
  const ttft = reported(point.ttftSeconds, TTFT_BUCKETS) * calibration.ttft;
  const tpot = Math.max(floor, point.tpotSeconds * calibration.interToken);
  const e2e = Math.max(
    point.ttftSeconds * calibration.ttft + lengths.outputTokens * tpot,
    reported(point.ttftSeconds + lengths.outputTokens * point.tpotSeconds, REQUEST_SECONDS_BUCKETS) * calibration.e2e,
  );
  return {
    e2eP95Seconds: e2e,
    ttftP95Seconds: ttft,
    interTokenP95Seconds: interToken,
    capacityRequestsPerSecond: capacity * replicas,
    peakUtilization: demand.peakRequestsPerSecond / (capacity * replicas),
    overloaded: perReplica > capacity,
    uncertainty: predictionUncertainty(calibration, context.current, configuration, point.running),
    atRooflineFloor: calibratedInterToken < floor,
    startsUp: true,
  };
}

/** Replicas a configuration needs to carry `requestsPerSecond` at `targetUtilization`. */
export function replicasFor(context: PredictionContext, configuration: Configuration, requestsPerSecond: number, targetUtilization: number): number {
  const perReplica = replicaCapacity(context, configuration);
  return perReplica > 0 ? Math.max(1, Math.ceil(requestsPerSecond / (perReplica * targetUtilization))) : Infinity;
}
