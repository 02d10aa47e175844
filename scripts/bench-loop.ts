/**
 * The benchmark that tells whether the bot pays: per scenario, the closed loop
 * (simulator → real Prometheus → llmops optimize → merge → synth) against the
 * oracle and the baselines, every strategy accounted on the same spans (the
 * whole run and the converged span) from the simulator's ground truth. Worlds
 * include ones whose truth differs from the bot's prior in shape.
 */
import path from 'node:path';
import type { FleetDeployment } from '../src/fleet/fleet.ts';
import { loadFleet } from '../src/fleet/load.ts';
import { runClosedLoop, type CycleRow, type HumanChange } from '../src/loop/closed-loop.ts';
import { describeCandidate, noBot, oracle, queueAutoscaler, staticPeak, type Candidate, type Measured } from '../src/loop/oracle.ts';
import { readRunningDeployments } from '../src/simulator/manifests.ts';
import { Scenario } from '../src/simulator/scenario.ts';
import { DECISION_RULE_SCENARIOS } from '../src/simulator/scenarios/decision-rules.ts';
import { editFile, preparedFixture } from '../src/testing/fixture-fleet.ts';
import { lastWednesdayAfternoon } from '../src/testing/plan-harness.ts';

const LLAMA_8B = { parametersBillions: 8.03, kvBytesPerToken: 131072, layers: 32 };
const STAGING = 'staging/llama-3-1-8b-instruct';
const PRODUCTION = 'production/llama-3-1-8b-instruct';
const DEV = 'dev/llama-3-1-8b-instruct';
const STAGING_BLOCK = "replicas: { min: 1, max: 3 },\n      gpu: { type: 'nvidia-a100-80gb', count: 1 },\n      engineArgs: { 'max-num-seqs': 256 }";
const CYCLE_MINUTES = 60;

interface BenchScenario {
  readonly name: string;
  /** What makes it hard, for the report. */
  readonly world: string;
  readonly deploymentId: string;
  readonly cycles: number;
  readonly traffic: unknown;
  readonly promptTokens?: number;
  readonly outputTokens?: number;
  /** The hidden truth of the model, beyond its size (how its GPU departs from the serving model). */
  readonly gpus?: Record<string, unknown>;
  /** The declared configuration the run starts from (baselines keep its hardware). */
  readonly declared: Candidate;
  readonly start: (clone: string) => Promise<void>;
  /** Minutes at the end over which converged cost is compared (a whole period for periodic traffic). */
  readonly convergedMinutes: number;
  /** A person's change during the run; the oracle and baselines are priced as after it. */
  readonly change?: HumanChange & { readonly prices: FleetDeployment['environment']['prices'] };
  /** Why the bot misses a target here, when it does (read from its decisions in the runs measured; shown only for a miss). */
  readonly whyMissed?: string;
  /** Hours of the same traffic in Prometheus before the first run (a policy's seasonality, a day, is the history a shrink needs). Default: 24. */
  readonly historyHours?: number;
  /** Which pull requests the reviewer merges, by rule (default: all but drafts). */
  readonly merges?: (rule: string) => boolean;
}

const stagingStart = (min: number, max: number) => (clone: string) => editFile(clone, 'environments/staging.ts', STAGING_BLOCK, STAGING_BLOCK.replace('min: 1, max: 3', `min: ${min}, max: ${max}`));
const A100 = { gpuType: 'nvidia-a100-80gb', gpuCount: 1, maxNumSeqs: 256 } as const;
const staging = (min: number, max: number) => ({ declared: { ...A100, minReplicas: min, maxReplicas: max }, start: stagingStart(min, max) });

