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
  /** Timestamps of each series' samples, in order (to cut the exposition into spans). */
  private readonly times = new Map<string, number[]>();
  /** Gauge series of the last record (key → family), to close those that disappear. */
  private gauges = new Map<string, string>();
  /** Samples recorded so far. */
  sampleCount = 0;

  /** `previous`: the recorder of the span before this one (its last record's gauges close here if they disappear). */
  constructor(previous?: OpenMetricsRecorder) {
    if (previous) this.gauges = new Map(previous.gauges);
  }

  private push(family: string, key: string, value: number, timestampSeconds: number): void {
    let byFamily = this.series.get(family);
    if (!byFamily) this.series.set(family, (byFamily = new Map()));
    let lines = byFamily.get(key);
    if (!lines) {
      byFamily.set(key, (lines = []));
      this.times.set(key, []);
    }
    this.times.get(key)!.push(timestampSeconds);
    // The series key is written once per line at the end; only value and time are kept per sample.
    this.sampleCount += 1;
    lines.push(`${Number.isFinite(value) ? Number(value.toPrecision(12)) : 0} ${timestampSeconds}`);
  }

  /**
   * Records the current state of every replica and deployment at `timestampSeconds` (Unix). A gauge
   * of a pod that is gone gets one last 0: the text format has no staleness marker, and without it a
   * live server's "gone" would read as the last value for Prometheus' 5-minute lookback (a gone pod's
   * queue counted twice in a sum). Counters need nothing: their last value adds no rate.
   */
  record(simulation: FleetSimulation, timestampSeconds: number): void {
    const gauges = new Map<string, string>();
    for (const sample of currentSamples(simulation)) {
      const key = `${sample.name}${labelText(sample.labels)}`;
      if (sample.family.type === 'gauge') gauges.set(key, sample.family.name);
      this.push(sample.family.name, key, sample.value, timestampSeconds);
    }
    for (const [key, family] of this.gauges) if (!gauges.has(key)) this.push(family, key, 0, timestampSeconds);
    this.gauges = gauges;
  }

  /** The exposition in pieces (family by family), `# EOF` terminated: large runs exceed one string. */
  /** The exposition in pieces; `span`: only the samples at [from, to) (Unix seconds). */
  *chunks(span?: { readonly from: number; readonly to: number }): Generator<string> {
    for (const family of Object.values(FAMILIES) as Family[]) {
      const byFamily = this.series.get(family.name);
      if (!byFamily) continue;
      yield `# TYPE ${family.name} ${family.type}\n# HELP ${family.name} ${family.help}\n`;
      for (const [key, samples] of byFamily) {
        const times = this.times.get(key)!;
        const inSpan = span ? samples.slice(firstAtOrAfter(times, span.from), firstAtOrAfter(times, span.to)) : samples;
        if (inSpan.length > 0) yield `${inSpan.map((sample) => `${key} ${sample}`).join('\n')}\n`;
      }
    }
    yield '# EOF\n';
  }

  /**
   * The exposition cut at multiples of `spanSeconds` (promtool's 2-hour blocks): promtool reads its whole input once
   * per block it writes, so a day backfills in linear time only as spans.
   */
  spanTexts(spanSeconds = 7200): string[] {
    const all = [...this.times.values()];
    const first = Math.min(...all.map((times) => times[0] ?? Infinity));
    const last = Math.max(...all.map((times) => times[times.length - 1] ?? -Infinity));
    if (!Number.isFinite(first)) return [this.text()];
    const texts: string[] = [];
    for (let from = Math.floor(first / spanSeconds) * spanSeconds; from <= last; from += spanSeconds) texts.push([...this.chunks({ from, to: from + spanSeconds })].join(''));
    return texts;
  }

  /** The whole exposition as one string (small runs, tests). */
  text(): string {
    return [...this.chunks()].join('');
  }
}

/** Index of the first of ascending `times` at or after `at`. */
function firstAtOrAfter(times: readonly number[], at: number): number {
  let [low, high] = [0, times.length];
  while (low < high) {
    const middle = (low + high) >> 1;
    if (times[middle]! < at) low = middle + 1;
    else high = middle;
  }
  return low;
}

/** Runs a whole scenario (its history first), ending at `endUnixSeconds`, and returns its recorder. */
export function simulate(simulation: FleetSimulation, endUnixSeconds: number): OpenMetricsRecorder {
  const { durationMinutes, stepSeconds } = simulation.scenario;
  const steps = Math.floor((durationMinutes * 60) / stepSeconds);
  const start = endUnixSeconds - steps * stepSeconds;
  const recorder = new OpenMetricsRecorder();
  while (simulation.elapsedSeconds < steps * stepSeconds) {
    simulation.step();
    recorder.record(simulation, start + simulation.elapsedSeconds);
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
