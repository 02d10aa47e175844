/**
 * The plan benchmark's fixture: a fleet of `models` x 3 environments, synthesized,
 * with 20 simulated minutes of steady traffic on every deployment backfilled
 * into a real Prometheus. Returns what bench.ts needs to time `llmops plan`.
 */
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { main } from '../src/cli/main.ts';
import { startPrometheus, type PrometheusServer } from '../src/prometheus/server.ts';
import { readRunningDeployments } from '../src/simulator/manifests.ts';
import { simulate, writeOpenMetrics } from '../src/simulator/openmetrics.ts';
import { Scenario } from '../src/simulator/scenario.ts';
import { FleetSimulation } from '../src/simulator/simulation.ts';
import { writeLargeFleet } from './large-fleet.ts';

export interface PlanFixture {
  readonly root: string;
  readonly prometheus: PrometheusServer;
  readonly at: number;
  readonly deployments: number;
  readonly samples: number;
}

export async function planFixture(repoRoot: string, models: number): Promise<PlanFixture> {
  const root = await writeLargeFleet(repoRoot, models);
  const quiet = { out: () => {}, err: (text: string) => process.stderr.write(text) };
  if ((await main(['synth', '--root', root], quiet)) !== 0) throw new Error('synth of the benchmark fleet failed');
  const running = await readRunningDeployments(path.join(root, 'generated'));
  const scenario = Scenario.parse({
    durationMinutes: 20,
    stepSeconds: 60,
    deployments: Object.fromEntries(running.map((deployment) => [deployment.id, { traffic: { kind: 'steady', requestsPerSecond: 0.5 }, promptTokens: { mean: 500 }, outputTokens: { mean: 150 } }])),
    truth: Object.fromEntries(running.map((deployment) => [deployment.model, { parametersBillions: 8, kvBytesPerToken: 131072 }])),
  });
  const at = Math.floor(Date.now() / 60_000) * 60 - 3600;
  const recorder = simulate(new FleetSimulation(running, scenario), at);
  const file = path.join(root, 'backfill.om');
  await writeOpenMetrics(recorder, file);
  const prometheus = await startPrometheus({ openMetricsFile: file });
  await rm(file);
  return { root, prometheus, at, deployments: running.length, samples: recorder.sampleCount };
}
