/**
 * Ground truth for the closed loop and the benchmark: reads one simulated
 * deployment after every step and keeps, per minute, the requests finished and
 * their latency histograms (summed over pods, surviving pod replacement). A
 * minute violates the SLOs when the p95s of the trailing 5 minutes — computed
 * as Prometheus' histogram_quantile does — or the error ratio (server errors and
 * client time-outs; not cancellations) break them.
 */
import type { Slos } from '../declarations/environment.ts';
import type { FleetSimulation, SimulatedDeployment } from '../simulator/simulation.ts';
import { VLLM_FAMILIES } from '../vllm/metrics.ts';

const LATENCIES = ['e2e', 'ttft', 'interToken'] as const;
type Latency = (typeof LATENCIES)[number];

interface Counts {
  readonly latency: Record<Latency, number[]>;
  /** Requests answered or abandoned. */
  finished: number;
  /** Server errors (5xx) and requests whose clients timed out waiting; client cancellations are not errors. */
  failed: number;
}

const emptyCounts = (): Counts => ({
  latency: {
    e2e: new Array(VLLM_FAMILIES.e2e.buckets.length + 1).fill(0),
    ttft: new Array(VLLM_FAMILIES.ttft.buckets.length + 1).fill(0),
    interToken: new Array(VLLM_FAMILIES.interToken.buckets.length + 1).fill(0),
  },
  finished: 0,
  failed: 0,
});

/** Bucket counts of one latency summed over minutes. */
function summed(span: readonly Counts[], latency: Latency): number[] {
  return span.reduce((total, counts) => total.map((value, index) => value + counts.latency[latency][index]!), new Array(span[0]!.latency[latency].length).fill(0) as number[]);
}

/** p95s and error ratio of the requests finished in `span`. */
function percentiles(span: readonly Counts[]): Omit<MinuteVerdict, 'minute' | 'violated'> & { finished: number } {
  const finished = span.reduce((total, counts) => total + counts.finished, 0);
  return {
    finished,
    e2eP95Seconds: histogramQuantile(0.95, VLLM_FAMILIES.e2e.buckets, summed(span, 'e2e')),
    ttftP95Seconds: histogramQuantile(0.95, VLLM_FAMILIES.ttft.buckets, summed(span, 'ttft')),
    interTokenP95Seconds: histogramQuantile(0.95, VLLM_FAMILIES.interToken.buckets, summed(span, 'interToken')),
    errorRatio: finished > 0 ? span.reduce((total, counts) => total + counts.failed, 0) / finished : undefined,
  };
}

/** histogram_quantile over non-cumulative bucket counts (the last is +Inf). */
export function histogramQuantile(quantile: number, bounds: readonly number[], counts: readonly number[]): number | undefined {
  const total = counts.reduce((sum, count) => sum + count, 0);
  if (total <= 0) return undefined;
  const rank = quantile * total;
  let cumulative = 0;
  for (let index = 0; index < counts.length; index += 1) {
    const before = cumulative;
    cumulative += counts[index]!;
    if (cumulative >= rank) {
      if (index >= bounds.length) return bounds[bounds.length - 1];
      const lower = index === 0 ? 0 : bounds[index - 1]!;
      return lower + ((bounds[index]! - lower) * (rank - before)) / Math.max(counts[index]!, Number.EPSILON);
    }
  }
  return bounds[bounds.length - 1];
}

export interface MinuteVerdict {
  readonly minute: number;
  readonly e2eP95Seconds?: number;
  readonly ttftP95Seconds?: number;
  readonly interTokenP95Seconds?: number;
  readonly errorRatio?: number;
  readonly violated: boolean;
}

export class SloMeter {
  private readonly minutes: Counts[] = [];
  private readonly previous = new Map<string, Counts>();
  private timedOut = 0;
  private timedOutUnseen = 0;
  /** Serving replica-seconds and seconds observed, per minute, for mean replica counts over any span. */
  private readonly replicaSeconds: number[] = [];
  private readonly seconds: number[] = [];

