import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import type { Fleet, FleetDeployment } from '../../fleet/fleet.ts';
import { loadFleet } from '../../fleet/load.ts';
import { preparedFixture, REPO_ROOT } from '../../testing/fixture-fleet.ts';
import { environmentRuleGroups, type AlertingRule } from './prometheus-rules.ts';
import { headingAnchor } from './runbooks.ts';

const run = promisify(execFile);

let fleet: Fleet;
let dir: string;

beforeAll(async () => {
  const result = await loadFleet(await preparedFixture());
  if (!result.ok) throw new Error('the example fleet is invalid');
  fleet = result.fleet;
  dir = await mkdtemp(path.join(tmpdir(), 'llmops-rules-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const environment = (name: string) => fleet.environments.find((candidate) => candidate.name === name)!;
const groupsOf = (name: string) =>
  environmentRuleGroups(
    { environment: environment(name), repositoryUrl: fleet.repositoryUrl },
    fleet.deployments.filter((deployment: FleetDeployment) => deployment.environment.name === name),
  );
const alertsOf = (name: string) =>
  groupsOf(name)
    .flatMap((group) => group.rules)
    .filter((rule): rule is AlertingRule => 'alert' in rule);

/** promtool's exit code and output, without throwing. */
async function promtool(...args: string[]): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await run('promtool', args, { cwd: dir });
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const failure = error as { code: number; stdout: string; stderr: string };
    return { code: failure.code, output: failure.stdout + failure.stderr };
  }
}

/** Writes the rule groups of an environment and a promtool unit-test file for them; returns promtool's verdict. */
async function testRules(environmentName: string, name: string, tests: object[]): Promise<{ code: number; output: string }> {
  const rules = `${environmentName}-rules.yaml`;
  await writeFile(path.join(dir, rules), stringify({ groups: groupsOf(environmentName) }));
  await writeFile(path.join(dir, `${name}.yaml`), stringify({ rule_files: [rules], evaluation_interval: '30s', tests }));
  return promtool('test', 'rules', `${name}.yaml`);
}

const series = (name: string, labels: Record<string, string>, values: string) => ({
  series: `${name}{${Object.entries(labels)
    .map(([key, value]) => `${key}="${value}"`)
    .join(',')}}`,
  values,
});

/** The labels and annotations promtool must see on a firing alert, its `$value` humanized as given. */
function expectedAlert(rule: AlertingRule, seriesLabels: Record<string, string>, humanizedValue: string) {
  return {
    exp_labels: { ...rule.labels, ...seriesLabels },
    exp_annotations: Object.fromEntries(
      Object.entries(rule.annotations).map(([key, text]) => [key, text.replace('{{ $value | humanize }}', humanizedValue).replace('{{ $labels.model_name }}', seriesLabels.model_name)]),
    ),
  };
}

const rule = (environmentName: string, name: string) => alertsOf(environmentName).find((candidate) => candidate.alert === name)!;

const small = { namespace: 'llm-prod', model_name: 'llama-3-1-8b-instruct' };
const large = { namespace: 'llm-prod', model_name: 'llama-3-1-70b-instruct' };
/** What vLLM's OpenAI server exports per inference request (prometheus-fastapi-instrumentator; status grouped), scraped through the root Service. */
const http = (model: string, status: string, perMinute: number) =>
  series('http_requests_total', { namespace: 'llm-prod', service: model, job: model, handler: '/v1/chat/completions', method: 'POST', status }, `0+${perMinute}x180`);
/** vLLM's finished-request counter by reason; `abort` is a client that went away. */
const finished = (labels: Record<string, string>, stopPerMinute: number, abortPerMinute: number) => [
  series('vllm:request_success_total', { ...labels, finished_reason: 'stop' }, `0+${stopPerMinute}x180`),
  series('vllm:request_success_total', { ...labels, finished_reason: 'abort' }, `0+${abortPerMinute}x180`),
];
const pods = (labels: Record<string, string>, count: number) => Array.from({ length: count }, (_, index) => series('vllm:num_requests_running', { ...labels, pod: `pod-${index}` }, '1x180'));
const up = (model: string, values: string) => series('up', { namespace: 'llm-prod', service: model, job: model, pod: `${model}-0` }, values);

describe('generated Prometheus rules', () => {
  it('pass promtool check rules, for every environment', async () => {
    for (const { name } of fleet.environments) {
      const file = `${name}-rules.yaml`;
      await writeFile(path.join(dir, file), stringify({ groups: groupsOf(name) }));

      const result = await promtool('check', 'rules', file);

      expect(result.output).toContain('SUCCESS');
      expect(result.code).toBe(0);
    }
  });

  it('fire on server errors, slow first tokens and an over-budget month, and stay silent on healthy series', async () => {
    // p95 of first-token time: 0.975 s when every request lands in the (0.5, 1] bucket, 0.2375 s in (0, 0.25].
    const ttft = (labels: Record<string, string>, slow: boolean) =>
      ['0.25', '0.5', '1', '+Inf'].map((le) => series('vllm:time_to_first_token_seconds_bucket', { ...labels, le }, `0+${slow ? (le === '0.25' || le === '0.5' ? 0 : 100) : 100}x180`));

    const result = await testRules('production', 'slo-test', [
      {
        name: 'breaches',
        interval: '1m',
        // 20 % server errors (20x the 1 % budget), slow first tokens, 4 replicas of the 70B model and one of the 8B (63,462 USD/month > 60,000).
        input_series: [http('llama-3-1-8b-instruct', '2xx', 80), http('llama-3-1-8b-instruct', '5xx', 20), ...ttft(small, true), ...pods(small, 1), ...pods(large, 4)],
        alert_rule_test: [
          { eval_time: '20m', alertname: 'LLMErrorBudgetFastBurn', exp_alerts: [expectedAlert(rule('production', 'LLMErrorBudgetFastBurn'), small, '200m')] },
          { eval_time: '20m', alertname: 'LLMTimeToFirstTokenSLOBreach', exp_alerts: [expectedAlert(rule('production', 'LLMTimeToFirstTokenSLOBreach'), small, '975m')] },
          {
            eval_time: '90m',
            alertname: 'LLMBudgetProjectedOverrun',
            exp_alerts: [
              {
                exp_labels: { severity: 'warning', environment: 'production', namespace: 'llm-prod' },
                exp_annotations: {
                  summary: 'Projected GPU spend above 100 % of the 60000 USD monthly budget',
                  description: 'At the current replica count production would spend 63.46k USD this month (budget 60000).',
                  runbook_url: 'https://github.com/acme/llmops-gitops/blob/HEAD/README.md#llmbudgetprojectedoverrun',
                },
              },
            ],
          },
        ],
      },
      {
        name: 'healthy',
        interval: '1m',
        input_series: [http('llama-3-1-8b-instruct', '2xx', 100), ...ttft(small, false), ...pods(small, 1), ...pods(large, 3)],
        alert_rule_test: [
          { eval_time: '20m', alertname: 'LLMErrorBudgetFastBurn', exp_alerts: [] },
          { eval_time: '60m', alertname: 'LLMErrorBudgetSlowBurn', exp_alerts: [] },
          { eval_time: '20m', alertname: 'LLMTimeToFirstTokenSLOBreach', exp_alerts: [] },
          { eval_time: '90m', alertname: 'LLMBudgetProjectedOverrun', exp_alerts: [] },
        ],
        promql_expr_test: [
          // The recording rules the bot reads: p95 TTFT, the server-error ratio (0, not missing, before any 5xx) and the cost estimate (3 × 21.52 USD/h).
          {
            expr: 'llmops:vllm_time_to_first_token_seconds:p95_5m{model_name="llama-3-1-8b-instruct"}',
            eval_time: '20m',
            exp_samples: [{ labels: `llmops:vllm_time_to_first_token_seconds:p95_5m{namespace="llm-prod",model_name="llama-3-1-8b-instruct"}`, value: 0.2375 }],
          },
          {
            expr: 'llmops:vllm_request_errors:ratio_rate5m',
            eval_time: '20m',
            exp_samples: [{ labels: `llmops:vllm_request_errors:ratio_rate5m{namespace="llm-prod",model_name="llama-3-1-8b-instruct"}`, value: 0 }],
          },
          {
            expr: 'llmops:cost_usd_per_hour:estimate{model_name="llama-3-1-70b-instruct"}',
            eval_time: '20m',
            exp_samples: [{ labels: `llmops:cost_usd_per_hour:estimate{namespace="llm-prod",model_name="llama-3-1-70b-instruct"}`, value: 64.56 }],
          },
        ],
      },
    ]);

    expect(result.output).toContain('SUCCESS');
    expect(result.code).toBe(0);
  });

  it('do not page on client cancellations: 20 % aborted requests with no server error fire nothing', async () => {
    const result = await testRules('production', 'cancellations-test', [
      {
        interval: '1m',
        input_series: [...finished(small, 80, 20), http('llama-3-1-8b-instruct', '2xx', 100), ...pods(small, 2)],
        alert_rule_test: [
          { eval_time: '20m', alertname: 'LLMErrorBudgetFastBurn', exp_alerts: [] },
          { eval_time: '90m', alertname: 'LLMErrorBudgetSlowBurn', exp_alerts: [] },
        ],
        promql_expr_test: [
          {
            expr: 'llmops:vllm_request_errors:ratio_rate1h',
            eval_time: '90m',
            exp_samples: [{ labels: `llmops:vllm_request_errors:ratio_rate1h{namespace="llm-prod",model_name="llama-3-1-8b-instruct"}`, value: 0 }],
          },
        ],
      },
    ]);

    expect(result.output).toContain('SUCCESS');
    expect(result.code).toBe(0);
  });

  it('page on a total outage: a model whose pods are all gone (no series at all) or all down fires LLMModelServerDown', async () => {
    const down = rule('production', 'LLMModelServerDown');
    const downFor = (model: string) => ({
      exp_labels: { severity: 'critical', environment: 'production', namespace: 'llm-prod', model_name: model },
      exp_annotations: {
        summary: 'No model server is up',
        description: `No replica of ${model} in production has answered a scrape for 5 minutes: the model is offline.`,
        runbook_url: 'https://github.com/acme/llmops-gitops/blob/HEAD/README.md#llmmodelserverdown',
      },
    });

    const result = await testRules('production', 'outage-test', [
      {
        interval: '1m',
        // The 70B serves; the 8B's only pod reports down; the Qwen model's pods are gone (drained, crash-looping): no series.
        input_series: [up('llama-3-1-70b-instruct', '1x30'), up('llama-3-1-8b-instruct', '0x30')],
        alert_rule_test: [
          { eval_time: '3m', alertname: 'LLMModelServerDown', exp_alerts: [] },
          { eval_time: '10m', alertname: 'LLMModelServerDown', exp_alerts: [downFor('llama-3-1-8b-instruct'), downFor('qwen2-5-7b-instruct')] },
        ],
      },
    ]);

    expect(down.expr).toBe('absent(up{namespace="llm-prod",service="llama-3-1-70b-instruct"} == 1)');
    expect(result.output).toContain('SUCCESS');
    expect(result.code).toBe(0);
    // A model allowed to scale to zero is not "down" when idle.
    expect(alertsOf('dev').filter((candidate) => candidate.alert === 'LLMModelServerDown')).toEqual([]);
  });

  it('tell on-call when a Rollout aborted or timed out, and when KEDA cannot read a trigger', async () => {
    const result = await testRules('production', 'controllers-test', [
      {
        interval: '1m',
        input_series: [
          // Argo Rollouts' controller metric: one series per rollout, phase as a label (controller/metrics/rollouts.go).
          series('rollout_info', { namespace: 'llm-prod', name: 'llama-3-1-8b-instruct', phase: 'Abort', strategy: 'canary', traffic_router: '' }, '1x30'),
          series('rollout_info', { namespace: 'llm-prod', name: 'qwen2-5-7b-instruct', phase: 'Paused', strategy: 'canary', traffic_router: '' }, '1x30'),
          // KEDA's operator metric (pkg/metricscollector/prommetrics.go).
          series('keda_scaled_object_errors_total', { namespace: 'llm-prod', scaledObject: 'llama-3-1-70b-instruct' }, '0+1x30'),
        ],
        alert_rule_test: [
          {
            eval_time: '5m',
            alertname: 'LLMRolloutDegraded',
            exp_alerts: [
              {
                exp_labels: { severity: 'warning', environment: 'production', namespace: 'llm-prod', name: 'llama-3-1-8b-instruct', phase: 'Abort' },
                exp_annotations: {
                  summary: 'A Rollout stopped: aborted, timed out or invalid',
                  description: 'Rollout llama-3-1-8b-instruct in production is in phase Abort: traffic stays on the stable version until git is reverted or the rollout retried.',
                  runbook_url: 'https://github.com/acme/llmops-gitops/blob/HEAD/README.md#llmrolloutdegraded',
                },
              },
            ],
          },
          {
            eval_time: '25m',
            alertname: 'LLMAutoscalerErrors',
            exp_alerts: [
              {
                exp_labels: { severity: 'warning', environment: 'production', namespace: 'llm-prod', scaledObject: 'llama-3-1-70b-instruct' },
                exp_annotations: {
                  summary: 'KEDA cannot read a ScaledObject trigger',
                  description: 'ScaledObject llama-3-1-70b-instruct in production failed 10 times in 10 minutes: the replica count is frozen at its fallback.',
                  runbook_url: 'https://github.com/acme/llmops-gitops/blob/HEAD/README.md#llmautoscalererrors',
                },
              },
            ],
          },
        ],
      },
    ]);

    expect(result.output).toContain('SUCCESS');
    expect(result.code).toBe(0);
  });

  it('link every alert of every environment to a runbook section that exists in the README', async () => {
    const readme = await readFile(path.join(REPO_ROOT, 'README.md'), 'utf8');
    const anchors = new Set([...readme.matchAll(/^#{1,6} (.+)$/gm)].map((match) => headingAnchor(match[1])));
    const links = fleet.environments.flatMap((candidate) => alertsOf(candidate.name).map((alert) => alert.annotations.runbook_url));

    expect(links.length).toBeGreaterThan(20);
    for (const link of links) {
      expect(link).toMatch(/^https:\/\/github\.com\/acme\/llmops-gitops\/blob\/HEAD\/README\.md#/);
      expect(anchors, link).toContain(link.split('#')[1]);
    }
  });

  it('makes promtool fail when an expected alert does not fire (the test can fail)', async () => {
    const result = await testRules('production', 'failing-test', [
      {
        interval: '1m',
        input_series: [http('llama-3-1-8b-instruct', '2xx', 100)],
        alert_rule_test: [{ eval_time: '20m', alertname: 'LLMErrorBudgetFastBurn', exp_alerts: [{ exp_labels: { severity: 'critical' } }] }],
      },
    ]);

    expect(result.code).not.toBe(0);
    expect(result.output).toContain('FAILED');
  });
});
