/**
 * The search: every configuration the policy allows for a deployment, each
 * predicted, priced, checked against the SLOs and the policy's constraints and
 * scored by its objectives; and the Pareto set of the feasible ones.
 */
import type { Quantization } from '../vllm/engine-args.ts';
import type { Constraints } from '../declarations/policy.ts';
import { estimateDeploymentCost } from '../fleet/cost.ts';
import type { FleetDeployment } from '../fleet/fleet.ts';
import { usableGiB, weightsGiB } from '../fleet/memory.ts';
import { knobValue, TUNED_KNOBS } from '../vllm/knobs.ts';
import { predict, replicasFor, type Configuration, type Demand, type Prediction, type PredictionContext } from './predict.ts';
import type { Evaluated } from './recommendation.ts';
import { fitToPools, type ClusterRoom } from './fit.ts';

/** Peak utilisation the minimum replicas may reach (headroom for what the window did not show). */
export const TARGET_PEAK_UTILIZATION = 0.8;
/** Points of improvement a violated soft constraint costs. */
const SOFT_PENALTY_PCT = 5;
/** Points of improvement each unit of added prediction uncertainty costs: of two equal gains, the better-evidenced wins. */
const UNCERTAINTY_PENALTY_PCT = 10;

export interface SearchContext extends PredictionContext {
  readonly deployment: FleetDeployment;
  /** The cluster's node pools and the environment's budget a proposal must fit (absent: not checked). */
  readonly room?: ClusterRoom;
}

function constraintViolations(prediction: Prediction, costPerHourUsd: number, qualityCostPct: number, demand: Demand, constraints: Constraints): string[] {
  const out: string[] = [];
  const over = (value: number, limit: number | undefined, what: string, unit: string) => {
    if (limit !== undefined && value > limit) out.push(`${what} ${value.toFixed(unit === 'ms' ? 0 : 2)} ${unit} > ${limit} ${unit}`);
  };
  over(prediction.ttftP95Seconds * 1000, constraints.maxTtftP95Ms, 'TTFT p95', 'ms');
  over(prediction.e2eP95Seconds * 1000, constraints.maxE2eP95Ms, 'e2e p95', 'ms');
  over(prediction.interTokenP95Seconds * 1000, constraints.maxInterTokenP95Ms, 'inter-token p95', 'ms');
  over(costPerHourUsd, constraints.maxCostPerHourUsd, 'cost', 'USD/h');
  over(qualityCostPct, constraints.maxQualityCostPct, 'quality cost', '%');
  const throughput = prediction.capacityRequestsPerSecond * demand.outputTokens;
  if (constraints.minThroughputTokensPerSecond !== undefined && throughput < constraints.minThroughputTokensPerSecond) {
    out.push(`throughput ${throughput.toFixed(0)} tok/s < ${constraints.minThroughputTokensPerSecond} tok/s`);
  }
  return out;
}

