import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { observeFleet, type Observation } from '../optimizer/observe.ts';
import { PrometheusClient, PrometheusError } from '../prometheus/client.ts';
import { freePort, startPrometheus, type PrometheusServer } from '../prometheus/server.ts';
import { preparedFixture, REPO_ROOT, runCli } from '../testing/fixture-fleet.ts';
import { serveSimulation } from './live-server.ts';
import { readRunningDeployments, type RunningDeployment } from './manifests.ts';
import { simulateToOpenMetrics } from './openmetrics.ts';
import { GpuTruth, loadScenario, type Scenario } from './scenario.ts';
import { FleetSimulation } from './simulation.ts';
import { currentSamples } from './samples.ts';
import { Scenario as ScenarioSchema } from './scenario.ts';

const FIXTURE = await preparedFixture();
const GENERATED = path.join(FIXTURE, 'generated');
const END = Math.floor(Date.now() / 1000 / 60) * 60;

let running: RunningDeployment[];
let scenario: Scenario;

beforeAll(async () => {
  running = await readRunningDeployments(GENERATED);
  const loaded = await loadScenario(path.join(REPO_ROOT, 'src/simulator/scenarios/steady.yaml'));
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.issues));
  expect(loaded.scenario.history).toEqual({ hours: 24, stepSeconds: 120 });
  // The hour itself: these tests read the scenario's window, not the day before it.
  scenario = { ...loaded.scenario, history: undefined };
});

describe('the simulator reads the generated manifests', () => {
  it('finds every deployment with its GPU, replica bounds and rendered vLLM flags', () => {
    const production70b = running.find((deployment) => deployment.id === 'production/llama-3-1-70b-instruct')!;
    const dev8b = running.find((deployment) => deployment.id === 'dev/llama-3-1-8b-instruct')!;

    expect(running.map((deployment) => deployment.id)).toHaveLength(8);
    expect(production70b).toMatchObject({ namespace: 'llm-prod', gpuType: 'nvidia-h100-80gb', gpuCount: 4, minReplicas: 1, maxReplicas: 3, waitingPerReplicaTarget: 5 });
    expect(production70b.engineArgs).toMatchObject({ 'tensor-parallel-size': 4, 'max-num-seqs': 256, 'enable-prefix-caching': true });
    expect(dev8b).toMatchObject({ gpuType: 'nvidia-l4', minReplicas: 0, maxReplicas: 2 });
  });

  it('is deterministic: the same seed gives the same samples', () => {
    const first = simulateToOpenMetrics(new FleetSimulation(running, { ...scenario, durationMinutes: 10 }), END);
    const second = simulateToOpenMetrics(new FleetSimulation(running, { ...scenario, durationMinutes: 10 }), END);

    expect(second).toBe(first);
    expect(first).toContain('# TYPE vllm:request_success counter');
    expect(first.trimEnd().endsWith('# EOF')).toBe(true);
  });
});

describe('simulated metrics in the real Prometheus', () => {
  let prometheus: PrometheusServer;
  let client: PrometheusClient;
  let observed: Observation;

  beforeAll(async () => {
    prometheus = await startPrometheus({ openMetrics: simulateToOpenMetrics(new FleetSimulation(running, scenario), END) });
    client = new PrometheusClient(prometheus.url);
    observed = (await observeFleet(client, [{ namespace: 'llm-prod', model: 'llama-3-1-8b-instruct' }], { window: '30m', recent: '10m', time: END })).get('llm-prod/llama-3-1-8b-instruct')!;
  });

  afterAll(async () => {
    await prometheus?.stop();
  });

  it('answers PromQL over the backfilled series with the scenario traffic', () => {
    expect(observed.requestsPerSecond).toBeGreaterThan(3 * 0.95);
    expect(observed.requestsPerSecond).toBeLessThan(3 * 1.05);
    expect(observed.meanOutputTokens).toBeGreaterThan(180 * 0.85);
    expect(observed.meanOutputTokens).toBeLessThan(180 * 1.15);
    expect(observed.errorRatio).toBeLessThan(0.01);
    expect(observed.replicas).toBeGreaterThanOrEqual(2);
    expect(observed.replicas).toBeLessThanOrEqual(8);
    expect(observed.ttftP95Seconds).toBeGreaterThan(0);
    expect(observed.interTokenP95Seconds).toBeGreaterThan(0.02);
    expect(observed.kvCacheUsage).toBeGreaterThan(0);
    expect(observed.gpuUtilizationPct).toBeGreaterThan(0);
    expect(observed.e2eP95PerMinute.length).toBeGreaterThan(20);
    expect(observed.promptLengths.recent.get(Infinity)).toBeGreaterThan(0);
  });

  it('shows a slower GPU when the hidden truth says the GPU is slower', async () => {
    const slower: Scenario = {
      ...scenario,
      truth: { ...scenario.truth, 'llama-3-1-8b-instruct': { ...scenario.truth['llama-3-1-8b-instruct'], gpus: { 'nvidia-l4': GpuTruth.parse({ speed: 0.5 }) } } },
    };
    const other = await startPrometheus({ openMetrics: simulateToOpenMetrics(new FleetSimulation(running, slower), END) });
    try {
      const slow = (await observeFleet(new PrometheusClient(other.url), [{ namespace: 'llm-prod', model: 'llama-3-1-8b-instruct' }], { window: '30m', recent: '10m', time: END })).get(
        'llm-prod/llama-3-1-8b-instruct',
      )!;

      expect(slow.interTokenP95Seconds).toBeGreaterThan(observed.interTokenP95Seconds! * 1.3);
    } finally {
      await other.stop();
    }
  });

  it('reports a rejected query and an unreachable server clearly', async () => {
    const unreachable = new PrometheusClient(`http://127.0.0.1:${await freePort()}`, { retries: 1, backoffMs: 10, timeoutMs: 1000 });

    await expect(client.instant('sum(rate(vllm:request_success_total[5m]')).rejects.toMatchObject({ kind: 'query', message: expect.stringContaining('rejected the query') });
    await expect(unreachable.instant('up')).rejects.toBeInstanceOf(PrometheusError);
    await expect(unreachable.instant('up')).rejects.toMatchObject({ kind: 'unreachable', message: expect.stringContaining('is unreachable') });
  });
});

