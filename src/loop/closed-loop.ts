/**
 * The closed loop, on loopback only: the fleet simulator runs what generated/
 * on main declares; its metrics go into the real Prometheus; the bot runs one
 * cycle against a bare git remote and the GitHub stand-in; a reviewer merges
 * what it opened; the cluster (a clone of main, as Argo CD sees it) reloads
 * generated/; simulated time advances. Used by `npm run demo` and the benchmark.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runCycle, type CycleOptions } from '../act/cycle.ts';
import { parseMetadata } from '../act/pull-request-body.ts';
import { formatIssue } from '../declarations/issues.ts';
import { estimateDeploymentCost } from '../fleet/cost.ts';
import type { FleetDeployment } from '../fleet/fleet.ts';
import { loadFleet } from '../fleet/load.ts';
import { describeConfiguration } from '../optimizer/describe.ts';
import { currentConfiguration } from '../optimizer/decide.ts';
import { planFleet } from '../optimizer/plan.ts';
import { PrometheusClient } from '../prometheus/client.ts';
import { backfill, backfillFile, startPrometheus, type PrometheusServer } from '../prometheus/server.ts';
import { readRunningDeployments } from '../simulator/manifests.ts';
import { OpenMetricsRecorder, writeOpenMetrics } from '../simulator/openmetrics.ts';
import { Scenario } from '../simulator/scenario.ts';
import { FleetSimulation } from '../simulator/simulation.ts';
import { createBotWorld, git } from '../testing/bot-harness.ts';
import { runCli } from '../testing/fixture-fleet.ts';
import { SloMeter } from './slo-meter.ts';

/** A change a person makes on main before a cycle (the starting point, a price change). */
export interface HumanChange {
  readonly beforeCycle: number;
  readonly description: string;
  /** Edits files in the person's clone; the loop synthesizes, commits and pushes. */
  readonly apply: (clone: string) => Promise<void>;
}

export interface ClosedLoopOptions {
  /** Traffic and hidden truth (scenario input form); its duration is ignored, the loop runs `cycles × cycleMinutes`. */
  readonly scenario: unknown;
  /** The deployment measured and reported. */
  readonly deploymentId: string;
  readonly cycles: number;
  /** Simulated minutes between bot runs. Default: 60. */
  readonly cycleMinutes?: number;
  /** Simulated start. */
  readonly start: Date;
  readonly changes?: readonly HumanChange[];
  readonly onCycle?: (row: CycleRow) => void;
  /**
   * Which of the bot's ready pull requests the reviewer merges in the cycle it opens or updates them (by the rule
   * that made them, `revert` for a revert). Default: all. Drafts (`needs-decision`) are a person's: never merged.
   */
  readonly merges?: (rule: string) => boolean;
}

export interface CycleRow {
  readonly cycle: number;
  readonly simulatedEnd: Date;
  /** What ran during the cycle. */
  readonly configuration: string;
  /** Mean serving replicas × price of one replica, USD/hour. */
  readonly costPerHourUsd: number;
  readonly meanReplicas: number;
  readonly e2eP95Seconds?: number;
  readonly ttftP95Seconds?: number;
  readonly errorRatio?: number;
  readonly sloViolationMinutes: number;
  /** Pull requests opened, merged, reverted during the bot run after the cycle. */
  readonly actions: readonly string[];
  /** The bot's decision for the deployment in that run: its rule and reason. */
  readonly decision?: string;
  readonly opened: number;
  readonly reverted: number;
}

async function deploymentAt(root: string, id: string): Promise<FleetDeployment> {
  const loaded = await loadFleet(root);
  if (!loaded.ok) throw new Error(`main does not validate:\n${loaded.issues.map(formatIssue).join('\n')}`);
  const deployment = loaded.fleet.deployments.find((candidate) => candidate.id === id);
  if (!deployment) throw new Error(`no deployment ${id} on main`);
  return deployment;
}

/** Synthesizes, commits and pushes a person's edit of main (nothing when the edit changed nothing). */
async function commitHumanChange(clone: string, message: string): Promise<void> {
  const synth = await runCli(['synth', '--root', clone]);
  if (synth.exitCode !== 0) throw new Error(`synth failed after "${message}":\n${synth.stderr}`);
  if ((await git(clone, 'status', '--porcelain')).trim() === '') return;
  await git(clone, 'commit', '--quiet', '--all', '-m', message);
  await git(clone, 'push', '--quiet', 'origin', 'main');
}