export const SCENARIOS: readonly BenchScenario[] = [
  { name: 'over-provisioned', world: 'as predicted', deploymentId: STAGING, cycles: 6, traffic: { kind: 'steady', requestsPerSecond: 2 }, ...staging(4, 6), convergedMinutes: 60 },
  {
    name: 'under-provisioned',
    world: 'as predicted',
    deploymentId: STAGING,
    cycles: 6,
    traffic: { kind: 'steady', requestsPerSecond: 30 },
    ...staging(1, 1),
    convergedMinutes: 60,
    whyMissed:
      "the first hour's backlog (TTFT p95 615 s at the first run) takes most of the second hour to drain on the three replicas the first run sizes to the observed peak in one step (12 violation minutes), and the breach the draining backlog keeps up adds a fourth (a breach that persists adds at least one replica). Converged, the bot keeps the fourth: balanced weighs latency 0.3, and with the oracle's three the predicted p95s rise enough that the 25 % saving nets under its 10 % minimum improvement.",
  },
  {
    name: 'diurnal days from the trough (4-hour period)',
    world: 'as predicted',
    deploymentId: STAGING,
    cycles: 8,
    traffic: { kind: 'diurnal', baseRequestsPerSecond: 2, peakRequestsPerSecond: 35, periodMinutes: 240, peakAtMinute: 120 },
    ...staging(1, 3),
    convergedMinutes: 240,
    whyMissed:
      "the first run sees only the start of the morning ramp (17 req/s) and sizes for that; the second sizes for the day's 35 req/s peak with 20 % headroom in one step — four replicas where the oracle runs three — and, as under-provisioned, balanced's latency weight keeps the fourth. From the third run on, no violation minute.",
  },
  {
    name: 'step up (5 → 30 req/s at minute 180)',
    world: 'as predicted',
    deploymentId: STAGING,
    cycles: 7,
    traffic: { kind: 'steps', requestsPerSecond: 5, steps: [{ atMinute: 180, requestsPerSecond: 30 }] },
    ...staging(1, 3),
    convergedMinutes: 120,
    whyMissed:
      'a step up is answered only after it is seen: the hour after it runs on what the trough needed (60 violation minutes); the next run sizes for the step in one step and its backlog drains in two minutes. Static peak is sized for the step in advance.',
  },
  {
    name: 'step down (30 → 4 req/s at minute 180)',
    world: 'as predicted',
    deploymentId: STAGING,
    cycles: 7,
    traffic: { kind: 'steps', requestsPerSecond: 30, steps: [{ atMinute: 180, requestsPerSecond: 4 }] },
    ...staging(3, 4),
    convergedMinutes: 120,
  },
  {
    name: 'faster at high batch (saturation knee 6x later)',
    world: 'shape: A100 knee 6',
    deploymentId: STAGING,
    cycles: 6,
    traffic: { kind: 'steady', requestsPerSecond: 40 },
    gpus: { 'nvidia-a100-80gb': { knee: 6 } },
    ...staging(3, 4),
    convergedMinutes: 60,
    whyMissed:
      'the bot believes only the capacity it has seen: at ~13 req/s a replica the world completes about 1.5x what the prior says at that concurrency, and the 4x at saturation lies beyond anything observed, so the uncertainty of that extrapolation keeps three replicas. No scale-up, no violation minute; the oracle knows the truth.',
  },
  {
    name: 'GPU at half its datasheet',
    world: 'shape: A100 speed 0.5',
    deploymentId: STAGING,
    cycles: 6,
    traffic: { kind: 'steady', requestsPerSecond: 12 },
    gpus: { 'nvidia-a100-80gb': { speed: 0.5 } },
    ...staging(1, 2),
    convergedMinutes: 60,
    whyMissed:
      "at half speed the first run sees a queue and scales out to 3–5 replicas in one step; the second still sees the first hour's backlog draining (requests waiting on average), counts the inter-token breach (120 ms > 80 ms) as load and adds a replica; the third classes it as per-request speed and takes the best fix balanced's thresholds accept, FP8 on five replicas where the oracle runs four. Two hours of prefill-stretched gaps make the violation minutes; a queue-share test (`queuedShare`) instead of the mean queue would have moved to FP8 a run earlier.",
  },
  {
    name: 'long prompts, prefill dominates (3,000 in / 100 out)',
    world: 'shape: A100 prefill 0.7x',
    deploymentId: STAGING,
    cycles: 6,
    traffic: { kind: 'steady', requestsPerSecond: 6 },
    promptTokens: 3000,
    outputTokens: 100,
    gpus: { 'nvidia-a100-80gb': { prefillSpeed: 0.7 } },
    ...staging(1, 3),
    convergedMinutes: 60,
    whyMissed:
      "TTFT and inter-token SLOs break on one replica (prefill at 0.7x). The first run's needs-decision draft failed to build (the loop keeps only the outcome kind; not investigated). Then each one-step scale-out to 2–3 replicas is followed by a worse TTFT p95 in its verification window (2.3 s → 4.0 s), a breach it worsened, and is reverted; a reverted configuration is remembered only for balanced's 60-min cooldown, so the next run proposes it again: 2 reverts. Issue 12's ban of a reverted neighbourhood (rule 2, the other half of the issue) is what ends this.",
  },
  {
    name: 'cost PR open when a breach starts (5 → 45 req/s at minute 120; savings wait for review)',
    world: 'as predicted',
    deploymentId: STAGING,
    cycles: 6,
    // 45 req/s breaks 2–3 replicas, and the scale-out it needs (4–6) still fits staging's eight A100 nodes with a canary surge.
    traffic: { kind: 'steps', requestsPerSecond: 5, steps: [{ atMinute: 120, requestsPerSecond: 45 }] },
    ...staging(2, 3),
    convergedMinutes: 120,
    // The reviewer merges safety changes and reverts at once; cost proposals wait.
    merges: (rule) => rule !== 'optimizer' && rule !== 'business-budget',
    whyMissed:
      'the step is seen by the run after it (60 violation minutes, as any step up); that run rewrites the cost proposal waiting for review (1–2 replicas) into the scale-out to 4–6, which the reviewer merges at once, and the backlog drains in 7 minutes.',
  },
  {
    name: 'conservative production on a too-slow GPU (8,000-token prompts on L4)',
    world: 'as predicted',
    deploymentId: PRODUCTION,
    cycles: 4,
    traffic: { kind: 'steady', requestsPerSecond: 0.3 },
    promptTokens: 8000,
    outputTokens: 100,
    declared: { gpuType: 'nvidia-l4', gpuCount: 1, maxNumSeqs: 128, maxNumBatchedTokens: 4096, minReplicas: 2, maxReplicas: 8 },
    // A third H100 node, so that a GPU move fits beside the 70B: what blocks the fix is the policy, not the pool.
    start: (clone) => editFile(clone, 'environments/production.ts', "capacity: 'on-demand', minNodes: 1, maxNodes: 2 }", "capacity: 'on-demand', minNodes: 1, maxNodes: 3 }"),
    convergedMinutes: 60,
  },
  {
    name: 'GPU price change (A10G spot 0.42 → 0.20 USD/h before cycle 3)',
    world: 'as predicted',
    deploymentId: DEV,
    cycles: 6,
    traffic: { kind: 'steady', requestsPerSecond: 1.5 },
    declared: { gpuType: 'nvidia-l4', gpuCount: 1, maxNumSeqs: 64, minReplicas: 1, maxReplicas: 2 },
    start: (clone) => editFile(clone, 'environments/dev.ts', 'replicas: { min: 0, max: 2 }', 'replicas: { min: 1, max: 2 }'),
    convergedMinutes: 60,
    change: {
      beforeCycle: 3,
      description: 'Negotiated A10G spot rate',
      prices: { 'g5.xlarge': { onDemandUsdPerHour: 1.006, spotUsdPerHour: 0.2 } },
      apply: (clone) =>
        editFile(clone, 'environments/dev.ts', '  budget: { monthlyUsd: 3000 },', `  budget: { monthlyUsd: 3000 },\n  prices: { 'g5.xlarge': { onDemandUsdPerHour: 1.006, spotUsdPerHour: 0.2 } },`),
    },
  },
  ...DECISION_RULE_SCENARIOS,
];