/** Predicts, prices and checks one configuration; `reference` is what improvement is measured against. */
export function evaluate(context: SearchContext, configuration: Configuration, reference?: Evaluated): Evaluated {
  const { deployment, demand } = context;
  const { environment, model, policy } = deployment;
  const prediction = predict(context, configuration);
  const isCurrent = reference === undefined;
  const price = estimateDeploymentCost(
    environment,
    { ...deployment.spec, gpu: { type: configuration.gpuType, count: configuration.gpuCount }, replicas: { min: configuration.replicasMin, max: configuration.replicasMax } },
    { allowSpot: isCurrent || policy.searchSpace.allowSpot },
  );
  const costPerHourUsd = (price?.usdPerHourPerReplica ?? Infinity) * Math.max(1, configuration.replicasMin);
  const qualityCostPct = configuration.quantization ? (model.quantizations[configuration.quantization]?.qualityCostPct ?? 100) : 0;
  const { slos } = environment;
  // The current configuration passed the loader's capacity check; a candidate must fit the pools, or grow them.
  const fit = !isCurrent && price && context.room ? fitToPools(deployment, configuration, context.room) : { poolChanges: [] };
  const violations = [
    ...(price ? [] : [`no node pool of ${environment.name} hosts ${configuration.gpuCount} x ${configuration.gpuType}`]),
    ...(fit.violation ? [fit.violation] : []),
    ...(prediction.startsUp ? [] : [`vLLM would not start: the KV cache of ${configuration.gpuCount} x ${configuration.gpuType} cannot hold one max-model-len sequence`]),
    ...(prediction.overloaded ? [`overloaded at the peak (${demand.peakRequestsPerSecond.toFixed(2)} req/s > ${prediction.capacityRequestsPerSecond.toFixed(2)} req/s)`] : []),
    ...constraintViolations(prediction, costPerHourUsd, qualityCostPct, demand, {
      maxTtftP95Ms: slos.ttftP95Ms,
      maxE2eP95Ms: slos.e2eP95Ms,
      maxInterTokenP95Ms: slos.interTokenP95Ms,
    }),
    ...constraintViolations(prediction, costPerHourUsd, qualityCostPct, demand, policy.constraints.hard),
  ];
  const softViolations = constraintViolations(prediction, costPerHourUsd, qualityCostPct, demand, policy.constraints.soft).length;
  const relative = (before: number, after: number) => (before > 0 && Number.isFinite(before) ? (before - after) / before : 0);
  const weights = policy.objectives;
  const improvementPct = reference
    ? 100 *
        (weights.cost * relative(reference.costPerHourUsd, costPerHourUsd) +
          weights.latency * relative(reference.prediction.e2eP95Seconds, prediction.e2eP95Seconds) +
          weights.quality * ((reference.qualityCostPct - qualityCostPct) / 100) +
          weights.throughput * Math.max(-1, Math.min(1, -relative(reference.prediction.capacityRequestsPerSecond, prediction.capacityRequestsPerSecond)))) -
      SOFT_PENALTY_PCT * softViolations -
      UNCERTAINTY_PENALTY_PCT * Math.max(0, prediction.uncertainty - reference.prediction.uncertainty)
    : 0;
  return {
    configuration,
    prediction,
    costPerHourUsd,
    qualityCostPct,
    machine: price ? `${price.machineType} ${price.capacity}` : 'none',
    feasible: violations.length === 0,
    violations,
    improvementPct,
    ...(fit.poolChanges.length > 0 ? { poolChanges: fit.poolChanges } : {}),
  };
}

/** Minimum replicas for a configuration to carry the peak with headroom, and the maximum above it. */
export function sizeReplicas(context: SearchContext, hardware: Omit<Configuration, 'replicasMin' | 'replicasMax'>): Pick<Configuration, 'replicasMin' | 'replicasMax'> {
  const { deployment, demand, current } = context;
  const bounds = deployment.policy.searchSpace.replicas;
  const needed = replicasFor(context, { ...hardware, replicasMin: 1, replicasMax: 1 }, demand.peakRequestsPerSecond, TARGET_PEAK_UTILIZATION);
  const scaleToZero = deployment.environment.scaleToZero && current.replicasMin === 0;
  const replicasMin = scaleToZero ? 0 : Math.min(bounds.max, Math.max(bounds.min, 1, needed));
  const replicasMax = Math.min(bounds.max, Math.max(replicasMin, 1, Math.ceil(Math.max(needed, replicasMin) * 1.5)));
  return { replicasMin, replicasMax };
}

/**
 * The tuned knobs' settings to try on one piece of hardware: each knob over its grid (within the
 * policy's range) with the others as they are — a knob at a time, so the search stays small.
 */