/** Production's 8B is an Argo Rollout, dev's a plain Deployment (dev has no canary). */
const KINDS = ScenarioSchema.parse({
  durationMinutes: 40,
  seed: 3,
  deployments: {
    'production/llama-3-1-8b-instruct': { traffic: { kind: 'steady', requestsPerSecond: 2 }, promptTokens: { mean: 500 }, outputTokens: { mean: 120 }, errorRatio: 0, cancelRatio: 0.2 },
    'dev/llama-3-1-8b-instruct': { traffic: { kind: 'steady', requestsPerSecond: 1 }, promptTokens: { mean: 500 }, outputTokens: { mean: 120 }, errorRatio: 0.05, cancelRatio: 0 },
  },
  truth: { 'llama-3-1-8b-instruct': { parametersBillions: 8.03, kvBytesPerToken: 131072, layers: 32 } },
});

const VLLM_SERIES = [
  'vllm:num_requests_running',
  'vllm:num_requests_waiting',
  'vllm:kv_cache_usage_perc',
  'vllm:prompt_tokens',
  'vllm:generation_tokens',
  'vllm:request_success',
  'vllm:e2e_request_latency_seconds',
  'vllm:time_to_first_token_seconds',
  'vllm:inter_token_latency_seconds',
  'vllm:request_queue_time_seconds',
  'vllm:request_prompt_tokens',
  'vllm:request_generation_tokens',
];
const POD_SERIES = [...VLLM_SERIES, 'http_requests', 'DCGM_FI_DEV_GPU_UTIL'];