/** The bot's run, accounted as the yardsticks are. */
export interface BotResult {
  readonly wholeRunUsd: number;
  readonly wholeRunViolationMinutes: number;
  /** Violation minutes from the second cycle on (after the bot's first run could act). */
  readonly violationMinutesAfterFirstCycle: number;
  readonly convergedUsdPerHour: number;
  readonly convergedViolationMinutes: number;
  readonly pullRequestsToConverge: number;
  readonly reverts: number;
}

export interface LoopResult {
  readonly scenario: BenchScenario;
  readonly rows: readonly CycleRow[];
  readonly bot: BotResult;
  readonly oracle?: Measured;
  readonly oracleSimulations: number;
  readonly staticPeak: Measured;
  readonly queueAutoscaler: Measured;
  readonly noBot: Measured;
  /** Done-when targets this scenario misses, each with the figures. */
  readonly missed: readonly string[];
}

function botResult(rows: readonly CycleRow[], convergedCycles: number): BotResult {
  const sum = (values: readonly number[]) => values.reduce((total, value) => total + value, 0);
  const converged = rows.slice(-convergedCycles);
  const lastChange = rows.reduce((last, row, index) => (row.opened + row.reverted > 0 ? index : last), -1);
  return {
    wholeRunUsd: sum(rows.map((row) => (row.costPerHourUsd * CYCLE_MINUTES) / 60)),
    wholeRunViolationMinutes: sum(rows.map((row) => row.sloViolationMinutes)),
    violationMinutesAfterFirstCycle: sum(rows.slice(1).map((row) => row.sloViolationMinutes)),
    convergedUsdPerHour: sum(converged.map((row) => row.costPerHourUsd)) / converged.length,
    convergedViolationMinutes: sum(converged.map((row) => row.sloViolationMinutes)),
    pullRequestsToConverge: sum(rows.slice(0, lastChange + 1).map((row) => row.opened + row.reverted)),
    reverts: sum(rows.map((row) => row.reverted)),
  };
}

