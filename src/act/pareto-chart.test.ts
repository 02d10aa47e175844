/**
 * The pull request's Pareto chart, checked the way GitHub would show it: every
 * chart of the corpus — real recommendations from the planner on simulated
 * traffic in the real Prometheus, and the shapes that broke the chart before —
 * goes through Mermaid's own parser, in the oldest release line GitHub may
 * still run (10.9) and in the current one (11).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { Fleet } from '../fleet/fleet.ts';
import { loadFleet } from '../fleet/load.ts';
import type { Evaluated, Recommendation } from '../optimizer/recommendation.ts';
import { mermaidParsers, type MermaidParse } from '../testing/mermaid.ts';
import { preparedFixture } from '../testing/fixture-fleet.ts';
import { DAY_OF_HISTORY, EXAMPLE_TRUTH, lastWednesdayAfternoon, simulateAndPlan, steady } from '../testing/plan-harness.ts';
import { MAX_OPTIONS, paretoChart } from './pareto-chart.ts';

/** Over-provisioned, overloaded and idle deployments: recommendations of every rule that proposes a change. */
const MIXED = {
  durationMinutes: 70,
  seed: 11,
  history: DAY_OF_HISTORY,
  deployments: {
    'production/llama-3-1-8b-instruct': steady(0.4),
    'production/qwen2-5-7b-instruct': steady(3, 400, 120),
    'dev/llama-3-1-8b-instruct': steady(0.02),
    'staging/llama-3-1-8b-instruct': steady(2.5, 2000, 300),
  },
  truth: EXAMPLE_TRUTH,
};

/** A copy of `evaluated` at another cost and p95. */
const at = (evaluated: Evaluated, costPerHourUsd: number, e2eP95Seconds: number): Evaluated => ({ ...evaluated, costPerHourUsd, prediction: { ...evaluated.prediction, e2eP95Seconds } });

/** The plotted points and the axis ends of a chart. */
function plottedOf(chart: string) {
  const points = new Map([...chart.matchAll(/^ {4}([a-z0-9 ]+): \[([\d.]+), ([\d.]+)\]$/gm)].map((match) => [match[1], [Number(match[2]), Number(match[3])]] as const));
  const axis = (name: string) => /^ {4}[xy]-axis "(.*)" --> "(.*)"$/m.exec(chart.split('\n').find((line) => line.startsWith(`    ${name}-axis`))!)!.slice(1, 3);
  return { points, x: axis('x'), y: axis('y') };
}

let fleet: Fleet;
let parsers: readonly MermaidParse[];
let real: Recommendation[];
beforeAll(async () => {
  const loaded = await loadFleet(await preparedFixture());
  if (!loaded.ok) throw new Error('the fixture fleet is invalid');
  fleet = loaded.fleet;
  parsers = await mermaidParsers();
  real = (await simulateAndPlan(fleet, MIXED, lastWednesdayAfternoon())).filter((recommendation) => recommendation.proposed);
});

/** The shapes that broke the chart: equal latencies, a far outlier, more options than are listed, no proposal. */
function edgeCases(base: Recommendation): Record<string, Recommendation> {
  const { current, proposed } = base as Required<Recommendation>;
  return {
    'equal p95 everywhere': { ...base, current: at(current, 1.76, 245.3), proposed: at(proposed!, 0.44, 245.3), pareto: [at(current, 0.85, 245.3)] },
    'one far outlier': { ...base, current: at(current, 1.76, 3.1), proposed: at(proposed!, 0.88, 3.4), pareto: [at(current, 1.2, 3.2), at(current, 21.52, 0.9)] },
    'equal cost, equal p95': { ...base, current: at(current, 0.854, 12.5), proposed: at(proposed!, 0.854, 12.5), pareto: [] },
    'many options': { ...base, pareto: Array.from({ length: 20 }, (_, index) => at(current, 0.3 + index * 0.1, 30 - index)) },
    'no proposal': { ...base, action: 'none', proposed: undefined, pareto: [at(current, current.costPerHourUsd * 0.8, current.prediction.e2eP95Seconds * 1.2)] },
    'not a number': { ...base, pareto: [at(current, Number.NaN, 3), at(current, 0.5, Number.POSITIVE_INFINITY)] },
  };
}

