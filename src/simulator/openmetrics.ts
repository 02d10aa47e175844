/**
 * Renders simulated samples as OpenMetrics text with timestamps, the input of
 * `promtool tsdb create-blocks-from openmetrics` (backfill). Backfilling lets a
 * simulated day land in Prometheus in seconds, with real timestamps that every
 * PromQL range function handles as it would on a live server.
 */
import { open } from 'node:fs/promises';
import { currentSamples } from './samples.ts';
import type { FleetSimulation } from './simulation.ts';
import type { Family } from '../vllm/metrics.ts';
import { FAMILIES } from './families.ts';

function labelText(labels: Readonly<Record<string, string>>): string {
  return `{${Object.entries(labels)
    .map(([key, value]) => `${key}="${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`)
    .join(',')}}`;
}

/** Collects every sample of a run, grouped by family then series, as OpenMetrics requires. */
export class OpenMetricsRecorder {
  private readonly series = new Map<string, Map<string, string[]>>();
  /** Samples recorded so far. */
  sampleCount = 0;

  /** Records the current state of every replica and deployment at `timestampSeconds` (Unix). */
  record(simulation: FleetSimulation, timestampSeconds: number): void {
    for (const sample of currentSamples(simulation)) {
      let byFamily = this.series.get(sample.family.name);
      if (!byFamily) this.series.set(sample.family.name, (byFamily = new Map()));
      const key = `${sample.name}${labelText(sample.labels)}`;
      let lines = byFamily.get(key);
      if (!lines) byFamily.set(key, (lines = []));
      // The series key is written once per line at the end; only value and time are kept per sample.
      this.sampleCount += 1;
      lines.push(`${Number.isFinite(sample.value) ? Number(sample.value.toPrecision(12)) : 0} ${timestampSeconds}`);
    }
  }

  /** The exposition in pieces (family by family), `# EOF` terminated: large runs exceed one string. */
  *chunks(): Generator<string> {
    for (const family of Object.values(FAMILIES) as Family[]) {
      const byFamily = this.series.get(family.name);
      if (!byFamily) continue;
      yield `# TYPE ${family.name} ${family.type}\n# HELP ${family.name} ${family.help}\n`;
      for (const [key, samples] of byFamily) yield `${samples.map((sample) => `${key} ${sample}`).join('\n')}\n`;
    }
    yield '# EOF\n';
  }

  /** The whole exposition as one string (small runs, tests). */
  text(): string {
    return [...this.chunks()].join('');
  }
}

/** Runs a whole scenario, ending at `endUnixSeconds`, and returns its recorder. */
export function simulate(simulation: FleetSimulation, endUnixSeconds: number): OpenMetricsRecorder {
  const { durationMinutes, stepSeconds } = simulation.scenario;
  const steps = Math.floor((durationMinutes * 60) / stepSeconds);
  const start = endUnixSeconds - steps * stepSeconds;
  const recorder = new OpenMetricsRecorder();
  for (let step = 1; step <= steps; step += 1) {
    simulation.step();
    recorder.record(simulation, start + step * stepSeconds);
  }
  return recorder;
}

/** Writes a recorder's exposition to a file without building one string. */
export async function writeOpenMetrics(recorder: OpenMetricsRecorder, file: string): Promise<void> {
  const handle = await open(file, 'w');
  try {
    for (const chunk of recorder.chunks()) await handle.write(chunk);
  } finally {
    await handle.close();
  }
}

/** Runs a whole scenario and returns its OpenMetrics text, ending at `endUnixSeconds` (small runs). */
export function simulateToOpenMetrics(simulation: FleetSimulation, endUnixSeconds: number): string {
  return simulate(simulation, endUnixSeconds).text();
}
