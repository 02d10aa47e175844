/**
 * The benchmark that proves the bot pays: for each scenario, the closed loop
 * (simulator → real Prometheus → llmops optimize → merge → synth) against the
 * oracle and two baselines, all measured on the simulator's ground truth.
 */
import path from 'node:path';
import type { FleetDeployment } from '../src/fleet/fleet.ts';
import { loadFleet } from '../src/fleet/load.ts';
import { runClosedLoop, type CycleRow, type HumanChange } from '../src/loop/closed-loop.ts';
import { describeCandidate, oracle, queueAutoscaler, staticPeak, type Candidate, type Measured } from '../src/loop/oracle.ts';
import { readRunningDeployments } from '../src/simulator/manifests.ts';
import { Scenario } from '../src/simulator/scenario.ts';
import { editFile, preparedFixture } from '../src/testing/fixture-fleet.ts';
import { lastWednesdayAfternoon } from '../src/testing/plan-harness.ts';

const TRUTH = { 'llama-3-1-8b-instruct': { parametersBillions: 8.03, kvBytesPerToken: 131072 } };
const STAGING = 'staging/llama-3-1-8b-instruct';
const DEV = 'dev/llama-3-1-8b-instruct';
const STAGING_BLOCK = "replicas: { min: 1, max: 3 },\n      gpu: { type: 'nvidia-a100-80gb', count: 1 },\n      engineArgs: { 'max-num-seqs': 256 }";

interface BenchScenario {
  readonly name: string;
  readonly deploymentId: string;
  readonly cycles: number;
  readonly traffic: unknown;
  /** The declared configuration the run starts from (baselines keep its hardware). */
  readonly declared: Candidate;
  readonly start: (clone: string) => Promise<void>;
  /** Minutes at the end over which converged cost is compared (a whole period for periodic traffic). */
  readonly convergedMinutes: number;
  /** A person's change during the run; the oracle and baselines are priced as after it. */
  readonly change?: HumanChange & { readonly prices: FleetDeployment['environment']['prices'] };
}

const stagingStart = (min: number, max: number) => (clone: string) => editFile(clone, 'environments/staging.ts', STAGING_BLOCK, STAGING_BLOCK.replace('min: 1, max: 3', `min: ${min}, max: ${max}`));
const A100 = { gpuType: 'nvidia-a100-80gb', gpuCount: 1, maxNumSeqs: 256 } as const;
/** A10G spot in the price override: cheaper per replica than L4 spot (0.35 USD/h in the catalogue). */
const A10G_DISCOUNT = { 'g5.xlarge': { onDemandUsdPerHour: 1.006, spotUsdPerHour: 0.2 } };

const SCENARIOS: BenchScenario[] = [
  {
    name: 'over-provisioned',
    deploymentId: STAGING,
    cycles: 6,
    traffic: { kind: 'steady', requestsPerSecond: 0.6 },
    declared: { ...A100, minReplicas: 4, maxReplicas: 6 },
    start: stagingStart(4, 6),
    convergedMinutes: 60,
  },
  {
    name: 'under-provisioned',
    deploymentId: STAGING,
    cycles: 6,
    traffic: { kind: 'steady', requestsPerSecond: 5 },
    declared: { ...A100, minReplicas: 1, maxReplicas: 1 },
    start: stagingStart(1, 1),
    convergedMinutes: 60,
  },
  {
    name: 'diurnal (4-hour period)',
    deploymentId: STAGING,
    cycles: 8,
    traffic: { kind: 'diurnal', baseRequestsPerSecond: 0.3, peakRequestsPerSecond: 4, periodMinutes: 240 },
    declared: { ...A100, minReplicas: 1, maxReplicas: 3 },
    start: stagingStart(1, 3),
    convergedMinutes: 240,
  },
  {
    name: 'GPU price change (A10G spot 0.42 → 0.20 USD/h before cycle 3)',
    deploymentId: DEV,
    cycles: 6,
    traffic: { kind: 'steady', requestsPerSecond: 0.5 },
    declared: { gpuType: 'nvidia-l4', gpuCount: 1, maxNumSeqs: 64, minReplicas: 1, maxReplicas: 2 },
    start: (clone) => editFile(clone, 'environments/dev.ts', 'replicas: { min: 0, max: 2 }', 'replicas: { min: 1, max: 2 }'),
    convergedMinutes: 60,
    change: {
      beforeCycle: 3,
      description: 'Negotiated A10G spot rate',
      prices: A10G_DISCOUNT,
      apply: (clone) => editFile(clone, 'environments/dev.ts', "  budget: { monthlyUsd: 3000 },", `  budget: { monthlyUsd: 3000 },\n  prices: { 'g5.xlarge': { onDemandUsdPerHour: 1.006, spotUsdPerHour: 0.2 } },`),
    },
  },
];

