/**
 * The fleet simulation: advances simulated time in scrape-sized steps and keeps,
 * per replica, the metric state a vLLM server would export. Each step solves the
 * serving model for the current traffic, lets a KEDA-like autoscaler move the
 * replica count between the manifest's bounds, and records per-request
 * observations drawn from the scenario's length distributions.
 */
import seedrandom from 'seedrandom';
import { effectiveEngineArgs } from '../vllm/defaults.ts';
import { DEFAULT_FACTORS, replicaLoad, type PerformanceFactors, type ReplicaSetup } from '../performance/serving-model.ts';
import type { RunningDeployment } from './manifests.ts';
import { servedBytesPerParameter } from './manifests.ts';
import { arrivalRate, type DeploymentScenario, type Lengths, type ModelTruth, type Scenario } from './scenario.ts';
import { FAMILIES } from './families.ts';
import { emptyHistogram, observe, type HistogramState } from './histogram.ts';

/** Seconds a new replica needs before it serves (image pull, weight load). */
export const REPLICA_STARTUP_SECONDS = 180;
/** The autoscaler keeps the highest recommendation of this window before scaling down (HPA default). */
const SCALE_DOWN_STABILIZATION_SECONDS = 300;
/** Requests drawn per replica per step; more are accounted by weight. */
const MAX_SAMPLES_PER_STEP = 48;

/** What one simulated vLLM pod exports. */
export interface ReplicaMetrics {
  readonly pod: string;
  readyAtSeconds: number;
  running: number;
  waiting: number;
  kvCacheUsage: number;
  gpuUtilizationPct: number;
  promptTokens: number;
  generationTokens: number;
  readonly finished: Record<'stop' | 'length' | 'abort', number>;
  readonly histograms: Record<'e2e' | 'ttft' | 'interToken' | 'queueTime' | 'requestPromptTokens' | 'requestGenerationTokens', HistogramState>;
}

/** One deployment's simulated state. */
export interface SimulatedDeployment {
  running: RunningDeployment;
  readonly scenario: DeploymentScenario;
  readonly truth: ModelTruth;
  replicas: ReplicaMetrics[];
  /** Requests waiting across the deployment. */
  waiting: number;
  /** Autoscaler recommendations of the stabilization window. */
  readonly recommendations: { atSeconds: number; replicas: number }[];
  podsCreated: number;
}

export function replicaSetup(running: RunningDeployment, truth: ModelTruth): ReplicaSetup {
  const engineArgs = effectiveEngineArgs(running.engineArgs, running.gpuType);
  const kvHalved = engineArgs['kv-cache-dtype']?.startsWith('fp8') ?? false;
  return {
    gpuType: running.gpuType,
    gpuCount: running.gpuCount,
    parametersBillions: truth.parametersBillions,
    bytesPerParameter: servedBytesPerParameter(engineArgs, truth.bytesPerParameter),
    kvBytesPerToken: kvHalved ? truth.kvBytesPerToken / 2 : truth.kvBytesPerToken,
    maxNumSeqs: engineArgs['max-num-seqs'],
    gpuMemoryUtilization: engineArgs['gpu-memory-utilization'],
  };
}

/** The true factors of a model on a GPU type: the physics defaults scaled by the scenario's hidden truth. */
export function trueFactors(truth: ModelTruth, running: RunningDeployment): PerformanceFactors {
  const departure = truth.gpus[running.gpuType] ?? { bandwidth: 1, saturation: 1, perSequence: 1, prefill: 1 };
  return {
    bandwidthEfficiency: DEFAULT_FACTORS.bandwidthEfficiency * departure.bandwidth,
    saturationTokensPerTflopBillion: DEFAULT_FACTORS.saturationTokensPerTflopBillion * departure.saturation,
    perSequenceStepSeconds: DEFAULT_FACTORS.perSequenceStepSeconds * departure.perSequence,
    prefillSpeedup: DEFAULT_FACTORS.prefillSpeedup * departure.prefill,
  };
}

export class FleetSimulation {
  /** Simulated seconds since the start. */
  elapsedSeconds = 0;
  readonly deployments: SimulatedDeployment[];
  private readonly random: seedrandom.PRNG;

