/**
 * Renders simulated samples as OpenMetrics text with timestamps, the input of
 * `promtool tsdb create-blocks-from openmetrics` (backfill). Backfilling lets a
 * simulated day land in Prometheus in seconds, with real timestamps that every
 * PromQL range function handles as it would on a live server.
 */
import { currentSamples } from './samples.ts';
import type { FleetSimulation } from './simulation.ts';
import { FAMILIES, type Family } from './vllm-metrics.ts';

function labelText(labels: Readonly<Record<string, string>>): string {
  return `{${Object.entries(labels)
    .map(([key, value]) => `${key}="${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`)
    .join(',')}}`;
}

/** Collects every sample of a run, grouped by family then series, as OpenMetrics requires. */
export class OpenMetricsRecorder {
  private readonly series = new Map<string, Map<string, string[]>>();

  /** Records the current state of every replica and deployment at `timestampSeconds` (Unix). */
  record(simulation: FleetSimulation, timestampSeconds: number): void {
    for (const sample of currentSamples(simulation)) {
      let byFamily = this.series.get(sample.family.name);
      if (!byFamily) this.series.set(sample.family.name, (byFamily = new Map()));
      const key = `${sample.name}${labelText(sample.labels)}`;
      let lines = byFamily.get(key);
      if (!lines) byFamily.set(key, (lines = []));
      lines.push(`${key} ${Number.isFinite(sample.value) ? Number(sample.value.toPrecision(12)) : 0} ${timestampSeconds}`);
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