function knobSettings(context: SearchContext): Pick<Configuration, 'maxNumSeqs' | 'maxNumBatchedTokens'>[] {
  const { deployment, current } = context;
  const space = deployment.policy.searchSpace;
  const base = { maxNumSeqs: current.maxNumSeqs, maxNumBatchedTokens: current.maxNumBatchedTokens };
  const settings = [base];
  for (const knob of TUNED_KNOBS) {
    const range = space[knob.key];
    const currentValue = current[knob.key] ?? knobValue(knob, deployment.engineArgs, current.gpuType);
    for (const value of new Set([range.min, ...knob.grid, range.max])) {
      if (value < range.min || value > range.max || value === currentValue) continue;
      settings.push({ ...base, [knob.key]: value });
    }
  }
  return settings;
}

/** Minimum replicas beyond the capacity-sized `replicasMin`, up to three times it within the policy's bounds. */
function moreReplicas(context: SearchContext, replicasMin: number): number[] {
  const limit = Math.min(context.deployment.policy.searchSpace.replicas.max, 3 * Math.max(1, replicasMin));
  return Array.from({ length: Math.max(0, limit - replicasMin) }, (_, index) => replicasMin + index + 1);
}

/** Hardware and knob combinations the policy allows, each sized for the demand (and, at its knobs as they are, with more replicas). */
export function candidateConfigurations(context: SearchContext): Configuration[] {
  const { deployment, current } = context;
  const { environment, model, policy } = deployment;
  const space = policy.searchSpace;
  const gpuTypes = [...new Set([current.gpuType, ...space.gpuTypes])].filter((type) => environment.nodePools.some((pool) => pool.gpuType === type));
  const quantizations: (Quantization | undefined)[] = [...new Set([current.quantization, undefined, ...space.quantizations.filter((method) => model.quantizations[method])])];
  const knobs = knobSettings(context);
  const out: Configuration[] = [];
  for (const gpuType of gpuTypes) {
    const largestNode = Math.max(...environment.nodePools.filter((pool) => pool.gpuType === gpuType).map((pool) => pool.gpusPerNode));
    for (const gpuCount of [...new Set([current.gpuCount, ...space.gpuCounts])].filter((count) => count <= largestNode)) {
      for (const quantization of quantizations) {
        // FP8 weights need Ampere or newer (Marlin kernels on A100/A10G, native on Ada/Hopper).
        if (quantization === 'fp8' && gpuType === 'nvidia-t4') continue;
        if (weightsGiB(model, quantization) >= usableGiB(gpuType, gpuCount)) continue;
        for (const [index, setting] of knobs.entries()) {
          const hardware = { gpuType, gpuCount, quantization, ...setting };
          const sized = sizeReplicas(context, hardware);
          out.push({ ...hardware, ...sized });
          // Latency can need more replicas than capacity does (less load each: fewer prefill chunks between a sequence's tokens).
          if (index === 0) for (const replicasMin of moreReplicas(context, sized.replicasMin)) out.push({ ...hardware, replicasMin, replicasMax: Math.max(sized.replicasMax, replicasMin) });
        }
      }
    }
  }
  return out;
}

/** The feasible configurations no other feasible one beats on cost, p95 latency and quality cost at once. */
export function paretoSet(evaluated: readonly Evaluated[]): Evaluated[] {
  const feasible = evaluated.filter((candidate) => candidate.feasible);
  const dominates = (a: Evaluated, b: Evaluated) =>
    a.costPerHourUsd <= b.costPerHourUsd &&
    a.prediction.e2eP95Seconds <= b.prediction.e2eP95Seconds &&
    a.qualityCostPct <= b.qualityCostPct &&
    (a.costPerHourUsd < b.costPerHourUsd || a.prediction.e2eP95Seconds < b.prediction.e2eP95Seconds || a.qualityCostPct < b.qualityCostPct);
  return feasible
    .filter((candidate) => !feasible.some((other) => dominates(other, candidate)))
    .sort((a, b) => a.costPerHourUsd - b.costPerHourUsd || a.prediction.e2eP95Seconds - b.prediction.e2eP95Seconds);
}
