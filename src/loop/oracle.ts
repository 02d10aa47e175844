/**
 * The benchmark's yardsticks, computed by simulating with the true parameters
 * (what the bot never sees): the oracle — the cheapest configuration in the
 * policy's search space and the environment's node pools, replica bounds
 * included (KEDA scales between them), that meets the SLOs for the whole run,
 * found exhaustively — and the baselines teams run today: static peak
 * provisioning, a queue-length autoscaler alone, and no change at all. Every
 * strategy is accounted on the same spans as the bot.
 */
import { estimateDeploymentCost } from '../fleet/cost.ts';
import { describeConfiguration } from '../optimizer/describe.ts';
import type { FleetDeployment } from '../fleet/fleet.ts';
import { smallestFittingGpuCount } from '../fleet/memory.ts';
import type { Quantization } from '../vllm/engine-args.ts';
import type { RunningDeployment } from '../simulator/manifests.ts';
import type { Scenario } from '../simulator/scenario.ts';
import { FleetSimulation } from '../simulator/simulation.ts';
import { SloMeter } from './slo-meter.ts';

/** One configuration of the measured deployment, as the simulator runs it. */
export interface Candidate {
  readonly gpuType: RunningDeployment['gpuType'];
  readonly gpuCount: number;
  readonly quantization?: string;
  readonly maxNumSeqs: number;
  /** `--max-num-batched-tokens`; absent: as the base deployment runs it. */
  readonly maxNumBatchedTokens?: number;
  readonly minReplicas: number;
  readonly maxReplicas: number;
}

/** Minutes [from, to) of a run. */
export interface Span {
  readonly fromMinute: number;
  readonly toMinute: number;
}

/** What a strategy cost and how often it broke the SLOs over a span. */
export interface SpanResult {
  /** Mean serving replicas × price per replica, USD/hour. */
  readonly costPerHourUsd: number;
  /** Total over the span, USD. */
  readonly totalUsd: number;
  readonly sloViolationMinutes: number;
}

export interface Measured {
  readonly candidate: Candidate;
  readonly wholeRun: SpanResult;
  readonly converged: SpanResult;
}

export const describeCandidate = (candidate: Candidate) =>
  describeConfiguration({ ...candidate, quantization: candidate.quantization as Quantization | undefined, replicasMin: candidate.minReplicas, replicasMax: candidate.maxReplicas });

function running(base: RunningDeployment, candidate: Candidate): RunningDeployment {
  const { quantization: _old, ...engineArgs } = base.engineArgs;
  return {
    ...base,
    gpuType: candidate.gpuType,
    gpuCount: candidate.gpuCount,
    minReplicas: candidate.minReplicas,
    maxReplicas: candidate.maxReplicas,
    engineArgs: {
      ...engineArgs,
      'max-num-seqs': candidate.maxNumSeqs,
      ...(candidate.maxNumBatchedTokens !== undefined ? { 'max-num-batched-tokens': candidate.maxNumBatchedTokens } : {}),
      'tensor-parallel-size': candidate.gpuCount,
      ...(candidate.quantization ? { quantization: candidate.quantization as Quantization } : {}),
    },
  };
}

/** USD/hour of one replica of `candidate` in the deployment's environment (the cheapest node pool that carries it). */
export function replicaPriceUsd(deployment: FleetDeployment, candidate: Candidate): number | undefined {
  return estimateDeploymentCost(deployment.environment, { ...deployment.spec, gpu: { type: candidate.gpuType, count: candidate.gpuCount } })?.usdPerHourPerReplica;
}

/** A span's cost and violations from a meter that saw the whole run. */
export function spanResult(meter: SloMeter, span: Span, usdPerReplicaHour: number): SpanResult {
  const costPerHourUsd = meter.meanReplicas(span.fromMinute, span.toMinute) * usdPerReplicaHour;
  return { costPerHourUsd, totalUsd: (costPerHourUsd * (span.toMinute - span.fromMinute)) / 60, sloViolationMinutes: meter.violationMinutes(span.fromMinute, span.toMinute) };
}

/** Runs `scenario` (the measured deployment only) with `candidate` for `minutes`; the converged span is [convergedFrom, minutes). The same seed for every candidate. */
export function measure(deployment: FleetDeployment, base: RunningDeployment, scenario: Scenario, candidate: Candidate, minutes: number, convergedFrom: number): Measured {
  const simulation = new FleetSimulation([running(base, candidate)], scenario);
  const meter = new SloMeter(deployment.id, deployment.environment.slos);
  const steps = Math.round((minutes * 60) / scenario.stepSeconds);
  for (let step = 0; step < steps; step += 1) {
    simulation.step();
    meter.observe(simulation, scenario.stepSeconds);
  }
  const price = replicaPriceUsd(deployment, candidate) ?? Infinity;
  return { candidate, wholeRun: spanResult(meter, { fromMinute: 0, toMinute: minutes }, price), converged: spanResult(meter, { fromMinute: convergedFrom, toMinute: minutes }, price) };
}

