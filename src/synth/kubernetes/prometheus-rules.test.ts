import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import type { Fleet, FleetDeployment } from '../../fleet/fleet.ts';
import { loadFleet } from '../../fleet/load.ts';
import { preparedFixture } from '../../testing/fixture-fleet.ts';
import { environmentRuleGroups, type AlertingRule } from './prometheus-rules.ts';

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
const groupsOf = (name: string) => environmentRuleGroups(environment(name), fleet.deployments.filter((deployment: FleetDeployment) => deployment.environment.name === name));

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

/** The production rule groups (every deployment, plus the budget) in one rule file. */
async function writeProductionRules(): Promise<string> {
  await writeFile(path.join(dir, 'production-rules.yaml'), stringify({ groups: groupsOf('production') }));
  return 'production-rules.yaml';
}

/** The labels and annotations promtool must see on a firing alert, its `$value` humanized as given. */
function expectedAlert(rule: AlertingRule, seriesLabels: Record<string, string>, humanizedValue: string) {
  return {
    exp_labels: { ...rule.labels, ...seriesLabels },
    exp_annotations: Object.fromEntries(Object.entries(rule.annotations).map(([key, text]) => [key, text.replace('{{ $value | humanize }}', humanizedValue).replace('{{ $labels.model_name }}', seriesLabels.model_name)])),
  };
}

const sloRule = (environmentName: string, name: string): AlertingRule =>
  groupsOf(environmentName)
    .flatMap((group) => group.rules)
    .find((rule): rule is AlertingRule => 'alert' in rule && rule.alert === name)!;

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

  it('fire on synthetic series that breach the SLOs and the budget, and stay silent on healthy ones', async () => {
    const rules = await writeProductionRules();
    const small = { namespace: 'llm-prod', model_name: 'llama-3-1-8b-instruct' };
    const large = { namespace: 'llm-prod', model_name: 'llama-3-1-70b-instruct' };
    const series = (name: string, labels: Record<string, string>, values: string) => ({
      series: `${name}{${Object.entries(labels).map(([key, value]) => `${key}="${value}"`).join(',')}}`,
      values,
    });
    const finished = (labels: Record<string, string>, stopPerMinute: number, abortPerMinute: number) => [
      series('vllm:request_success_total', { ...labels, finished_reason: 'stop' }, `0+${stopPerMinute}x180`),
      series('vllm:request_success_total', { ...labels, finished_reason: 'abort' }, `0+${abortPerMinute}x180`),
    ];
    // p95 of first-token time: 0.975 s when every request lands in the (0.5, 1] bucket, 0.2375 s in (0, 0.25].
    const ttft = (labels: Record<string, string>, slow: boolean) =>
      ['0.25', '0.5', '1', '+Inf'].map((le) => series('vllm:time_to_first_token_seconds_bucket', { ...labels, le }, `0+${slow ? (le === '0.25' || le === '0.5' ? 0 : 100) : 100}x180`));
    const pods = (labels: Record<string, string>, count: number) => Array.from({ length: count }, (_, index) => series('vllm:num_requests_running', { ...labels, pod: `pod-${index}` }, '1x180'));

    const test = {
      rule_files: [rules],
      evaluation_interval: '30s',
      tests: [
        {
          name: 'breaches',
          interval: '1m',
          // 20 % aborted requests (20x the 1 % budget), slow first tokens, 4 replicas of the 70B model and one of the 8B (63,462 USD/month > 60,000).
          input_series: [...finished(small, 80, 20), ...ttft(small, true), ...pods(small, 1), ...pods(large, 4)],
          alert_rule_test: [
            { eval_time: '20m', alertname: 'LLMErrorBudgetFastBurn', exp_alerts: [expectedAlert(sloRule('production', 'LLMErrorBudgetFastBurn'), small, '200m')] },
            { eval_time: '20m', alertname: 'LLMTimeToFirstTokenSLOBreach', exp_alerts: [expectedAlert(sloRule('production', 'LLMTimeToFirstTokenSLOBreach'), small, '975m')] },
            {
              eval_time: '90m',
              alertname: 'LLMBudgetProjectedOverrun',
              exp_alerts: [
                {
                  exp_labels: { severity: 'warning', environment: 'production', namespace: 'llm-prod' },
                  exp_annotations: {
                    summary: 'Projected GPU spend above 100 % of the 60000 USD monthly budget',
                    description: 'At the current replica count production would spend 63.46k USD this month (budget 60000).',
                  },
                },
              ],
            },
          ],
        },
        {
          name: 'healthy',
          interval: '1m',
          input_series: [...finished(small, 100, 0), ...ttft(small, false), ...pods(small, 1), ...pods(large, 3)],
          alert_rule_test: [
            { eval_time: '20m', alertname: 'LLMErrorBudgetFastBurn', exp_alerts: [] },
            { eval_time: '60m', alertname: 'LLMErrorBudgetSlowBurn', exp_alerts: [] },
            { eval_time: '20m', alertname: 'LLMTimeToFirstTokenSLOBreach', exp_alerts: [] },
            { eval_time: '90m', alertname: 'LLMBudgetProjectedOverrun', exp_alerts: [] },
          ],
          promql_expr_test: [
            // The recording rules the bot reads: p95 TTFT and the cost estimate (3 × 21.52 USD/h).
            { expr: 'llmops:vllm_time_to_first_token_seconds:p95_5m{model_name="llama-3-1-8b-instruct"}', eval_time: '20m', exp_samples: [{ labels: `llmops:vllm_time_to_first_token_seconds:p95_5m{namespace="llm-prod",model_name="llama-3-1-8b-instruct"}`, value: 0.2375 }] },
            { expr: 'llmops:cost_usd_per_hour:estimate{model_name="llama-3-1-70b-instruct"}', eval_time: '20m', exp_samples: [{ labels: `llmops:cost_usd_per_hour:estimate{namespace="llm-prod",model_name="llama-3-1-70b-instruct"}`, value: 64.56 }] },
          ],
        },
      ],
    };
    await writeFile(path.join(dir, 'production-test.yaml'), stringify(test));

    const result = await promtool('test', 'rules', 'production-test.yaml');

    expect(result.output).toContain('SUCCESS');
    expect(result.code).toBe(0);
  });

  it('makes promtool fail when an expected alert does not fire (the test can fail)', async () => {
    const rules = await writeProductionRules();
    const test = {
      rule_files: [rules],
      evaluation_interval: '30s',
      tests: [
        {
          interval: '1m',
          input_series: [{ series: 'vllm:request_success_total{namespace="llm-prod",model_name="llama-3-1-8b-instruct",finished_reason="stop"}', values: '0+100x60' }],
          alert_rule_test: [{ eval_time: '20m', alertname: 'LLMErrorBudgetFastBurn', exp_alerts: [{ exp_labels: { severity: 'critical' } }] }],
        },
      ],
    };
    await writeFile(path.join(dir, 'failing-test.yaml'), stringify(test));

    const result = await promtool('test', 'rules', 'failing-test.yaml');

    expect(result.code).not.toBe(0);
    expect(result.output).toContain('FAILED');
  });
});
