/**
 * Runs the real Prometheus server (Debian package `prometheus`) on a free
 * loopback port with a temporary data directory, optionally backfilled with
 * OpenMetrics through `promtool tsdb create-blocks-from openmetrics`. Used by
 * the tests and the demo; stops with `stop()` or when this process exits.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface PrometheusServer {
  /** Base URL, `http://127.0.0.1:<port>`. */
  readonly url: string;
  readonly dataDir: string;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/** Writes an OpenMetrics file into TSDB blocks under `dataDir`. */
export async function backfillFile(dataDir: string, openMetricsFile: string): Promise<void> {
  await run('promtool', ['tsdb', 'create-blocks-from', 'openmetrics', openMetricsFile, dataDir], { maxBuffer: 64 * 1024 * 1024 });
}

/** Writes OpenMetrics text (or texts of successive spans, each backfilled on its own) into TSDB blocks under `dataDir`. */
export async function backfill(dataDir: string, openMetrics: string | readonly string[]): Promise<void> {
  const input = path.join(path.dirname(dataDir), `backfill-${process.pid}-${Date.now()}.om`);
  try {
    for (const text of typeof openMetrics === 'string' ? [openMetrics] : openMetrics) {
      await writeFile(input, text);
      await backfillFile(dataDir, input);
    }
  } finally {
    await rm(input, { force: true });
  }
}

async function waitUntilReady(url: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`prometheus exited with code ${child.exitCode} before it was ready`);
    try {
      const response = await fetch(`${url}/-/ready`);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`prometheus was not ready at ${url} within ${timeoutMs} ms`);
}

/** Starts Prometheus (after backfilling `openMetrics`, when given) and waits until it answers. */
export async function startPrometheus(
  options: { openMetrics?: string | readonly string[]; openMetricsFile?: string; scrapeTargets?: readonly string[]; dataDir?: string } = {},
): Promise<PrometheusServer> {
  const home = await mkdtemp(path.join(tmpdir(), 'llmops-prometheus-'));
  // A given data dir outlives the server (the closed loop restarts Prometheus on a growing history).
  const dataDir = options.dataDir ?? path.join(home, 'data');
  if (options.openMetrics) await backfill(dataDir, options.openMetrics);
  if (options.openMetricsFile) await backfillFile(dataDir, options.openMetricsFile);
  const config = path.join(home, 'prometheus.yml');
  const targets = options.scrapeTargets ?? [];
  await writeFile(
    config,
    `global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n${targets.length ? `scrape_configs:\n  - job_name: vllm\n    static_configs:\n      - targets: [${targets.map((target) => `'${target}'`).join(', ')}]\n` : ''}`,
  );
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(
    'prometheus',
    [`--config.file=${config}`, `--storage.tsdb.path=${dataDir}`, `--web.listen-address=127.0.0.1:${port}`, '--storage.tsdb.retention.time=3650d', '--log.level=warn'],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (chunk) => (stderr += chunk));
  const kill = () => child.kill('SIGKILL');
  process.once('exit', kill);
  try {
    await waitUntilReady(url, child, 30_000);
  } catch (error) {
    kill();
    throw new Error(`${(error as Error).message}\n${stderr.slice(-2000)}`);
  }
  return {
    url,
    dataDir,
    async stop() {
      process.removeListener('exit', kill);
      child.kill('SIGTERM');
      await new Promise((resolve) => (child.exitCode !== null ? resolve(undefined) : child.once('exit', resolve)));
      await rm(home, { recursive: true, force: true });
    },
  };
}