export interface LoopResult {
  readonly scenario: string;
  readonly rows: readonly CycleRow[];
  readonly botCostPerHourUsd: number;
  readonly botViolationMinutes: number;
  readonly pullRequestsToConverge: number;
  readonly rollbacks: number;
  readonly oracle?: Measured;
  readonly oracleSimulations: number;
  readonly staticPeak: Measured;
  readonly queueAutoscaler: Measured;
}

async function runScenario(scenario: BenchScenario, log: (line: string) => void): Promise<LoopResult> {
  const minutes = scenario.cycles * 60;
  const input = { durationMinutes: minutes, seed: 17, deployments: { [scenario.deploymentId]: { traffic: scenario.traffic, promptTokens: { mean: 600 }, outputTokens: { mean: 150 } } }, truth: TRUTH };
  const rows = await runClosedLoop({
    deploymentId: scenario.deploymentId,
    cycles: scenario.cycles,
    start: new Date(lastWednesdayAfternoon().getTime() - minutes * 60_000),
    scenario: input,
    changes: [{ beforeCycle: 1, description: 'starting point', apply: scenario.start }, ...(scenario.change ? [scenario.change] : [])],
    onCycle: (row) => log(`  cycle ${row.cycle}: ${row.configuration}, ${row.costPerHourUsd.toFixed(2)} USD/h, ${row.sloViolationMinutes} violation min, ${row.actions.join(', ') || '-'}`),
  });
  const loaded = await loadFleet(await preparedFixture());
  if (!loaded.ok) throw new Error('the example fleet is invalid');
  const declared = loaded.fleet.deployments.find((deployment) => deployment.id === scenario.deploymentId)!;
  const deployment: FleetDeployment = scenario.change ? { ...declared, environment: { ...declared.environment, prices: scenario.change.prices } } : declared;
  const base = (await readRunningDeployments(path.join(await preparedFixture(), 'generated'))).find((running) => running.id === scenario.deploymentId)!;
  const truth = Scenario.parse(input);
  const costFrom = minutes - scenario.convergedMinutes;
  const searched = oracle(deployment, base, truth, minutes, costFrom);
  const converged = rows.slice(-scenario.convergedMinutes / 60);
  const lastChange = rows.reduce((last, row, index) => (row.opened + row.reverted > 0 ? index : last), -1);
  return {
    scenario: scenario.name,
    rows,
    botCostPerHourUsd: converged.reduce((sum, row) => sum + row.costPerHourUsd, 0) / converged.length,
    botViolationMinutes: rows.reduce((sum, row) => sum + row.sloViolationMinutes, 0),
    pullRequestsToConverge: rows.slice(0, lastChange + 1).reduce((sum, row) => sum + row.opened + row.reverted, 0),
    rollbacks: rows.reduce((sum, row) => sum + row.reverted, 0),
    oracle: searched.best,
    oracleSimulations: searched.simulated,
    staticPeak: staticPeak(deployment, base, truth, scenario.declared, minutes, costFrom),
    queueAutoscaler: queueAutoscaler(deployment, base, truth, scenario.declared, minutes, costFrom),
  };
}

export async function loopBenchmark(log: (line: string) => void = console.error): Promise<LoopResult[]> {
  const results: LoopResult[] = [];
  for (const scenario of SCENARIOS) {
    log(`closed loop: ${scenario.name}`);
    results.push(await runScenario(scenario, log));
  }
  return results;
}

const usd = (measured: Measured | undefined) => (measured ? `${measured.costPerHourUsd.toFixed(2)} (${measured.sloViolationMinutes} min)` : 'none feasible');

export function loopMarkdown(results: readonly LoopResult[]): string {
  const rows = results.map(
    (result) =>
      `| ${result.scenario} | ${result.botCostPerHourUsd.toFixed(2)} | ${result.botViolationMinutes} | ${usd(result.oracle)} | ${usd(result.staticPeak)} | ${usd(result.queueAutoscaler)} | ${result.pullRequestsToConverge} | ${result.rollbacks} | ${result.oracle ? (result.botCostPerHourUsd / result.oracle.costPerHourUsd).toFixed(2) : '-'} |`,
  );
  const details = results.map((result) => `- ${result.scenario}: bot ends on ${result.rows[result.rows.length - 1]!.configuration}; oracle ${result.oracle ? describeCandidate(result.oracle.candidate) : 'none'} (${result.oracleSimulations} simulations); static peak ${describeCandidate(result.staticPeak.candidate)}.`);
  return `| scenario | bot USD/h (converged) | bot SLO-violation min | oracle USD/h (viol. min) | static peak USD/h (viol. min) | queue autoscaler USD/h (viol. min) | PRs to converge | rollbacks | bot / oracle |
|---|---:|---:|---:|---:|---:|---:|---:|---:|
${rows.join('\n')}

${details.join('\n')}
`;
}
