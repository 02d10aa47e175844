/** A small SVG of cost/hour and p95 latency per cycle (two panels), for the closed loop. */
import type { CycleRow } from './closed-loop.ts';

const WIDTH = 640;
const PANEL_HEIGHT = 180;
const MARGIN = { left: 70, right: 20, top: 30, bottom: 30 };

function panel(rows: readonly CycleRow[], values: readonly (number | undefined)[], title: string, unit: string, top: number, colour: string): string {
  const defined = values.filter((value): value is number => value !== undefined && Number.isFinite(value));
  const high = Math.max(...defined, 0) * 1.1 || 1;
  const x = (index: number) => MARGIN.left + ((WIDTH - MARGIN.left - MARGIN.right) * index) / Math.max(1, rows.length - 1);
  const y = (value: number) => top + PANEL_HEIGHT - (PANEL_HEIGHT * value) / high;
  const points = values.map((value, index) => (value === undefined ? undefined : `${x(index).toFixed(1)},${y(value).toFixed(1)}`)).filter(Boolean);
  const ticks = [0, high / 2, high].map((value) => `<text x="${MARGIN.left - 8}" y="${y(value) + 4}" text-anchor="end" font-size="11">${value.toFixed(value < 10 ? 2 : 0)}</text>`);
  const labels = rows.map((row, index) => `<text x="${x(index)}" y="${top + PANEL_HEIGHT + 16}" text-anchor="middle" font-size="11">${row.cycle}</text>`);
  return [
    `<text x="${MARGIN.left}" y="${top - 10}" font-size="13" font-weight="bold">${title} (${unit})</text>`,
    `<line x1="${MARGIN.left}" y1="${top + PANEL_HEIGHT}" x2="${WIDTH - MARGIN.right}" y2="${top + PANEL_HEIGHT}" stroke="#888"/>`,
    `<line x1="${MARGIN.left}" y1="${top}" x2="${MARGIN.left}" y2="${top + PANEL_HEIGHT}" stroke="#888"/>`,
    ...ticks,
    ...labels,
    `<polyline fill="none" stroke="${colour}" stroke-width="2" points="${points.join(' ')}"/>`,
    ...points.map((point) => `<circle cx="${point!.split(',')[0]}" cy="${point!.split(',')[1]}" r="3" fill="${colour}"/>`),
  ].join('\n');
}

/** Cost per hour and p95 end-to-end latency per cycle; an SLO line on the latency panel. */
export function plotCycles(rows: readonly CycleRow[], e2eSloSeconds: number): string {
  const height = 2 * (PANEL_HEIGHT + MARGIN.top + MARGIN.bottom) + 20;
  const latencyTop = PANEL_HEIGHT + MARGIN.top + MARGIN.bottom + MARGIN.top + 10;
  const latencies = rows.map((row) => row.e2eP95Seconds);
  const high = Math.max(...latencies.filter((value): value is number => value !== undefined), 0) * 1.1 || 1;
  const sloY = latencyTop + PANEL_HEIGHT - (PANEL_HEIGHT * e2eSloSeconds) / high;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" font-family="sans-serif">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    panel(
      rows,
      rows.map((row) => row.costPerHourUsd),
      'Cost per cycle',
      'USD/hour',
      MARGIN.top,
      '#0969da',
    ),
    panel(rows, latencies, 'p95 end-to-end latency per cycle', 's', latencyTop, '#bf3989'),
    e2eSloSeconds <= high
      ? `<line x1="${MARGIN.left}" y1="${sloY}" x2="${WIDTH - MARGIN.right}" y2="${sloY}" stroke="#cf222e" stroke-dasharray="4 3"/><text x="${WIDTH - MARGIN.right}" y="${sloY - 4}" text-anchor="end" font-size="11" fill="#cf222e">SLO</text>`
      : '',
    `<text x="${WIDTH / 2}" y="${height - 4}" text-anchor="middle" font-size="11">cycle</text>`,
    '</svg>',
    '',
  ].join('\n');
}
