/**
 * The Pareto set of a recommendation as a Mermaid quadrant chart, which GitHub
 * renders in pull-request bodies: cost per hour across, predicted p95 latency
 * up, with the current and proposed configurations among the options.
 *
 * Portable syntax only: points are unstyled (`name: [x, y]`). Per-point styles
 * need Mermaid 11 (comma-separated: `radius: 8, color: #hex`); Mermaid 10
 * rejects them, and GitHub's renderer may be older than the latest Mermaid.
 * The tests parse every chart with Mermaid 10.9 and 11.
 *
 * Mermaid takes coordinates in 0–1, so each axis is scaled to the points shown
 * and its labels carry the real ends. Current and proposed are always shown;
 * another option only when it lies near them on both axes (a far outlier would
 * squash the points that matter into a corner) — the table lists every option
 * either way. An axis whose points are (nearly) all
 * equal is widened around them, so its two ends never read the same.
 */
import { describeConfiguration } from '../optimizer/describe.ts';
import type { Evaluated, Recommendation } from '../optimizer/recommendation.ts';

/** Most options listed besides current and proposed; more make the chart unreadable. */
export const MAX_OPTIONS = 12;

/** Narrowest span an axis shows, as a fraction of the value at its centre (10 % either side). */
const MIN_RELATIVE_SPAN = 0.2;

interface Point {
  /** Letters, digits and spaces only: all Mermaid accepts unquoted. */
  readonly label: string;
  readonly costPerHourUsd: number;
  readonly p95Seconds: number;
  readonly evaluated: Evaluated;
}

interface Range {
  readonly low: number;
  readonly high: number;
}

const pointOf = (label: string, evaluated: Evaluated): Point => ({ label, costPerHourUsd: evaluated.costPerHourUsd, p95Seconds: evaluated.prediction.e2eP95Seconds, evaluated });

const key = (evaluated: Evaluated) => `${evaluated.costPerHourUsd.toFixed(2)}/${evaluated.prediction.e2eP95Seconds.toFixed(1)}`;

/** Pareto options other than current and proposed, one per distinct (cost, p95) point, cheapest first. */
function distinctOptions(recommendation: Recommendation): Evaluated[] {
  const seen = new Set([recommendation.current, recommendation.proposed].filter(Boolean).map((evaluated) => key(evaluated!)));
  const options: Evaluated[] = [];
  for (const evaluated of [...recommendation.pareto].sort((a, b) => a.costPerHourUsd - b.costPerHourUsd || a.prediction.e2eP95Seconds - b.prediction.e2eP95Seconds)) {
    if (seen.has(key(evaluated))) continue;
    seen.add(key(evaluated));
    options.push(evaluated);
  }
  return options.slice(0, MAX_OPTIONS);
}

/** The range of `values`, widened around its centre to at least MIN_RELATIVE_SPAN of it. */
function rangeOf(values: readonly number[]): Range {
  const [low, high] = [Math.min(...values), Math.max(...values)];
  const centre = (low + high) / 2;
  const minimum = Math.max(Math.abs(centre) * MIN_RELATIVE_SPAN, 1e-6);
  if (high - low >= minimum) return { low, high };
  return { low: Math.max(0, centre - minimum / 2), high: centre + minimum / 2 };
}

const within = (value: number, range: Range) => value >= range.low && value <= range.high;

/**
 * Where an option may lie and still be plotted: the range extended by its own
 * span or by a factor of two, whichever reaches further. Current and proposed
 * then fill at least a quarter of the axis in most charts, never a corner.
 */
function focusWindow(range: Range): Range {
  const span = range.high - range.low;
  return { low: Math.min(range.low - span, range.low / 2), high: Math.max(range.high + span, range.high * 2) };
}

/** Maps `value` from the range into [0.05, 0.95]. */
function scale(value: number, range: Range): string {
  return (0.05 + (0.9 * (value - range.low)) / (range.high - range.low)).toFixed(3);
}

/** The two ends of an axis, with as many decimals (at least `decimals`) as it takes for them to differ. */
function axisEnds(range: Range, decimals: number): [string, string] {
  let places = decimals;
  while (places < 6 && range.low.toFixed(places) === range.high.toFixed(places)) places += 1;
  return [range.low.toFixed(places), range.high.toFixed(places)];
}

/** A `mermaid` code block with a legend table of the options, or undefined when there is nothing to compare. */
export function paretoChart(recommendation: Recommendation): string | undefined {
  const finite = (point: Point) => Number.isFinite(point.costPerHourUsd) && Number.isFinite(point.p95Seconds);
  const focus = [pointOf('current', recommendation.current), ...(recommendation.proposed ? [pointOf('proposed', recommendation.proposed)] : [])].filter(finite);
  const options = distinctOptions(recommendation)
    .map((evaluated, index) => pointOf(`option ${index + 1}`, evaluated))
    .filter(finite);
  const listed = [...options, ...focus];
  if (focus.length === 0 || listed.length < 2) return undefined;

  const costWindow = focusWindow(rangeOf(focus.map((point) => point.costPerHourUsd)));
  const latencyWindow = focusWindow(rangeOf(focus.map((point) => point.p95Seconds)));
  const plotted = [...options.filter((point) => within(point.costPerHourUsd, costWindow) && within(point.p95Seconds, latencyWindow)), ...focus];
  const cost = rangeOf(plotted.map((point) => point.costPerHourUsd));
  const latency = rangeOf(plotted.map((point) => point.p95Seconds));
  const [costLow, costHigh] = axisEnds(cost, 2);
  const [latencyLow, latencyHigh] = axisEnds(latency, 1);
  const offChart = options.filter((point) => !plotted.includes(point));

  const lines = [
    '```mermaid',
    'quadrantChart',
    '    title Feasible configurations, cost vs predicted p95 latency',
    `    x-axis "${costLow} USD/h" --> "${costHigh} USD/h"`,
    `    y-axis "p95 ${latencyLow} s" --> "p95 ${latencyHigh} s"`,
    ...plotted.map((point) => `    ${point.label}: [${scale(point.costPerHourUsd, cost)}, ${scale(point.p95Seconds, latency)}]`),
    '```',
    ...(offChart.length ? ['', `Not plotted, far from current and proposed: ${offChart.map((point) => point.label).join(', ')}.`] : []),
    '',
    '| Point | Configuration | USD/h | p95 predicted | Quality cost |',
    '|---|---|---:|---:|---:|',
    ...listed.map(
      (point) =>
        `| ${point.label} | ${describeConfiguration(point.evaluated.configuration)} | ${point.costPerHourUsd.toFixed(2)} | ${point.p95Seconds.toFixed(1)} s | ${point.evaluated.qualityCostPct.toFixed(1)} % |`,
    ),
  ];
  return lines.join('\n');
}
