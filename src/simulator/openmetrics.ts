/**
 * Renders simulated samples as OpenMetrics text with timestamps, the input of
 * `promtool tsdb create-blocks-from openmetrics` (backfill). Backfilling lets a
 * simulated day land in Prometheus in seconds, with real timestamps that every
 * PromQL range function handles as it would on a live server.
 */
import type { FleetSimulation } from './simulation.ts';
import { FAMILIES, type Family } from './vllm-metrics.ts';

type Labels = Record<string, string>;

function labelText(labels: Labels): string {
  return `{${Object.entries(labels)
    .map(([key, value]) => `${key}="${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`)
    .join(',')}}`;
}

/** Collects every sample of a run, grouped by family then series, as OpenMetrics requires. */
export class OpenMetricsRecorder {
  private readonly series = new Map<string, Map<string, string[]>>();

  private add(family: Family, sampleName: string, labels: Labels, value: number, timestampSeconds: number): void {
    let byFamily = this.series.get(family.name);
    if (!byFamily) this.series.set(family.name, (byFamily = new Map()));
    const key = `${sampleName}${labelText(labels)}`;
    let lines = byFamily.get(key);
    if (!lines) byFamily.set(key, (lines = []));
    lines.push(`${key} ${Number.isFinite(value) ? Number(value.toPrecision(12)) : 0} ${timestampSeconds}`);
  }

  /** Records the current state of every replica and deployment at `timestampSeconds` (Unix). */
  record(simulation: FleetSimulation, timestampSeconds: number): void {
    for (const deployment of simulation.deployments) {
      const { namespace, model } = deployment.running;
      const ready = deployment.replicas.filter((replica) => replica.readyAtSeconds <= simulation.elapsedSeconds);
      this.add(FAMILIES.replicas, FAMILIES.replicas.name, { namespace, deployment: model }, ready.length, timestampSeconds);
      for (const replica of ready) {
        const labels = { namespace, pod: replica.pod, model_name: model, engine: '0', job: 'vllm' };
        this.add(FAMILIES.running, FAMILIES.running.name, labels, replica.running, timestampSeconds);
        this.add(FAMILIES.waiting, FAMILIES.waiting.name, labels, replica.waiting, timestampSeconds);
        this.add(FAMILIES.kvCache, FAMILIES.kvCache.name, labels, replica.kvCacheUsage, timestampSeconds);
        this.add(FAMILIES.promptTokens, `${FAMILIES.promptTokens.name}_total`, labels, replica.promptTokens, timestampSeconds);
        this.add(FAMILIES.generationTokens, `${FAMILIES.generationTokens.name}_total`, labels, replica.generationTokens, timestampSeconds);
        for (const [reason, count] of Object.entries(replica.finished)) {
          this.add(FAMILIES.requestSuccess, `${FAMILIES.requestSuccess.name}_total`, { ...labels, finished_reason: reason }, count, timestampSeconds);
        }
        for (const [key, state] of Object.entries(replica.histograms)) {
          const family = FAMILIES[key as keyof typeof FAMILIES] as Family;
          let cumulative = 0;
          family.buckets!.forEach((bound, index) => {
            cumulative += state.counts[index];
            this.add(family, `${family.name}_bucket`, { ...labels, le: String(bound) }, cumulative, timestampSeconds);
          });
          this.add(family, `${family.name}_bucket`, { ...labels, le: '+Inf' }, state.count, timestampSeconds);
          this.add(family, `${family.name}_sum`, labels, state.sum, timestampSeconds);
          this.add(family, `${family.name}_count`, labels, state.count, timestampSeconds);
        }
        this.add(FAMILIES.gpuUtilization, FAMILIES.gpuUtilization.name, { namespace, pod: replica.pod, gpu: '0' }, replica.gpuUtilizationPct, timestampSeconds);
      }
    }
  }

  /** The OpenMetrics exposition, `# EOF` terminated. */
  text(): string {
    const out: string[] = [];
    for (const family of Object.values(FAMILIES) as Family[]) {
      const byFamily = this.series.get(family.name);
      if (!byFamily) continue;
      out.push(`# TYPE ${family.name} ${family.type}`, `# HELP ${family.name} ${family.help}`);
      for (const lines of byFamily.values()) out.push(...lines);
    }
    out.push('# EOF');
    return `${out.join('\n')}\n`;
  }
}

/** Runs a whole scenario and returns its OpenMetrics text, ending at `endUnixSeconds`. */
export function simulateToOpenMetrics(simulation: FleetSimulation, endUnixSeconds: number): string {
  const { durationMinutes, stepSeconds } = simulation.scenario;
  const steps = Math.floor((durationMinutes * 60) / stepSeconds);
  const start = endUnixSeconds - steps * stepSeconds;
  const recorder = new OpenMetricsRecorder();
  for (let step = 1; step <= steps; step += 1) {
    simulation.step();
    recorder.record(simulation, start + step * stepSeconds);
  }
  return recorder.text();
}