describe('what real exporters expose, per workload kind', () => {
  it('a Rollout: its replicas from the Argo Rollouts controller, no kube_deployment_* series; a Deployment: from kube-state-metrics, no rollout_* series', () => {
    const simulation = new FleetSimulation(running, KINDS);
    for (let step = 0; step < 30; step += 1) simulation.step(); // dev scales from zero: its pods serve from minute 3

    const samples = currentSamples(simulation);
    const familiesOf = (namespace: string) => [...new Set(samples.filter((sample) => sample.labels.namespace === namespace).map((sample) => sample.family.name))].sort();

    expect(familiesOf('llm-prod')).toEqual(
      [...POD_SERIES, 'rollout_info', 'rollout_info_replicas_available', 'rollout_info_replicas_desired', 'rollout_info_replicas_unavailable', 'rollout_info_replicas_updated'].sort(),
    );
    expect(familiesOf('llm-dev')).toEqual(
      [
        ...POD_SERIES,
        'kube_deployment_spec_replicas',
        'kube_deployment_status_replicas',
        'kube_deployment_status_replicas_available',
        'kube_deployment_status_replicas_ready',
        'kube_deployment_status_replicas_unavailable',
        'kube_deployment_status_replicas_updated',
      ].sort(),
    );
  });

  it('labels each series as its exporter does', () => {
    const simulation = new FleetSimulation(running, KINDS);
    for (let step = 0; step < 30; step += 1) simulation.step(); // dev scales from zero: its pods serve from minute 3

    const samples = currentSamples(simulation);
    const labelsOf = (name: string, namespace: string) => Object.keys(samples.find((sample) => sample.name === name && sample.labels.namespace === namespace)!.labels).sort();

    expect(labelsOf('rollout_info', 'llm-prod')).toEqual(['job', 'name', 'namespace', 'phase', 'strategy']);
    expect(samples.find((sample) => sample.name === 'rollout_info')!.labels.phase).toBe('Completed');
    expect(labelsOf('rollout_info_replicas_available', 'llm-prod')).toEqual(['job', 'name', 'namespace']);
    expect(labelsOf('kube_deployment_status_replicas_available', 'llm-dev')).toEqual(['deployment', 'job', 'namespace']);
    expect(labelsOf('http_requests_total', 'llm-prod')).toEqual(['handler', 'job', 'method', 'namespace', 'pod', 'service', 'status']);
    expect(labelsOf('DCGM_FI_DEV_GPU_UTIL', 'llm-prod')).toEqual(['Hostname', 'UUID', 'container', 'device', 'gpu', 'job', 'modelName', 'namespace', 'pod']);
    expect(labelsOf('vllm:num_requests_running', 'llm-prod')).toEqual(['engine', 'job', 'model_name', 'namespace', 'pod', 'service']);
  });

  it('observe reads replicas from the right exporter, GPU utilisation as reported, and server errors apart from client cancellations', async () => {
    const prometheus = await startPrometheus({ openMetrics: simulateToOpenMetrics(new FleetSimulation(running, KINDS), END) });
    try {
      const client = new PrometheusClient(prometheus.url);
      const targets = [
        { namespace: 'llm-prod', model: 'llama-3-1-8b-instruct' },
        { namespace: 'llm-dev', model: 'llama-3-1-8b-instruct' },
      ];

      const observed = await observeFleet(client, targets, { window: '20m', recent: '5m', time: END });

      const production = observed.get('llm-prod/llama-3-1-8b-instruct')!;
      const dev = observed.get('llm-dev/llama-3-1-8b-instruct')!;
      const rawUtilization = (await client.instant('avg(avg_over_time(DCGM_FI_DEV_GPU_UTIL{namespace="llm-prod"}[20m]))', END))[0]!.value;
      expect(production.replicas).toBeGreaterThanOrEqual(2);
      expect(dev.replicas).toBeGreaterThan(0);
      expect(production.errorRatio).toBeLessThan(0.005);
      expect(dev.errorRatio).toBeGreaterThan(0.03);
      expect(dev.errorRatio).toBeLessThan(0.08);
      expect(production.gpuUtilizationPct).toBeCloseTo(rawUtilization, 6);
      expect(production.gpuUtilizationPct).toBeLessThanOrEqual(100);
      expect(production.runningRequests).toBeGreaterThan(0);
    } finally {
      await prometheus.stop();
    }
  });
});

describe('live mode', () => {
  it('serves vLLM metrics with prom-client on loopback, scraped by the real Prometheus', async () => {
    const live = await serveSimulation(new FleetSimulation(running, { ...scenario, durationMinutes: 60 }), { speed: 150 });
    const prometheus = await startPrometheus({ scrapeTargets: [live.url.replace('http://', '')] });
    try {
      const text = await (await fetch(`${live.url}/metrics`)).text();
      const client = new PrometheusClient(prometheus.url);
      let finished = 0;
      for (let attempt = 0; attempt < 100 && finished === 0; attempt += 1) {
        await new Promise((resolve) => setTimeout(resolve, 200));
        finished = (await client.instant('sum(vllm:request_success_total{namespace="llm-prod",model_name="llama-3-1-8b-instruct"})'))[0]?.value ?? 0;
      }

      expect(text).toContain('# TYPE vllm:e2e_request_latency_seconds histogram');
      expect(text).toContain('# TYPE vllm:request_success_total counter');
      expect(text).toMatch(
        /vllm:num_requests_running\{namespace="llm-prod",pod="llama-3-1-8b-instruct-00000",service="llama-3-1-8b-instruct",model_name="llama-3-1-8b-instruct",engine="0",job="vllm"\} /,
      );
      expect(finished).toBeGreaterThan(0);
      expect((await client.instant('up{job="vllm"}'))[0]?.value).toBe(1);
    } finally {
      await prometheus.stop();
      await live.stop();
    }
  });
});

describe('llmops simulate', () => {
  it('reports a broken scenario with its file and field', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'llmops-scenario-'));
    try {
      const file = path.join(dir, 'broken.yaml');
      await writeFile(file, 'durationMinutes: 10\ndeployments: {}\ntruth:\n  llama-3-1-8b-instruct:\n    parametersBilions: 8\n    kvBytesPerToken: 131072\n');

      const result = await runCli(['simulate', '--scenario', file, '--out', path.join(dir, 'out.om'), '--root', FIXTURE]);

      expect(result.exitCode).toBe(1);
      expect(result.stderr).toContain(`${file}: truth.llama-3-1-8b-instruct.parametersBilions: unknown field (did you mean "parametersBillions"?)`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