/** The issue's Done-when targets, checked on one scenario. */
function missedTargets(bot: BotResult, oracleResult: Measured | undefined, peak: Measured): string[] {
  const missed: string[] = [];
  if (bot.convergedUsdPerHour > peak.converged.costPerHourUsd + 1e-9)
    missed.push(`converged cost ${bot.convergedUsdPerHour.toFixed(2)} > static peak ${peak.converged.costPerHourUsd.toFixed(2)} USD/h`);
  if (oracleResult && bot.convergedUsdPerHour > 1.05 * oracleResult.converged.costPerHourUsd + 1e-9)
    missed.push(`converged cost ${(bot.convergedUsdPerHour / oracleResult.converged.costPerHourUsd).toFixed(2)}x the oracle's (target 1.05x)`);
  if (peak.wholeRun.sloViolationMinutes === 0 && bot.violationMinutesAfterFirstCycle > 0)
    missed.push(`${bot.violationMinutesAfterFirstCycle} violation minutes after the first cycle where static peak has none`);
  if (bot.pullRequestsToConverge > 3) missed.push(`${bot.pullRequestsToConverge} pull requests to converge (target 3)`);
  if (bot.reverts > 1) missed.push(`${bot.reverts} reverts (target 1)`);
  return missed;
}

async function runScenario(scenario: BenchScenario, log: (line: string) => void): Promise<LoopResult> {
  const minutes = scenario.cycles * CYCLE_MINUTES;
  const input = {
    durationMinutes: minutes,
    seed: 17,
    deployments: { [scenario.deploymentId]: { traffic: scenario.traffic, promptTokens: { mean: scenario.promptTokens ?? 600 }, outputTokens: { mean: scenario.outputTokens ?? 150 } } },
    truth: { 'llama-3-1-8b-instruct': { ...LLAMA_8B, ...(scenario.gpus ? { gpus: scenario.gpus } : {}) } },
  };
  const history = scenario.historyHours === 0 ? {} : { history: { hours: scenario.historyHours ?? 24 } };
  const rows = await runClosedLoop({
    deploymentId: scenario.deploymentId,
    cycles: scenario.cycles,
    cycleMinutes: CYCLE_MINUTES,
    start: new Date(lastWednesdayAfternoon().getTime() - minutes * 60_000),
    scenario: { ...input, ...history },
    changes: [{ beforeCycle: 1, description: 'starting point', apply: scenario.start }, ...(scenario.change ? [scenario.change] : [])],
    ...(scenario.merges ? { merges: scenario.merges } : {}),
    onCycle: (row) =>
      log(
        `  cycle ${row.cycle}: ${row.configuration}, ${row.costPerHourUsd.toFixed(2)} USD/h, ${row.sloViolationMinutes} violation min, ${row.actions.join(', ') || '-'}\n    ${row.decision ?? 'no decision'}`,
      ),
  });
  const loaded = await loadFleet(await preparedFixture());
  if (!loaded.ok) throw new Error('the example fleet is invalid');
  const declared = loaded.fleet.deployments.find((deployment) => deployment.id === scenario.deploymentId)!;
  const deployment: FleetDeployment = scenario.change ? { ...declared, environment: { ...declared.environment, prices: scenario.change.prices } } : declared;
  const base = (await readRunningDeployments(path.join(await preparedFixture(), 'generated'))).find((running) => running.id === scenario.deploymentId)!;
  const truth = Scenario.parse(input);
  const convergedFrom = minutes - scenario.convergedMinutes;
  const searched = oracle(deployment, base, truth, minutes, convergedFrom);
  const bot = botResult(rows, scenario.convergedMinutes / CYCLE_MINUTES);
  const peak = staticPeak(deployment, base, truth, scenario.declared, minutes, convergedFrom);
  return {
    scenario,
    rows,
    bot,
    oracle: searched.best,
    oracleSimulations: searched.simulated,
    staticPeak: peak,
    queueAutoscaler: queueAutoscaler(deployment, base, truth, scenario.declared, minutes, convergedFrom),
    noBot: noBot(deployment, base, truth, scenario.declared, minutes, convergedFrom),
    missed: missedTargets(bot, searched.best, peak),
  };
}