export async function runClosedLoop(options: ClosedLoopOptions): Promise<CycleRow[]> {
  const cycleMinutes = options.cycleMinutes ?? 60;
  let now = options.start;
  const world = await createBotWorld(() => now);
  const dataHome = await mkdtemp(path.join(tmpdir(), 'llmops-loop-'));
  let prometheus: PrometheusServer | undefined;
  const rows: CycleRow[] = [];
  try {
    const cluster = world.human;
    const bot = world.repository(await world.botClone());
    const scenario = Scenario.parse(options.scenario);
    const simulation = new FleetSimulation(await readRunningDeployments(path.join(cluster, 'generated')), scenario);
    const meter = new SloMeter(options.deploymentId, (await deploymentAt(cluster, options.deploymentId)).environment.slos);
    const stepsPerCycle = Math.round((cycleMinutes * 60) / scenario.stepSeconds);
    let previousRecorder: OpenMetricsRecorder | undefined;
    // The scenario's history (the day before the first run, say) goes into Prometheus before the bot first runs.
    if (simulation.elapsedSeconds < 0) {
      previousRecorder = new OpenMetricsRecorder();
      while (simulation.elapsedSeconds < 0) {
        simulation.step();
        previousRecorder.record(simulation, Math.round(options.start.getTime() / 1000 + simulation.elapsedSeconds));
      }
      await backfill(path.join(dataHome, 'data'), previousRecorder.spanTexts());
    }

    for (let cycle = 1; cycle <= options.cycles; cycle += 1) {
      for (const change of (options.changes ?? []).filter((candidate) => candidate.beforeCycle === cycle)) {
        await git(cluster, 'pull', '--quiet', '--ff-only');
        await change.apply(cluster);
        await commitHumanChange(cluster, change.description);
        simulation.reload(await readRunningDeployments(path.join(cluster, 'generated')));
      }
      const deployment = await deploymentAt(cluster, options.deploymentId);

      // Traffic for one cycle, recorded for Prometheus and judged against the SLOs.
      const recorder = new OpenMetricsRecorder(previousRecorder);
      previousRecorder = recorder;
      const firstMinute = Math.round(simulation.elapsedSeconds / 60);
      for (let step = 0; step < stepsPerCycle; step += 1) {
        simulation.step();
        meter.observe(simulation, scenario.stepSeconds);
        recorder.record(simulation, Math.round(options.start.getTime() / 1000 + simulation.elapsedSeconds));
      }
      now = new Date(options.start.getTime() + simulation.elapsedSeconds * 1000);
      const file = path.join(dataHome, `cycle-${cycle}.om`);
      await writeOpenMetrics(recorder, file);
      await prometheus?.stop();
      await backfillFile(path.join(dataHome, 'data'), file);
      prometheus = await startPrometheus({ dataDir: path.join(dataHome, 'data') });

      // The bot, then the reviewer, then Argo CD.
      const client = new PrometheusClient(prometheus.url);
      let decision: string | undefined;
      const planner: NonNullable<CycleOptions['planner']> = async (fleet, planning) => {
        const recommendations = await planFleet(fleet, client, planning);
        const mine = recommendations.find((recommendation) => recommendation.deploymentId === options.deploymentId);
        decision =
          mine &&
          `${mine.rule}: ${mine.reason} [demand peak ${(mine.observed.peakRequestsPerSecond ?? 0).toFixed(1)} req/s; current capacity ${mine.current.prediction.capacityRequestsPerSecond.toFixed(1)} req/s at ${mine.calibration.capacity.toFixed(2)}x the prior (${mine.calibration.capacityEvidence})]`;
        return recommendations;
      };
      const report = await runCycle({ repository: bot, github: world.client(), prometheus: client, now, planner });
      const actions: string[] = [];
      let [opened, reverted] = [0, 0];
      for (const outcome of report.outcomes) {
        const pull = world.github.pulls.find((candidate) => candidate.number === outcome.pullRequest);
        const rule = outcome.proposal === 'revert' ? 'revert' : (parseMetadata(pull?.body)?.rule ?? 'optimizer');
        if ((outcome.kind === 'opened' || outcome.kind === 'updated') && pull?.draft) {
          actions.push(`draft #${outcome.pullRequest} (${rule}) left to a person`);
        } else if ((outcome.kind === 'opened' || outcome.kind === 'updated') && outcome.pullRequest && !(options.merges ?? (() => true))(rule)) {
          actions.push(`${outcome.kind} #${outcome.pullRequest} (${rule}), not merged yet`);
        } else if ((outcome.kind === 'opened' || outcome.kind === 'updated') && outcome.pullRequest) {
          await world.github.merge(outcome.pullRequest);
          actions.push(`${outcome.proposal === 'revert' ? 'reverted' : 'merged'} #${outcome.pullRequest}`);
          if (outcome.proposal === 'revert') reverted += 1;
          else opened += 1;
        } else if (outcome.kind !== 'unchanged') {
          actions.push(`${outcome.deploymentId.split('/')[1]}: ${outcome.kind}`);
        }
      }
      await git(cluster, 'pull', '--quiet', '--ff-only');
      const check = await runCli(['synth', '--check', '--root', cluster]);
      if (check.exitCode !== 0) throw new Error(`generated/ on main is stale after cycle ${cycle}:\n${check.stderr}`);
      simulation.reload(await readRunningDeployments(path.join(cluster, 'generated')));

      const usdPerReplica = estimateDeploymentCost(deployment.environment, deployment.spec)?.usdPerHourPerReplica ?? 0;
      const row: CycleRow = {
        cycle,
        simulatedEnd: now,
        configuration: describeConfiguration(currentConfiguration(deployment)),
        costPerHourUsd: meter.meanReplicas(firstMinute, firstMinute + cycleMinutes) * usdPerReplica,
        meanReplicas: meter.meanReplicas(firstMinute, firstMinute + cycleMinutes),
        ...meter.summary(firstMinute, firstMinute + cycleMinutes),
        sloViolationMinutes: meter.violationMinutes(firstMinute, firstMinute + cycleMinutes),
        actions,
        ...(decision ? { decision } : {}),
        opened,
        reverted,
      };
      rows.push(row);
      options.onCycle?.(row);
    }
    return rows;
  } finally {
    await prometheus?.stop();
    await world.remove();
    await rm(dataHome, { recursive: true, force: true });
  }
}