  constructor(
    running: readonly RunningDeployment[],
    readonly scenario: Scenario,
  ) {
    this.random = seedrandom(String(scenario.seed));
    this.deployments = running
      .filter((deployment) => scenario.deployments[deployment.id] && scenario.truth[deployment.model])
      .map((deployment) => {
        const simulated: SimulatedDeployment = {
          running: deployment,
          scenario: scenario.deployments[deployment.id],
          truth: scenario.truth[deployment.model],
          replicas: [],
          waiting: 0,
          recommendations: [],
          podsCreated: 0,
        };
        for (let index = 0; index < deployment.minReplicas; index += 1) this.addReplica(simulated, 0);
        return simulated;
      });
  }

  /**
   * Applies a new generated/ (after a merge and an Argo CD sync): each changed
   * deployment gets new pods of the new configuration, as a finished rollout
   * would; the replica count is kept within the new bounds. Canary steps are not
   * simulated: the new pods take all traffic at once.
   */
  reload(running: readonly RunningDeployment[]): void {
    for (const deployment of this.deployments) {
      const next = running.find((candidate) => candidate.id === deployment.running.id);
      if (!next || JSON.stringify(next) === JSON.stringify(deployment.running)) continue;
      const count = Math.min(next.maxReplicas, Math.max(next.minReplicas, deployment.replicas.length));
      deployment.running = next;
      deployment.replicas = [];
      deployment.recommendations.length = 0;
      for (let index = 0; index < count; index += 1) this.addReplica(deployment, this.elapsedSeconds);
    }
  }

  /** Advances one step (the scenario's stepSeconds). */
  step(): void {
    const dt = this.scenario.stepSeconds;
    this.elapsedSeconds += dt;
    for (const deployment of this.deployments) this.stepDeployment(deployment, dt);
  }

  private addReplica(deployment: SimulatedDeployment, readyAtSeconds: number): void {
    const index = deployment.podsCreated;
    deployment.podsCreated += 1;
    const histograms = {
      e2e: emptyHistogram(FAMILIES.e2e),
      ttft: emptyHistogram(FAMILIES.ttft),
      interToken: emptyHistogram(FAMILIES.interToken),
      queueTime: emptyHistogram(FAMILIES.queueTime),
      requestPromptTokens: emptyHistogram(FAMILIES.requestPromptTokens),
      requestGenerationTokens: emptyHistogram(FAMILIES.requestGenerationTokens),
    };
    deployment.replicas.push({
      pod: `${deployment.running.model}-${index.toString(36).padStart(5, '0')}`,
      readyAtSeconds,
      running: 0,
      waiting: 0,
      kvCacheUsage: 0,
      gpuUtilizationPct: 0,
      promptTokens: 0,
      generationTokens: 0,
      finished: { stop: 0, length: 0, abort: 0 },
      histograms,
    });
  }

  private lengths(deployment: SimulatedDeployment, minute: number): { prompt: Lengths; output: Lengths } {
    const { shift, promptTokens, outputTokens } = deployment.scenario;
    return shift && minute >= shift.atMinute ? { prompt: shift.promptTokens, output: shift.outputTokens } : { prompt: promptTokens, output: outputTokens };
  }

  private errorRatio(deployment: SimulatedDeployment, minute: number): number {
    const { errorSpike, errorRatio } = deployment.scenario;
    return errorSpike && minute >= errorSpike.fromMinute && minute < errorSpike.toMinute ? errorSpike.errorRatio : errorRatio;
  }

  /** A log-normal draw with the given mean and coefficient of variation. */
  private logNormal(lengths: Lengths): number {
    const sigma2 = Math.log(1 + lengths.cv ** 2);
    const mu = Math.log(lengths.mean) - sigma2 / 2;
    const normal = Math.sqrt(-2 * Math.log(1 - this.random())) * Math.cos(2 * Math.PI * this.random());
    return Math.max(1, Math.round(Math.exp(mu + Math.sqrt(sigma2) * normal)));
  }