describe('the Pareto chart', () => {
  it('parses with Mermaid 10.9 and 11 for every chart of the corpus', async () => {
    const corpus = { ...Object.fromEntries(real.map((recommendation) => [recommendation.deploymentId, recommendation])), ...edgeCases(real[0]!) };
    const failures: string[] = [];

    for (const [name, recommendation] of Object.entries(corpus)) {
      const chart = paretoChart(recommendation)!;
      const diagram = /```mermaid\n([\s\S]*?)\n```/.exec(chart)![1];
      for (const parse of parsers) {
        const problem = await parse.check(diagram);
        if (problem) failures.push(`${name} (Mermaid ${parse.version}): ${problem}\n${diagram}`);
      }
    }

    expect(real.length).toBeGreaterThanOrEqual(2);
    expect(Object.keys(corpus).length).toBeGreaterThanOrEqual(8);
    expect(parsers.map((parse) => parse.version.split('.')[0])).toEqual(['10', '11']);
    expect(failures).toEqual([]);
  });

  it('is checked by a parser that rejects what Mermaid 10 rejects: styled points and malformed lines', async () => {
    const chart = paretoChart(real[0]!)!;
    const diagram = /```mermaid\n([\s\S]*?)\n```/.exec(chart)![1];

    const [mermaid10, mermaid11] = parsers;
    // The form the chart used before: Mermaid 11 rejects it without commas, Mermaid 10 rejects styles at all.
    expect(await mermaid11!.check(`${diagram.replace(/(current: \[[^\]]+\])/, '$1 radius: 8 color: #cf222e')}`)).toMatch(/radius 8 color is invalid/);
    expect(await mermaid10!.check(`${diagram.replace(/(current: \[[^\]]+\])/, '$1 radius: 8, color: #cf222e')}`)).toMatch(/Parse error/);
    expect(await mermaid10!.check(`${diagram}\n    not a point`)).toMatch(/Parse error/);
    expect(diagram).not.toMatch(/radius|color/);
  });

  it('never shows an axis whose two ends read the same', () => {
    const { x, y, points } = plottedOf(paretoChart(edgeCases(real[0]!)['equal p95 everywhere'])!);
    const same = plottedOf(paretoChart(edgeCases(real[0]!)['equal cost, equal p95'])!);

    expect(x).toEqual(['0.44 USD/h', '1.76 USD/h']);
    expect(y[0]).not.toBe(y[1]);
    expect(y).toEqual(['p95 220.8 s', 'p95 269.8 s']);
    expect(points.get('current')![1]).toBe(0.5);
    expect(same.x).toEqual(['0.77 USD/h', '0.94 USD/h']);
    expect(same.y).toEqual(['p95 11.3 s', 'p95 13.8 s']);
  });

  it('scales the axes to current and proposed: a far outlier is listed, not plotted', () => {
    const chart = paretoChart(edgeCases(real[0]!)['one far outlier'])!;
    const { x, points } = plottedOf(chart);

    expect(x).toEqual(['0.88 USD/h', '1.76 USD/h']);
    expect([...points.keys()]).toEqual(['option 1', 'current', 'proposed']);
    expect(points.get('proposed')![0]).toBe(0.05);
    expect(points.get('current')![0]).toBe(0.95);
    expect(chart).toContain('Not plotted, far from current and proposed: option 2.');
    expect(chart).toContain('| option 2 | ');
    expect(chart).toContain('| 21.52 | 0.9 s |');
  });

  it(`lists at most ${MAX_OPTIONS} options besides current and proposed, and drops points that are not numbers`, () => {
    const many = paretoChart(edgeCases(real[0]!)['many options'])!;
    const notNumbers = paretoChart(edgeCases(real[0]!)['not a number'])!;

    expect(many.split('\n').filter((line) => /^\| option \d+ \|/.test(line))).toHaveLength(MAX_OPTIONS);
    expect(notNumbers).not.toMatch(/NaN|Infinity/);
    expect(plottedOf(notNumbers).points.size).toBe(2);
  });
});
