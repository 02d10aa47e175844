/**
 * `npm run demo`: the closed loop on the example fleet, loopback only. Staging's
 * Llama 3.1 8B starts over-provisioned (4–6 replicas for 0.6 requests/s); the bot
 * reads the real Prometheus, opens pull requests on the GitHub stand-in, a
 * reviewer merges them, the simulator runs what main declares. One line per
 * cycle; a plot in demo-cycles.svg. Stops by itself.
 */
import { writeFile } from 'node:fs/promises';
import { editFile } from '../src/testing/fixture-fleet.ts';
import { lastWednesdayAfternoon } from '../src/testing/plan-harness.ts';
import { runClosedLoop, type CycleRow } from '../src/loop/closed-loop.ts';
import { plotCycles } from '../src/loop/plot.ts';

const DEPLOYMENT = 'staging/llama-3-1-8b-instruct';
const CYCLES = Number(process.env.DEMO_CYCLES ?? 6);
const SLO_E2E_SECONDS = 20;

const fixed = (value: number | undefined, digits: number, scale = 1) => (value === undefined ? '-' : (value * scale).toFixed(digits));
const line = (row: CycleRow) =>
  `cycle ${String(row.cycle).padStart(2)}  ${row.configuration.padEnd(52)}  ${fixed(row.costPerHourUsd, 2).padStart(6)} USD/h  p95 ${fixed(row.e2eP95Seconds, 2).padStart(6)} s  TTFT ${fixed(row.ttftP95Seconds, 0, 1000).padStart(5)} ms  errors ${fixed(row.errorRatio, 2, 100).padStart(5)} %  SLO ${row.sloViolationMinutes === 0 ? 'met' : `missed ${row.sloViolationMinutes} min`}  ${row.actions.join(', ') || '-'}`;

console.log(`Closed loop on ${DEPLOYMENT}: ${CYCLES} cycles of 60 simulated minutes (simulator → Prometheus → llmops optimize → merge → synth → simulator)`);
const start = new Date(lastWednesdayAfternoon().getTime() - CYCLES * 3_600_000);
const rows = await runClosedLoop({
  deploymentId: DEPLOYMENT,
  cycles: CYCLES,
  start,
  scenario: {
    durationMinutes: CYCLES * 60,
    seed: 42,
    deployments: { [DEPLOYMENT]: { traffic: { kind: 'steady', requestsPerSecond: 0.6 }, promptTokens: { mean: 600 }, outputTokens: { mean: 150 } } },
    truth: { 'llama-3-1-8b-instruct': { parametersBillions: 8.03, kvBytesPerToken: 131072 } },
  },
  changes: [
    {
      beforeCycle: 1,
      description: 'Over-provision staging for a launch that did not happen',
      apply: (clone) =>
        editFile(
          clone,
          'environments/staging.ts',
          "replicas: { min: 1, max: 3 },\n      gpu: { type: 'nvidia-a100-80gb', count: 1 }",
          "replicas: { min: 4, max: 6 },\n      gpu: { type: 'nvidia-a100-80gb', count: 1 }",
        ),
    },
  ],
  onCycle: (row) => console.log(line(row)),
});
await writeFile('demo-cycles.svg', plotCycles(rows, SLO_E2E_SECONDS));
const [first, last] = [rows[0]!, rows[rows.length - 1]!];
console.log(
  `cost ${first.costPerHourUsd.toFixed(2)} → ${last.costPerHourUsd.toFixed(2)} USD/h; SLO-violation minutes ${rows.reduce((sum, row) => sum + row.sloViolationMinutes, 0)}; ${rows.reduce((sum, row) => sum + row.opened, 0)} change(s) merged, ${rows.reduce((sum, row) => sum + row.reverted, 0)} reverted. Plot: demo-cycles.svg`,
);