  private stepDeployment(deployment: SimulatedDeployment, dt: number): void {
    const now = this.elapsedSeconds;
    const minute = now / 60;
    const arrivals = arrivalRate(deployment.scenario.traffic, minute);
    const { prompt, output } = this.lengths(deployment, minute);
    const ready = deployment.replicas.filter((replica) => replica.readyAtSeconds <= now);
    const setup = replicaSetup(deployment.running, deployment.truth);
    const factors = trueFactors(deployment.truth, deployment.running);

    const perReplica = ready.length > 0 ? arrivals / ready.length : 0;
    const load = replicaLoad(setup, perReplica, prompt.mean, output.mean, factors);
    const capacity = load.capacityPerSecond * ready.length;
    const backlog = deployment.waiting;
    const completed = Math.min(capacity * dt, arrivals * dt + backlog);
    deployment.waiting = Math.max(0, backlog + arrivals * dt - completed);
    const queueSeconds = capacity > 0 ? deployment.waiting / capacity : 0;
    const errors = this.errorRatio(deployment, minute);

    for (const replica of deployment.replicas) {
      const serving = replica.readyAtSeconds <= now;
      replica.running = serving ? load.running : 0;
      replica.waiting = serving ? deployment.waiting / ready.length : 0;
      replica.kvCacheUsage = serving ? load.kvCacheUsage : 0;
      replica.gpuUtilizationPct = serving && capacity > 0 ? Math.min(100, (100 * Math.min(perReplica, load.capacityPerSecond)) / load.capacityPerSecond) : 0;
      if (!serving) continue;
      const requests = completed / ready.length;
      if (requests <= 0) continue;
      const samples = Math.min(MAX_SAMPLES_PER_STEP, Math.ceil(requests));
      const weight = requests / samples;
      for (let sample = 0; sample < samples; sample += 1) {
        const promptTokens = this.logNormal(prompt);
        const outputTokens = this.logNormal(output);
        const queue = queueSeconds * (0.5 + this.random());
        const tpot = load.timePerOutputTokenSeconds * (0.9 + 0.2 * this.random());
        const ttft = queue + load.prefillSeconds * (promptTokens / prompt.mean);
        const e2e = ttft + outputTokens * tpot;
        const { histograms } = replica;
        observe(histograms.e2e, FAMILIES.e2e.buckets, e2e, weight);
        observe(histograms.ttft, FAMILIES.ttft.buckets, ttft, weight);
        observe(histograms.interToken, FAMILIES.interToken.buckets, tpot, weight * outputTokens);
        observe(histograms.queueTime, FAMILIES.queueTime.buckets, queue, weight);
        observe(histograms.requestPromptTokens, FAMILIES.requestPromptTokens.buckets, promptTokens, weight);
        observe(histograms.requestGenerationTokens, FAMILIES.requestGenerationTokens.buckets, outputTokens, weight);
        replica.promptTokens += promptTokens * weight;
        replica.generationTokens += outputTokens * weight;
        const failed = this.random() < errors;
        const reason = failed ? 'abort' : outputTokens >= output.mean * 3 ? 'length' : 'stop';
        replica.finished[reason] += weight;
      }
    }
    this.autoscale(deployment, now);
  }

  /** KEDA on `vllm:num_requests_waiting`: desired = ceil(waiting ÷ target), bounded, scale-down stabilized. */
  private autoscale(deployment: SimulatedDeployment, now: number): void {
    const { minReplicas, maxReplicas, waitingPerReplicaTarget } = deployment.running;
    const recommended = Math.min(maxReplicas, Math.max(minReplicas, Math.ceil(deployment.waiting / waitingPerReplicaTarget)));
    deployment.recommendations.push({ atSeconds: now, replicas: recommended });
    while (deployment.recommendations[0].atSeconds < now - SCALE_DOWN_STABILIZATION_SECONDS) deployment.recommendations.shift();
    const current = deployment.replicas.length;
    const desired = recommended > current ? recommended : Math.max(...deployment.recommendations.map((entry) => entry.replicas));
    for (let count = current; count < desired; count += 1) this.addReplica(deployment, now + REPLICA_STARTUP_SECONDS);
    if (desired < current) deployment.replicas.splice(desired);
  }
}
