/**
 * The fleet simulation: advances simulated time in scrape-sized steps and keeps,
 * per replica, the metric state a vLLM server (and the exporters around it)
 * would export. Each step serves the current traffic on the world's true sweep
 * (truth.ts: a benchmark-shaped curve per model × GPU, interpolated), lets a
 * KEDA-like autoscaler move the replica count between the manifest's bounds,
 * and records per-request observations drawn from the scenario's length
 * distributions. Server errors (HTTP 5xx) and client cancellations
 * (`finished_reason="abort"`) are counted where a real server counts them.
 */
import seedrandom from 'seedrandom';
import { servingAt, type BenchmarkCurve, type ServingState } from '../performance/curve.ts';
import type { RunningDeployment } from './manifests.ts';
import { arrivalRate, type DeploymentScenario, type Lengths, type ModelTruth, type Scenario } from './scenario.ts';
import { FAMILIES } from './families.ts';
import { emptyHistogram, observe, type HistogramState } from './histogram.ts';
import { truthCurve } from './truth.ts';

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
  /** OpenAI server responses by grouped status. */
  readonly responses: Record<'2xx' | '5xx', number>;
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
  /** Requests whose clients gave up waiting, since the start (ground truth for the SLO meter; vLLM counts them as aborted). */
  timedOut: number;
  /** Of those, the ones no serving pod saw (no replica was ready). */
  timedOutUnseen: number;
}

/** A replica that never starts (vLLM refuses the flags) serves nothing. */
const NOT_SERVING: ServingState = {
  point: {
    concurrency: 0,
    running: 0,
    waiting: 0,
    requestsPerSecond: 0,
    outputTokensPerSecond: 0,
    ttftSeconds: 0,
    tpotSeconds: 0,
    interTokenP95Seconds: 0,
    longGapSeconds: 0,
    longGapShare: 0,
    prefillShare: 0,
    kvCacheUsage: 0,
  },
  capacityRequestsPerSecond: 0,
  overflowPerSecond: Infinity,
  utilization: Infinity,
};

export class FleetSimulation {
  /** Simulated seconds since the start. */
  elapsedSeconds = 0;
  readonly deployments: SimulatedDeployment[];
  private readonly random: seedrandom.PRNG;
  /** True sweeps by deployment configuration and lengths (a reload or a length shift changes the key). */
  private readonly curves = new Map<string, BenchmarkCurve | undefined>();

  constructor(
    running: readonly RunningDeployment[],
    readonly scenario: Scenario,
  ) {
    this.random = seedrandom(String(scenario.seed));
    // A history starts the clock before minute 0, on whole history steps; the replicas run from then.
    if (scenario.history) this.elapsedSeconds = -Math.ceil((scenario.history.hours * 3600) / scenario.history.stepSeconds) * scenario.history.stepSeconds;
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
          timedOut: 0,
          timedOutUnseen: 0,
        };
        for (let index = 0; index < deployment.minReplicas; index += 1) this.addReplica(simulated, this.elapsedSeconds);
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