/** Every configuration the policy and the node pools allow that fits in memory, with min replicas 1–`maxReplicas` and max ≥ min. */
export function searchSpace(deployment: FleetDeployment, maxReplicas: number): Candidate[] {
  const { searchSpace: space } = deployment.policy;
  const pools = deployment.environment.nodePools.filter((pool) => space.gpuTypes.includes(pool.gpuType));
  const candidates: Candidate[] = [];
  const seen = new Set<string>();
  const maxNumSeqs = [16, 32, 64, 128, 256, 512, 1024].filter((value) => value >= space.maxNumSeqs.min && value <= space.maxNumSeqs.max);
  const batchedTokens = [undefined, ...[2048, 8192].filter((value) => value >= space.maxNumBatchedTokens.min && value <= space.maxNumBatchedTokens.max)];
  for (const pool of pools) {
    for (const gpuCount of [1, 2, 4, 8].filter((count) => count <= pool.gpusPerNode)) {
      for (const quantization of [undefined, ...space.quantizations]) {
        const smallest = smallestFittingGpuCount(deployment.model, pool.gpuType, quantization as Quantization | undefined);
        if (smallest === undefined || smallest > gpuCount) continue;
        for (const seqs of maxNumSeqs) {
          for (const tokens of batchedTokens) {
            for (let min = Math.max(1, space.replicas.min); min <= Math.min(maxReplicas, space.replicas.max); min += 1) {
              for (const max of [min, min + 1, min + 2, maxReplicas].filter((value, index, all) => value <= Math.min(maxReplicas, space.replicas.max) && all.indexOf(value) === index)) {
                const candidate: Candidate = { gpuType: pool.gpuType, gpuCount, quantization, maxNumSeqs: seqs, maxNumBatchedTokens: tokens, minReplicas: min, maxReplicas: max };
                const key = JSON.stringify(candidate);
                if (!seen.has(key)) candidates.push(candidate);
                seen.add(key);
              }
            }
          }
        }
      }
    }
  }
  return candidates;
}

/**
 * The cheapest candidate over the whole run with no SLO-violation minute in it.
 * Candidates are tried by their cost floor (min replicas × price); the search
 * stops when no untried candidate can be cheaper than the best found.
 */
export function oracle(deployment: FleetDeployment, base: RunningDeployment, scenario: Scenario, minutes: number, convergedFrom: number, maxReplicas = 8): { best?: Measured; simulated: number } {
  const floors = searchSpace(deployment, maxReplicas)
    .map((candidate) => ({ candidate, floor: candidate.minReplicas * (replicaPriceUsd(deployment, candidate) ?? Infinity) }))
    .filter((entry) => Number.isFinite(entry.floor))
    .sort((a, b) => a.floor - b.floor);
  let best: Measured | undefined;
  let simulated = 0;
  for (const { candidate, floor } of floors) {
    if (best && floor >= best.wholeRun.costPerHourUsd) break;
    const measured = measure(deployment, base, scenario, candidate, minutes, convergedFrom);
    simulated += 1;
    if (measured.wholeRun.sloViolationMinutes === 0 && (!best || measured.wholeRun.costPerHourUsd < best.wholeRun.costPerHourUsd)) best = measured;
  }
  return { best, simulated };
}

/** Static peak provisioning on the declared hardware: the fewest fixed replicas with no violation minute over the whole run. */
export function staticPeak(deployment: FleetDeployment, base: RunningDeployment, scenario: Scenario, declared: Candidate, minutes: number, convergedFrom: number, maxReplicas = 16): Measured {
  let last: Measured | undefined;
  for (let replicas = 1; replicas <= maxReplicas; replicas += 1) {
    last = measure(deployment, base, scenario, { ...declared, minReplicas: replicas, maxReplicas: replicas }, minutes, convergedFrom);
    if (last.wholeRun.sloViolationMinutes === 0) return last;
  }
  return last!;
}

/** A queue-length autoscaler alone (KEDA on waiting requests) on the declared hardware, 1–`maxReplicas` replicas. */
export function queueAutoscaler(deployment: FleetDeployment, base: RunningDeployment, scenario: Scenario, declared: Candidate, minutes: number, convergedFrom: number, maxReplicas = 8): Measured {
  return measure(deployment, base, scenario, { ...declared, minReplicas: 1, maxReplicas }, minutes, convergedFrom);
}

/** No bot: the declared starting configuration, left as it is. */
export function noBot(deployment: FleetDeployment, base: RunningDeployment, scenario: Scenario, declared: Candidate, minutes: number, convergedFrom: number): Measured {
  return measure(deployment, base, scenario, declared, minutes, convergedFrom);
}
