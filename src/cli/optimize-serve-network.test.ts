/**
 * `llmops optimize --serve` where Kubernetes runs it: the bot in its own
 * network namespace (a pod), reaching Prometheus over the network, and probed
 * at the pod's address from outside, as the kubelet and Prometheus do.
 */
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { connect, createServer, type Server } from 'node:net';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { PrometheusServer } from '../prometheus/server.ts';
import { createBotWorld, type BotWorld } from '../testing/bot-harness.ts';
import { REPO_ROOT, runCli } from '../testing/fixture-fleet.ts';
import { createNetworkNamespace, type NetworkNamespace } from '../testing/network-namespace.ts';
import { IDLE_PRODUCTION_8B, lastWednesdayAfternoon, prometheusWithScenario } from '../testing/plan-harness.ts';

const AT = new Date(lastWednesdayAfternoon().getTime() - 60 * 60_000);
const PORT = 9464;

/** Prometheus for the pod: a TCP relay on the node's end of the veth pair to the test's Prometheus on loopback. */
function relay(listenAddress: string, target: URL): Promise<Server> {
  const server = createServer((socket) => {
    const upstream = connect(Number(target.port), target.hostname);
    socket.pipe(upstream).pipe(socket);
    socket.on('error', () => upstream.destroy());
    upstream.on('error', () => socket.destroy());
  });
  return new Promise((resolve) => server.listen(0, listenAddress, () => resolve(server)));
}

let namespace: NetworkNamespace;
let prometheus: PrometheusServer;
let prometheusForPod: Server;
let world: BotWorld;
/** Bots still running when a test fails: stopped after it, or the next would find the port taken. */
const running = new Set<ChildProcessWithoutNullStreams>();
afterEach(async () => {
  await Promise.all([...running].map(stop));
});
beforeAll(async () => {
  namespace = await createNetworkNamespace();
  prometheus = await prometheusWithScenario(IDLE_PRODUCTION_8B, AT);
  prometheusForPod = await relay(namespace.nodeAddress, new URL(prometheus.url));
  world = await createBotWorld(() => AT);
}, 120_000);
afterAll(async () => {
  await new Promise((resolve) => prometheusForPod?.close(resolve));
  await prometheus?.stop();
  await world?.remove();
  await namespace?.remove();
});

/** `llmops optimize --serve --local` in the namespace; resolves once it has printed `pattern` on stderr. */
async function serveInPod(extraEnvironment: Record<string, string>, pattern: RegExp): Promise<{ child: ChildProcessWithoutNullStreams; stderr: () => string }> {
  const clone = await world.botClone();
  const { port } = prometheusForPod.address() as { port: number };
  const child = namespace.spawn(
    process.execPath,
    [
      path.join(REPO_ROOT, 'bin/llmops.js'),
      'optimize',
      '--serve',
      '--local',
      '--interval',
      '60',
      '--port',
      String(PORT),
      '--prometheus',
      `http://${namespace.nodeAddress}:${port}`,
      '--at',
      String(AT.getTime() / 1000),
    ],
    { cwd: clone, environment: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root', ...extraEnvironment } },
  );
  running.add(child);
  // Drained, or a full pipe would block the bot (stdout to a pipe is synchronous) and its server with it.
  child.stdout.resume();
  let stderr = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`llmops optimize did not print ${pattern} within 90 s:\n${stderr}`)), 90_000);
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
      if (pattern.test(stderr)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`llmops optimize exited with ${code}:\n${stderr}`));
    });
  });
  return { child, stderr: () => stderr };
}

async function stop(child: ChildProcessWithoutNullStreams): Promise<number | null> {
  running.delete(child);
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  child.kill('SIGTERM');
  return exited;
}

describe('llmops optimize --serve in a pod', () => {
  it("answers /healthz and /metrics on the pod's address: all interfaces by default in Kubernetes", async () => {
    const { child, stderr } = await serveInPod({ KUBERNETES_SERVICE_HOST: '10.96.0.1' }, /production\/llama-3-1-8b-instruct: local \(branch/);

    const health = await fetch(`http://${namespace.podAddress}:${PORT}/healthz`, { signal: AbortSignal.timeout(10_000) });
    const metrics = await (await fetch(`http://${namespace.podAddress}:${PORT}/metrics`, { signal: AbortSignal.timeout(10_000) })).text();
    const code = await stop(child);

    expect(stderr()).toContain(`serving /metrics and /healthz on all interfaces:${PORT}`);
    expect(health.status, stderr()).toBe(200);
    expect(await health.text()).toBe('ok\n');
    expect(metrics).toContain('optimizer_attempts_total{result="success"} 1');
    expect(metrics).toContain('optimizer_deployments_active 8');
    expect(code).toBe(0);
  }, 120_000);

  it('listens on loopback only outside Kubernetes: the pod address refuses', async () => {
    const { child, stderr } = await serveInPod({}, /serving \/metrics and \/healthz on /);

    const fromOutside = await fetch(`http://${namespace.podAddress}:${PORT}/healthz`, { signal: AbortSignal.timeout(10_000) }).then(
      (response) => `HTTP ${response.status}`,
      (error: Error & { cause?: { code?: string } }) => error.cause?.code ?? error.message,
    );
    const code = await stop(child);

    expect(stderr()).toContain(`serving /metrics and /healthz on 127.0.0.1:${PORT}`);
    expect(fromOutside).toBe('ECONNREFUSED');
    expect(code).toBe(0);
  }, 120_000);

  it('--host takes an IP address and nothing else', async () => {
    const result = await runCli(['optimize', '--serve', '--local', '--prometheus', prometheus.url, '--host', 'all']);

    expect(result.exitCode).toBe(2);
    expect(result.stderr).toBe('--host: expected an IP address such as 0.0.0.0, :: or 127.0.0.1 (got "all")\n');
  });
});
