import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { formatIssue } from '../../declarations/issues.ts';
import { backfill } from '../../prometheus/server.ts';
import { readRunningDeployments } from '../../simulator/manifests.ts';
import { serveSimulation } from '../../simulator/live-server.ts';
import { simulate } from '../../simulator/openmetrics.ts';
import { loadScenario } from '../../simulator/scenario.ts';
import { FleetSimulation } from '../../simulator/simulation.ts';
import { GENERATED_DIR } from '../../synth/write.ts';
import { ExitCode } from '../exit-codes.ts';
import { CliError, type Io } from '../io.ts';

export interface SimulateOptions {
  readonly root: string;
  /** Scenario file (YAML or JSON). */
  readonly scenario: string;
  /** Write the OpenMetrics text here. */
  readonly out?: string;
  /** Backfill this Prometheus data directory (promtool tsdb create-blocks-from openmetrics). */
  readonly tsdb?: string;
  /** Unix seconds the simulation ends at. Default: now, rounded down to the minute. */
  readonly end?: string;
  /** Serve live on this loopback port instead (0: any free port). */
  readonly serve?: string;
  /** Simulated seconds per real second in live mode. Default: 60. */
  readonly speed?: string;
}

/**
 * `llmops simulate`: runs a scenario against what `generated/` would run and
 * writes vLLM-named metrics with timestamps, for Prometheus to backfill.
 */
export async function simulateCommand(options: SimulateOptions, io: Io): Promise<void> {
  if (!options.out && !options.tsdb && options.serve === undefined) throw new CliError('expected --out FILE, --tsdb DIR or --serve PORT (got none)', ExitCode.usage);
  const loaded = await loadScenario(options.scenario);
  if (!loaded.ok) throw new CliError(loaded.issues.map(formatIssue).join('\n'), ExitCode.invalid);
  const running = await readRunningDeployments(path.join(options.root, GENERATED_DIR));
  const simulation = new FleetSimulation(running, loaded.scenario);
  const unknown = Object.keys(loaded.scenario.deployments).filter((id) => !running.some((deployment) => deployment.id === id));
  if (unknown.length > 0) {
    throw new CliError(
      `${options.scenario}: deployments: expected deployments that generated/ runs (${running.map((deployment) => deployment.id).join(', ')}) (got ${unknown.join(', ')})`,
      ExitCode.invalid,
    );
  }
  if (options.serve !== undefined) {
    const live = await serveSimulation(simulation, { port: Number(options.serve), speed: Number(options.speed ?? 60) });
    io.out(`Serving ${simulation.deployments.length} deployment(s) at ${live.url}/metrics, ${options.speed ?? 60}x real time, until the scenario ends.\n`);
    const stop = () => void live.stop();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    await live.finished;
    return;
  }
  const end = options.end === undefined ? Math.floor(Date.now() / 60_000) * 60 : Number(options.end);
  const recorder = simulate(simulation, end);
  if (options.out) await writeFile(options.out, recorder.text());
  // In 2-hour spans: a scenario's day of history backfills in linear time.
  if (options.tsdb) await backfill(options.tsdb, recorder.spanTexts());
  io.out(
    `Simulated ${loaded.scenario.durationMinutes} min of ${simulation.deployments.length} deployment(s) ending at ${new Date(end * 1000).toISOString()}` +
      `${options.out ? `; wrote ${options.out}` : ''}${options.tsdb ? `; backfilled ${options.tsdb}` : ''}.\n`,
  );
}
