/**
 * Live mode: the simulated fleet on a loopback `/metrics` endpoint, rendered by
 * prom-client, advancing simulated time `speed` times faster than real time,
 * for a Prometheus to scrape. Stops by itself when the scenario ends.
 */
import { createServer } from 'node:http';
import { Registry, type Metric } from 'prom-client';
import { currentSamples } from './samples.ts';
import type { FleetSimulation } from './simulation.ts';
import type { Family } from '../vllm/metrics.ts';
import { FAMILIES } from './families.ts';

/** A prom-client registry whose metrics read the simulation's state at every scrape. */
export function simulationRegistry(simulation: FleetSimulation): Registry {
  const registry = new Registry();
  for (const family of Object.values(FAMILIES) as Family[]) {
    const name = family.type === 'counter' ? `${family.name}_total` : family.name;
    const metric = {
      name,
      help: family.help,
      type: family.type,
      aggregator: 'sum',
      get: async () => ({
        name,
        help: family.help,
        type: family.type,
        aggregator: 'sum',
        values: currentSamples(simulation)
          .filter((sample) => sample.family === family)
          .map((sample) => ({ value: sample.value, labels: sample.labels, metricName: sample.name })),
      }),
      reset: () => {},
    };
    registry.registerMetric(metric as unknown as Metric);
  }
  return registry;
}

export interface LiveSimulation {
  /** `http://127.0.0.1:<port>`; metrics at `/metrics`. */
  readonly url: string;
  /** Resolves when the scenario has run to its end (or `stop` was called). */
  readonly finished: Promise<void>;
  stop(): Promise<void>;
}

/** Serves the simulation on 127.0.0.1:`port` (0 = any free port), one step every stepSeconds ÷ speed real seconds. */
export async function serveSimulation(simulation: FleetSimulation, options: { port?: number; speed?: number } = {}): Promise<LiveSimulation> {
  const registry = simulationRegistry(simulation);
  const server = createServer(async (request, response) => {
    if (request.url === '/metrics') {
      response.writeHead(200, { 'content-type': registry.contentType });
      response.end(await registry.metrics());
    } else if (request.url === '/healthz') {
      response.writeHead(200).end('ok\n');
    } else {
      response.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const { durationMinutes, stepSeconds } = simulation.scenario;
  let resolveFinished!: () => void;
  const finished = new Promise<void>((resolve) => (resolveFinished = resolve));
  const stop = async () => {
    clearInterval(timer);
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    resolveFinished();
  };
  // A history is for backfill: live, the world starts at minute 0 with what it would have run before.
  while (simulation.elapsedSeconds < 0) simulation.step();
  const timer = setInterval(
    () => {
      simulation.step();
      if (simulation.elapsedSeconds >= durationMinutes * 60) void stop();
    },
    (stepSeconds * 1000) / (options.speed ?? 60),
  );
  return { url: `http://127.0.0.1:${port}`, finished, stop };
}
