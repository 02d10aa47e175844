/**
 * The Pareto set of a recommendation as a Mermaid quadrant chart, which GitHub
 * renders in pull-request bodies: cost per hour across, predicted p95 latency
 * up, with the current and proposed configurations marked. Mermaid's quadrant
 * chart takes coordinates in 0–1, so both axes are scaled to the plotted range
 * and the axis labels carry the real ends.
 */
import { describeConfiguration } from '../optimizer/describe.ts';
import type { Evaluated, Recommendation } from '../optimizer/recommendation.ts';

/** Most options drawn besides current and proposed; more make the chart unreadable. */
export const MAX_OPTIONS = 12;

interface Point {
  /** Letters, digits and spaces only: all Mermaid accepts unquoted. */
  readonly label: string;
  readonly costPerHourUsd: number;
  readonly p95Seconds: number;
  readonly evaluated: Evaluated;
}

const pointOf = (label: string, evaluated: Evaluated): Point => ({ label, costPerHourUsd: evaluated.costPerHourUsd, p95Seconds: evaluated.prediction.e2eP95Seconds, evaluated });

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

const key = (evaluated: Evaluated) => `${evaluated.costPerHourUsd.toFixed(2)}/${evaluated.prediction.e2eP95Seconds.toFixed(1)}`;

/** Current and proposed stand out from the other options (point styles: Mermaid 10.9 and later, as on GitHub). */
const MARKER_STYLE: Readonly<Record<string, string>> = { current: ' radius: 8 color: #cf222e', proposed: ' radius: 8 color: #1a7f37' };

/** Maps `value` from [low, high] into [0.05, 0.95]; the middle when the range is empty. */
function scale(value: number, low: number, high: number): string {
  const position = high > low ? 0.05 + (0.9 * (value - low)) / (high - low) : 0.5;
  return position.toFixed(3);
}

/** A `mermaid` code block with a legend table of the options, or undefined when there is nothing to compare. */
export function paretoChart(recommendation: Recommendation): string | undefined {
  const finite = (point: Point) => Number.isFinite(point.costPerHourUsd) && Number.isFinite(point.p95Seconds);
  const points = [
    ...distinctOptions(recommendation).map((evaluated, index) => pointOf(`option ${index + 1}`, evaluated)),
    pointOf('current', recommendation.current),
    ...(recommendation.proposed ? [pointOf('proposed', recommendation.proposed)] : []),
  ].filter(finite);
  if (points.length < 2) return undefined;
  const costs = points.map((point) => point.costPerHourUsd);
  const latencies = points.map((point) => point.p95Seconds);
  const [costLow, costHigh] = [Math.min(...costs), Math.max(...costs)];
  const [latencyLow, latencyHigh] = [Math.min(...latencies), Math.max(...latencies)];
  const lines = [
    '```mermaid',
    'quadrantChart',
    '    title Feasible configurations, cost vs predicted p95 latency',
    `    x-axis "${costLow.toFixed(2)} USD/h" --> "${costHigh.toFixed(2)} USD/h"`,
    `    y-axis "p95 ${latencyLow.toFixed(1)} s" --> "p95 ${latencyHigh.toFixed(1)} s"`,
    ...points.map((point) => `    ${point.label}: [${scale(point.costPerHourUsd, costLow, costHigh)}, ${scale(point.p95Seconds, latencyLow, latencyHigh)}]${MARKER_STYLE[point.label] ?? ''}`),
    '```',
    '',
    '| Point | Configuration | USD/h | p95 predicted | Quality cost |',
    '|---|---|---:|---:|---:|',
    ...points.map((point) => `| ${point.label} | ${describeConfiguration(point.evaluated.configuration)} | ${point.costPerHourUsd.toFixed(2)} | ${point.p95Seconds.toFixed(1)} s | ${point.evaluated.qualityCostPct.toFixed(1)} % |`),
  ];
  return lines.join('\n');
}
