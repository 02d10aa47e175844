import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments, stringify } from 'yaml';
import type { Fleet } from '../../fleet/fleet.ts';
import { loadFleet } from '../../fleet/load.ts';
import { measurementPhase, metricPhase, type AnalysisMetric, type MeasurementPhase } from '../../testing/argo-analysis.ts';
import { preparedFixture } from '../../testing/fixture-fleet.ts';
import { synthesize } from '../steps.ts';

const run = promisify(execFile);

type Metric = AnalysisMetric & { name: string; provider: { prometheus: { query: string } } };

let metrics: Metric[];
let rollout: { spec: { strategy: { canary: { steps: Record<string, any>[] } } } };
let dir: string;

beforeAll(async () => {
  const loaded = await loadFleet(await preparedFixture());
  if (!loaded.ok) throw new Error('the example fleet is invalid');
  const fleet: Fleet = loaded.fleet;
  const documents = parseAllDocuments(synthesize(fleet).get('production/kubernetes/llama-3-1-8b-instruct.yaml')!).map((document) => document.toJS());
  metrics = documents.filter((document) => document.kind === 'AnalysisTemplate').flatMap((document) => document.spec.metrics);
  // Staging's balanced policy analyses its last step, at 100 %.
  rollout = parseAllDocuments(synthesize(fleet).get('staging/kubernetes/llama-3-1-8b-instruct.yaml')!)
    .map((document) => document.toJS())
    .find((document) => document.kind === 'Rollout');
  dir = await mkdtemp(path.join(tmpdir(), 'llmops-analysis-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const metric = (name: string) => metrics.find((candidate) => candidate.name === name)!;
/** A metric's query as Argo Rollouts sends it during a step: the pod-template hashes of this canary and its stable. */
const queryOf = (name: string) => metric(name).provider.prometheus.query.replaceAll('{{args.canary-hash}}', 'canary7f9').replaceAll('{{args.stable-hash}}', 'stable5c4');

const labels = (values: Record<string, string>) =>
  `{${Object.entries(values)
    .map(([key, value]) => `${key}="${value}"`)
    .join(',')}}`;
/** vLLM's OpenAI server's request counter on canary pods, per 30 s scrape. */
const http = (status: string, per30s: number) => ({
  series: `http_requests_total${labels({ namespace: 'llm-prod', service: 'llama-3-1-8b-instruct', handler: '/v1/chat/completions', method: 'POST', status, rollouts_pod_template_hash: 'canary7f9' })}`,
  values: `0+${per30s}x40`,
});
/** Time to first token and inter-token latency of one pod template: every request in the (0.1, 0.25] bucket. */
const latency = (hash: string, per30s: number) =>
  (['time_to_first_token_seconds', 'inter_token_latency_seconds'] as const).flatMap((histogram) =>
    ['0.1', '0.25', '+Inf'].map((le) => ({
      series: `vllm:${histogram}_bucket${labels({ namespace: 'llm-prod', model_name: 'llama-3-1-8b-instruct', rollouts_pod_template_hash: hash, le })}`,
      values: le === '0.1' ? '0x40' : `0+${per30s}x40`,
    })),
  );
/** Client cancellations: vLLM counts them as `finished_reason="abort"`; they are not server errors. */
const aborts = (per30s: number) => ({
  series: `vllm:request_success_total${labels({ namespace: 'llm-prod', model_name: 'llama-3-1-8b-instruct', finished_reason: 'abort', rollouts_pod_template_hash: 'canary7f9' })}`,
  values: `0+${per30s}x40`,
});

const NAMES = ['canary-requests', 'server-error-ratio', 'ttft-p95-vs-stable', 'inter-token-p95-vs-stable'] as const;

/**
 * Runs each metric's query through promtool against the scenario's series at
 * 10 minutes, asserting the samples Prometheus returns, and gives the phase
 * Argo Rollouts' conditions make of them.
 */
async function measure(name: string, inputSeries: object[], expected: Record<(typeof NAMES)[number], number | undefined>): Promise<Record<string, MeasurementPhase>> {
  await writeFile(path.join(dir, 'empty-rules.yaml'), stringify({ groups: [] }));
  const test = {
    rule_files: ['empty-rules.yaml'],
    evaluation_interval: '30s',
    tests: [
      {
        name,
        interval: '30s',
        input_series: inputSeries,
        promql_expr_test: NAMES.map((metricName) => ({
          expr: queryOf(metricName),
          eval_time: '10m',
          exp_samples: expected[metricName] === undefined ? [] : [{ labels: '{}', value: expected[metricName] }],
        })),
      },
    ],
  };
  await writeFile(path.join(dir, `${name}.yaml`), stringify(test));
  const { stdout } = await run('promtool', ['test', 'rules', `${name}.yaml`], { cwd: dir }).catch((error) => ({ stdout: `${error.stdout}${error.stderr}` }));
  expect(stdout).toContain('SUCCESS');
  return Object.fromEntries(NAMES.map((metricName) => [metricName, measurementPhase(metric(metricName), expected[metricName] === undefined ? [] : [expected[metricName]!])]));
}

describe('the canary analysis, queried through the real Prometheus', () => {
  it("never succeeds without data: no canary series at all is inconclusive every try, and the step fails after the policy's tries", async () => {
    const phases = await measure('no-data', [], { 'canary-requests': undefined, 'server-error-ratio': undefined, 'ttft-p95-vs-stable': undefined, 'inter-token-p95-vs-stable': undefined });

    expect(phases).toEqual({ 'canary-requests': 'Inconclusive', 'server-error-ratio': 'Inconclusive', 'ttft-p95-vs-stable': 'Inconclusive', 'inter-token-p95-vs-stable': 'Inconclusive' });
    const gate = metric('canary-requests');
    expect(metricPhase(gate, Array(gate.count! - 1).fill('Inconclusive'))).toBe('Running');
    expect(metricPhase(gate, Array(gate.count!).fill('Inconclusive'))).toBe('Failed');
    for (const name of NAMES.slice(1)) expect(metricPhase(metric(name), Array(metric(name).count!).fill('Inconclusive'))).not.toBe('Successful');
  });

  it("treats a canary that served fewer requests than the policy's minimum as no evidence (inconclusive), even with clean numbers", async () => {
    // One request a minute: 10 in the 10-minute window of the step's analysis, below the minimum of 20.
    const phases = await measure('thin', [http('2xx', 0.5), ...latency('canary7f9', 0.5), ...latency('stable5c4', 50)], {
      'canary-requests': 10,
      'server-error-ratio': undefined,
      'ttft-p95-vs-stable': undefined,
      'inter-token-p95-vs-stable': undefined,
    });

    expect(phases).toEqual({ 'canary-requests': 'Inconclusive', 'server-error-ratio': 'Inconclusive', 'ttft-p95-vs-stable': 'Inconclusive', 'inter-token-p95-vs-stable': 'Inconclusive' });
  });

  it('passes a healthy canary whose clients cancel requests: aborts are not server errors', async () => {
    const phases = await measure('cancellations', [http('2xx', 50), aborts(10), ...latency('canary7f9', 50), ...latency('stable5c4', 50)], {
      'canary-requests': 1000,
      'server-error-ratio': 0,
      'ttft-p95-vs-stable': 1,
      'inter-token-p95-vs-stable': 1,
    });

    expect(phases).toEqual({ 'canary-requests': 'Successful', 'server-error-ratio': 'Successful', 'ttft-p95-vs-stable': 'Successful', 'inter-token-p95-vs-stable': 'Successful' });
    expect(metricPhase(metric('canary-requests'), ['Inconclusive', 'Successful'])).toBe('Successful');
  });

  it('fails a canary whose server answers 5xx above the rollback threshold', async () => {
    const phases = await measure('server-errors', [http('2xx', 45), http('5xx', 5), ...latency('canary7f9', 50), ...latency('stable5c4', 50)], {
      'canary-requests': 1000,
      'server-error-ratio': 0.1,
      'ttft-p95-vs-stable': 1,
      'inter-token-p95-vs-stable': 1,
    });

    expect(phases['server-error-ratio']).toBe('Failed');
    // failureLimit 1: the second failed measurement fails the metric and aborts the rollout.
    expect(metricPhase(metric('server-error-ratio'), ['Failed', 'Failed'])).toBe('Failed');
  });

  it('gathers the evidence of a quiet step over the whole analysis: two requests a minute reach the minimum within it', async () => {
    // 1 % of 200 requests/min: 2 a minute, 20 over the step's 10-minute window.
    const phases = await measure('accumulated', [http('2xx', 1), ...latency('canary7f9', 1), ...latency('stable5c4', 50)], {
      'canary-requests': 20,
      'server-error-ratio': 0,
      // Floating point: the two p95s interpolate the same bucket from different rates.
      'ttft-p95-vs-stable': 0.9999999999999999,
      'inter-token-p95-vs-stable': 0.9999999999999999,
    });

    expect(phases['canary-requests']).toBe('Successful');
    expect(phases['server-error-ratio']).toBe('Successful');
  });

  it('at the step where the canary takes every request (no stable pod is left), judges the canary alone: no comparison that could only be inconclusive', async () => {
    // 100 %: dynamicStableScale has scaled the stable pods to zero; only the canary has series.
    const phases = await measure('no-stable', [http('2xx', 50), ...latency('canary7f9', 50)], {
      'canary-requests': 1000,
      'server-error-ratio': 0,
      'ttft-p95-vs-stable': undefined,
      'inter-token-p95-vs-stable': undefined,
    });
    const steps = rollout.spec.strategy.canary.steps;
    const full = steps.findIndex((step) => step.setWeight === 100);
    const analysisAt = (index: number) => steps.slice(index).find((step) => 'analysis' in step)?.analysis;
    const partialAnalysis = analysisAt(steps.findIndex((step) => step.setWeight === 50));

    // The comparisons would never succeed without a stable side: the run would end Inconclusive and pause the rollout.
    expect(phases['ttft-p95-vs-stable']).toBe('Inconclusive');
    expect(metricPhase(metric('ttft-p95-vs-stable'), Array(metric('ttft-p95-vs-stable').count!).fill('Inconclusive'))).toBe('Inconclusive');
    // So the canary's own checks pass and the full step runs only them.
    expect(metricPhase(metric('canary-requests'), ['Successful'])).toBe('Successful');
    expect(metricPhase(metric('server-error-ratio'), Array(metric('server-error-ratio').count!).fill('Successful'))).toBe('Successful');
    expect(partialAnalysis.templates.map((template: { templateName: string }) => template.templateName)).toEqual(['llama-3-1-8b-instruct-canary', 'llama-3-1-8b-instruct-canary-vs-stable']);
    expect(steps[full + 1].analysis).toEqual({ templates: [{ templateName: 'llama-3-1-8b-instruct-canary' }], args: [{ name: 'canary-hash', valueFrom: { podTemplateHashValue: 'Latest' } }] });
  });
});