  constructor(
    readonly deploymentId: string,
    readonly slos: Slos,
  ) {}

  private deployment(simulation: FleetSimulation): SimulatedDeployment | undefined {
    return simulation.deployments.find((deployment) => deployment.running.id === this.deploymentId);
  }

  /** Reads the deployment after a step of `stepSeconds`. */
  observe(simulation: FleetSimulation, stepSeconds: number): void {
    const deployment = this.deployment(simulation);
    if (!deployment) return;
    const minute = Math.floor((simulation.elapsedSeconds - 1e-9) / 60);
    while (this.minutes.length <= minute) this.minutes.push(emptyCounts());
    const into = this.minutes[minute]!;
    for (const replica of deployment.replicas) {
      const now: Counts = {
        latency: { e2e: [...replica.histograms.e2e.counts], ttft: [...replica.histograms.ttft.counts], interToken: [...replica.histograms.interToken.counts] },
        finished: replica.finished.stop + replica.finished.length + replica.finished.abort + replica.responses['5xx'],
        failed: replica.responses['5xx'],
      };
      const before = this.previous.get(replica.pod) ?? emptyCounts();
      for (const latency of LATENCIES)
        now.latency[latency].forEach((count, index) => {
          into.latency[latency][index]! += count - before.latency[latency][index]!;
        });
      into.finished += now.finished - before.finished;
      into.failed += now.failed - before.failed;
      this.previous.set(replica.pod, now);
    }
    // Time-outs fail the user; those no pod saw are requests too.
    into.failed += deployment.timedOut - this.timedOut;
    into.finished += deployment.timedOutUnseen - this.timedOutUnseen;
    this.timedOut = deployment.timedOut;
    this.timedOutUnseen = deployment.timedOutUnseen;
    while (this.seconds.length <= minute) {
      this.seconds.push(0);
      this.replicaSeconds.push(0);
    }
    this.replicaSeconds[minute]! += deployment.replicas.filter((replica) => replica.readyAtSeconds <= simulation.elapsedSeconds).length * stepSeconds;
    this.seconds[minute]! += stepSeconds;
  }

  /** Mean serving replicas over minutes [from, to). */
  meanReplicas(from = 0, to = this.seconds.length): number {
    const sum = (values: readonly number[]) => values.slice(from, to).reduce((total, value) => total + value, 0);
    const seconds = sum(this.seconds);
    return seconds > 0 ? sum(this.replicaSeconds) / seconds : 0;
  }

  /** Verdicts of minutes [from, to) over trailing 5-minute windows; minutes without requests are not judged. */
  verdicts(from = 0, to = this.minutes.length): MinuteVerdict[] {
    const verdicts: MinuteVerdict[] = [];
    for (let minute = Math.max(from, 4); minute < Math.min(to, this.minutes.length); minute += 1) {
      const { finished, ...window } = percentiles(this.minutes.slice(minute - 4, minute + 1));
      if (finished <= 0) continue;
      const over = (seconds: number | undefined, limitMs: number) => seconds !== undefined && seconds * 1000 > limitMs;
      const violated =
        over(window.e2eP95Seconds, this.slos.e2eP95Ms) ||
        over(window.ttftP95Seconds, this.slos.ttftP95Ms) ||
        over(window.interTokenP95Seconds, this.slos.interTokenP95Ms) ||
        (window.errorRatio ?? 0) > this.slos.errorRateRatio;
      verdicts.push({ minute, ...window, violated });
    }
    return verdicts;
  }

  /** p95s and error ratio over all requests of minutes [from, to). */
  summary(from = 0, to = this.minutes.length): Omit<MinuteVerdict, 'minute' | 'violated'> {
    const span = this.minutes.slice(from, to);
    if (span.length === 0) return {};
    const { finished: _finished, ...summary } = percentiles(span);
    return summary;
  }

  /** Minutes in [from, to) that broke an SLO. */
  violationMinutes(from = 0, to = this.minutes.length): number {
    return this.verdicts(from, to).filter((verdict) => verdict.violated).length;
  }
}
