/**
 * Predictions for a configuration: the physics prior (src/performance) scaled by
 * calibration factors learned from what the current configuration is observed to
 * do — the ratio of observed p95 to the prior's prediction at the observed load.
 */
import type { GpuType } from '../catalogue/gpus.ts';
import { DEFAULT_GPU_MEMORY_UTILIZATION, DTYPE_BYTES, QUANTIZATION_BYTES_PER_PARAMETER, type Quantization } from '../vllm/engine-args.ts';
import type { Model } from '../declarations/model.ts';
import { kvBytesPerToken } from '../fleet/memory.ts';
import { DEFAULT_FACTORS, replicaLoad, type ReplicaSetup } from '../performance/serving-model.ts';
import type { Signals } from './observe.ts';

/** A configuration the optimizer can propose for one deployment. */
export interface Configuration {
  readonly gpuType: GpuType;
  readonly gpuCount: number;
  readonly quantization?: Quantization;
  readonly maxNumSeqs: number;
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

/** Observed p95 ÷ prior prediction, per latency; 1 where nothing was observed. */
export interface Calibration {
  readonly interToken: number;
  readonly ttft: number;
  readonly e2e: number;
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
}

export function replicaSetup(model: Model, configuration: Configuration, gpuMemoryUtilization = DEFAULT_GPU_MEMORY_UTILIZATION, kvCacheDtype?: string): ReplicaSetup {
  return {
    gpuType: configuration.gpuType,
    gpuCount: configuration.gpuCount,
    parametersBillions: model.parametersBillions,
    bytesPerParameter: configuration.quantization ? QUANTIZATION_BYTES_PER_PARAMETER[configuration.quantization] : DTYPE_BYTES[model.dtype],
    kvBytesPerToken: kvBytesPerToken(model, kvCacheDtype),
    maxNumSeqs: configuration.maxNumSeqs,
    gpuMemoryUtilization,
  };
}

/** The prior's view of one replica at a per-replica arrival rate. */
function priorAt(setup: ReplicaSetup, arrivalsPerReplica: number, demand: Demand) {
  return replicaLoad(setup, arrivalsPerReplica, demand.promptTokens, demand.outputTokens, DEFAULT_FACTORS);
}

/**
 * Learns how far reality departs from the prior on the current configuration:
 * observed p95 at the observed load ÷ the prior's mean at that load.
 */
export function calibrate(model: Model, current: Configuration, observed: Signals, demand: Demand): Calibration {
  const replicas = Math.max(1, observed.replicas ?? current.replicasMin);
  const prior = priorAt(replicaSetup(model, current), demand.requestsPerSecond / replicas, demand);
  const ratio = (seen: number | undefined, predicted: number) => (seen !== undefined && predicted > 0 && Number.isFinite(seen) ? Math.max(0.25, seen / predicted) : 1);
  const priorE2e = prior.prefillSeconds + demand.outputTokens * prior.timePerOutputTokenSeconds;
  const interToken = ratio(observed.interTokenP95Seconds, prior.timePerOutputTokenSeconds);
  // While requests queue, first-token and end-to-end times measure the queue, not the hardware: learn from decode speed only.
  if ((observed.waitingRequests ?? 0) >= 1) return { interToken, ttft: interToken, e2e: interToken };
  return { interToken, ttft: ratio(observed.ttftP95Seconds, prior.prefillSeconds), e2e: ratio(observed.e2eP95Seconds, priorE2e) };
}

/**
 * Predicts a configuration at the demand's peak on its minimum replicas (KEDA
 * scales on a queue, so the minimum must carry the peak without one).
 * `transfer` (≥ 1) widens calibrated figures for hardware the calibration was not
 * learned on.
 */
export function predict(model: Model, configuration: Configuration, demand: Demand, calibration: Calibration, transfer = 1): Prediction {
  const setup = replicaSetup(model, configuration);
  const replicas = Math.max(1, configuration.replicasMin);
  const load = priorAt(setup, demand.peakRequestsPerSecond / replicas, demand);
  const capacity = load.capacityPerSecond * replicas;
  const interToken = load.timePerOutputTokenSeconds * calibration.interToken * transfer;
  const ttft = load.prefillSeconds * calibration.ttft * transfer;
  const e2e = (load.prefillSeconds + demand.outputTokens * load.timePerOutputTokenSeconds) * calibration.e2e * transfer;
  return {
    e2eP95Seconds: e2e,
    ttftP95Seconds: ttft,
    interTokenP95Seconds: interToken,
    capacityRequestsPerSecond: capacity,
    peakUtilization: capacity > 0 ? demand.peakRequestsPerSecond / capacity : Infinity,
    overloaded: load.overflowPerSecond > 0,
  };
}

/** Replicas a configuration needs to carry `requestsPerSecond` at `targetUtilization`. */
export function replicasFor(model: Model, configuration: Configuration, demand: Demand, requestsPerSecond: number, targetUtilization: number): number {
  const setup = replicaSetup(model, configuration);
  const perReplica = priorAt(setup, 0, demand).capacityPerSecond;
  return perReplica > 0 ? Math.max(1, Math.ceil(requestsPerSecond / (perReplica * targetUtilization))) : Infinity;
}