export async function loopBenchmark(log: (line: string) => void = console.error, only?: RegExp): Promise<LoopResult[]> {
  const results: LoopResult[] = [];
  for (const scenario of SCENARIOS.filter((candidate) => !only || only.test(candidate.name))) {
    log(`closed loop: ${scenario.name}`);
    const result = await runScenario(scenario, log);
    log(`  bot ${result.bot.convergedUsdPerHour.toFixed(2)} USD/h converged; oracle ${result.oracle?.converged.costPerHourUsd.toFixed(2) ?? '-'}; missed: ${result.missed.join('; ') || 'none'}`);
    results.push(result);
  }
  return results;
}

const whole = (measured: Measured | undefined) => (measured ? `${measured.wholeRun.totalUsd.toFixed(2)} (${measured.wholeRun.sloViolationMinutes})` : 'none feasible');
const converged = (measured: Measured | undefined) => (measured ? `${measured.converged.costPerHourUsd.toFixed(2)} (${measured.converged.sloViolationMinutes})` : 'none feasible');

export function loopMarkdown(results: readonly LoopResult[]): string {
  const wholeRows = results.map(
    ({ scenario, bot, oracle: best, staticPeak: peak, queueAutoscaler: queue, noBot: none }) =>
      `| ${scenario.name} | ${scenario.world} | ${bot.wholeRunUsd.toFixed(2)} (${bot.wholeRunViolationMinutes}; ${bot.violationMinutesAfterFirstCycle} after cycle 1) | ${whole(best)} | ${whole(peak)} | ${whole(queue)} | ${whole(none)} |`,
  );
  const convergedRows = results.map(
    ({ scenario, bot, oracle: best, staticPeak: peak, queueAutoscaler: queue, noBot: none, missed }) =>
      `| ${scenario.name} | ${bot.convergedUsdPerHour.toFixed(2)} (${bot.convergedViolationMinutes}) | ${converged(best)} | ${converged(peak)} | ${converged(queue)} | ${converged(none)} | ${best ? (bot.convergedUsdPerHour / best.converged.costPerHourUsd).toFixed(2) : '-'} | ${bot.pullRequestsToConverge} | ${bot.reverts} | ${missed.length === 0 ? 'met' : missed.join('; ')} |`,
  );
  const why = results.filter((result) => result.missed.length > 0 && result.scenario.whyMissed).map((result) => `- ${result.scenario.name}: ${result.scenario.whyMissed}`);
  const details = results.map(
    (result) =>
      `- ${result.scenario.name}: bot ends on ${result.rows[result.rows.length - 1]!.configuration} (cycles: ${result.rows.map((row) => `${row.cycle}: ${row.actions.join(', ') || '-'}${row.sloViolationMinutes > 0 ? ` [${row.sloViolationMinutes} viol. min]` : ''}`).join('; ')}); oracle ${result.oracle ? describeCandidate(result.oracle.candidate) : 'none'} (${result.oracleSimulations} simulations); static peak ${describeCandidate(result.staticPeak.candidate)}.`,
  );
  return `Whole run: total USD (SLO-violation minutes) per strategy.

| scenario | world | bot | oracle | static peak | queue autoscaler | no bot |
|---|---|---:|---:|---:|---:|---:|
${wholeRows.join('\n')}

Converged span: USD/hour (SLO-violation minutes) per strategy, and the Done-when targets.

| scenario | bot | oracle | static peak | queue autoscaler | no bot | bot / oracle | PRs to converge | reverts | targets |
|---|---:|---:|---:|---:|---:|---:|---:|---:|---|
${convergedRows.join('\n')}

Why targets are missed:

${why.join('\n')}

Per scenario, what the bot ran and did each cycle:

${details.join('\n')}
`;
}