  /** Advances one step (the scenario's stepSeconds; its history's before minute 0). */
  step(): void {
    const dt = this.elapsedSeconds < 0 && this.scenario.history ? this.scenario.history.stepSeconds : this.scenario.stepSeconds;
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
      responses: { '2xx': 0, '5xx': 0 },
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

  /** A standard normal draw (Box–Muller). */
  private normal(): number {
    return Math.sqrt(-2 * Math.log(1 - this.random())) * Math.cos(2 * Math.PI * this.random());
  }

  /** A Poisson draw of mean `mean` (normal approximation, never negative). */
  private poisson(mean: number): number {
    return mean > 0 ? Math.max(0, mean + Math.sqrt(mean) * this.normal()) : 0;
  }

  /** A log-normal draw with the given mean and coefficient of variation. */
  private logNormal(lengths: Lengths): number {
    const sigma2 = Math.log(1 + lengths.cv ** 2);
    const mu = Math.log(lengths.mean) - sigma2 / 2;
    return Math.max(1, Math.round(Math.exp(mu + Math.sqrt(sigma2) * this.normal())));
  }

  /** The world's sweep for a deployment at the current mean lengths (cached). */
  private curve(deployment: SimulatedDeployment, prompt: Lengths, output: Lengths): BenchmarkCurve | undefined {
    const lengths = { promptTokens: prompt.mean, outputTokens: output.mean };
    const key = JSON.stringify([deployment.running, lengths]);
    if (!this.curves.has(key)) this.curves.set(key, truthCurve(deployment.running, deployment.truth, lengths));
    return this.curves.get(key);
  }

  private stepDeployment(deployment: SimulatedDeployment, dt: number): void {
    const now = this.elapsedSeconds;
    const minute = now / 60;
    // Requests arrive independently (Poisson): a step sees the traffic's rate give or take its square root.
    const arrivals = this.poisson(arrivalRate(deployment.scenario.traffic, minute) * dt) / dt;
    const { prompt, output } = this.lengths(deployment, minute);
    const ready = deployment.replicas.filter((replica) => replica.readyAtSeconds <= now);
    const curve = this.curve(deployment, prompt, output);

    const perReplica = ready.length > 0 ? arrivals / ready.length : 0;
    const state = curve ? servingAt(curve, perReplica) : NOT_SERVING;
    const { point } = state;
    const capacity = state.capacityRequestsPerSecond * ready.length;
    const backlog = deployment.waiting;
    const completed = Math.min(capacity * dt, arrivals * dt + backlog);
    deployment.waiting = Math.max(0, backlog + arrivals * dt - completed);
    // Clients give up after their time-out: what would wait longer is abandoned, and vLLM aborts it.
    const abandoned = Math.max(0, deployment.waiting - Math.max(capacity, arrivals) * deployment.scenario.clientTimeoutSeconds);
    deployment.waiting -= abandoned;
    deployment.timedOut += abandoned;
    for (const replica of ready) replica.finished.abort += abandoned / ready.length;
    if (ready.length === 0) deployment.timedOutUnseen += abandoned;
    const queueSeconds = capacity > 0 ? deployment.waiting / capacity : 0;
    const errors = this.errorRatio(deployment, minute);
    // Steps carrying a prefill chunk are the long gaps: that share of every request's tokens follows one.
    const { longGapShare, longGapSeconds } = point;
    const shortGap = longGapShare > 0 ? Math.max(0, (point.tpotSeconds - longGapShare * longGapSeconds) / (1 - longGapShare)) : point.tpotSeconds;

    for (const replica of deployment.replicas) {
      const serving = replica.readyAtSeconds <= now;
      replica.running = serving ? point.running : 0;
      replica.waiting = serving ? deployment.waiting / ready.length : 0;
      replica.kvCacheUsage = serving ? point.kvCacheUsage : 0;
      // DCGM's utilisation is the share of time a kernel runs: whenever a batch is in flight.
      replica.gpuUtilizationPct = serving ? 100 * (1 - Math.exp(-point.running)) : 0;
      if (!serving) continue;
      const requests = completed / ready.length;
      if (requests <= 0) continue;
      const samples = Math.min(MAX_SAMPLES_PER_STEP, Math.ceil(requests));
      const weight = requests / samples;
      for (let sample = 0; sample < samples; sample += 1) {
        if (this.random() < errors) {
          // A server error: the OpenAI server answers 5xx; the engine finishes nothing.
          replica.responses['5xx'] += weight;
          continue;
        }
        const promptTokens = this.logNormal(prompt);
        const outputTokens = this.logNormal(output);
        const queue = Math.min(queueSeconds * (0.5 + this.random()), deployment.scenario.clientTimeoutSeconds);
        const jitter = 0.9 + 0.2 * this.random();
        const ttft = queue + point.ttftSeconds * (promptTokens / prompt.mean);
        const e2e = ttft + outputTokens * point.tpotSeconds * jitter;
        const { histograms } = replica;
        observe(histograms.e2e, FAMILIES.e2e.buckets, e2e, weight);
        observe(histograms.ttft, FAMILIES.ttft.buckets, ttft, weight);
        observe(histograms.interToken, FAMILIES.interToken.buckets, shortGap * jitter, weight * outputTokens * (1 - longGapShare));
        if (longGapShare > 0) observe(histograms.interToken, FAMILIES.interToken.buckets, longGapSeconds * jitter, weight * outputTokens * longGapShare);
        observe(histograms.queueTime, FAMILIES.queueTime.buckets, queue, weight);
        observe(histograms.requestPromptTokens, FAMILIES.requestPromptTokens.buckets, promptTokens, weight);
        observe(histograms.requestGenerationTokens, FAMILIES.requestGenerationTokens.buckets, outputTokens, weight);
        replica.promptTokens += promptTokens * weight;
        replica.generationTokens += outputTokens * weight;
        // A client cancellation still got a 200 and its stream; vLLM records it as aborted.
        const cancelled = this.random() < deployment.scenario.cancelRatio;
        const reason = cancelled ? 'abort' : outputTokens >= output.mean * 3 ? 'length' : 'stop';
        replica.finished[reason] += weight;
        replica.responses['2xx'] += weight;
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
