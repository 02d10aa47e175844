/**
 * Recording and alerting rules of a deployment, as Prometheus rule groups
 * (plain data, so promtool can check and unit-test them). The recorded series
 * are the contract the bot and the canary analysis read.
 */
import { HOURS_PER_MONTH } from '../../catalogue/prices.ts';
import type { Environment } from '../../declarations/environment.ts';
import { estimateDeploymentCost } from '../../fleet/cost.ts';
import type { FleetDeployment } from '../../fleet/fleet.ts';
import { FINISHED_REASON_LABEL, matcher, MODEL_LABEL, quantileQuery, rateQuery, VLLM_FAMILIES } from '../../vllm/metrics.ts';

export interface RecordingRule {
  readonly record: string;
  readonly expr: string;
  readonly labels?: Record<string, string>;
}
export interface AlertingRule {
  readonly alert: string;
  readonly expr: string;
  readonly for: string;
  readonly labels: Record<string, string>;
  readonly annotations: Record<string, string>;
}
export interface RuleGroup {
  readonly name: string;
  readonly interval?: string;
  readonly rules: readonly (RecordingRule | AlertingRule)[];
}

/** Names of the recorded series, each labelled `namespace` and `model_name`. */
export const RECORDED = {
  requestRate: 'llmops:vllm_requests:rate5m',
  errorRatio: (window: string) => `llmops:vllm_request_errors:ratio_rate${window}`,
  e2eP95: 'llmops:vllm_e2e_request_latency_seconds:p95_5m',
  ttftP95: 'llmops:vllm_time_to_first_token_seconds:p95_5m',
  interTokenP95: 'llmops:vllm_inter_token_latency_seconds:p95_5m',
  generationTokenRate: 'llmops:vllm_generation_tokens:rate5m',
  promptTokenRate: 'llmops:vllm_prompt_tokens:rate5m',
  kvCacheUsage: 'llmops:vllm_kv_cache_usage:avg',
  replicas: 'llmops:vllm_replicas:count',
  costPerHour: 'llmops:cost_usd_per_hour:estimate',
} as const;

/** Error-ratio windows recorded for multi-window burn-rate alerts. */
export const ERROR_WINDOWS = ['5m', '30m', '1h', '6h'] as const;

/** The label matcher of one deployment's vLLM series. */
export function seriesSelector(deployment: FleetDeployment, extra = ''): string {
  return `{namespace="${deployment.environment.namespace}",${MODEL_LABEL}="${deployment.model.name}"${extra}}`;
}

const BY = ['namespace', MODEL_LABEL];

/**
 * Recording rules of an environment: one rule per signal over the namespace,
 * split by `model_name` (one series per deployment).
 */
export function recordingRules(environment: Environment): RecordingRule[] {
  const sel = matcher({ namespace: environment.namespace });
  const by = BY.join(', ');
  return [
    { record: RECORDED.requestRate, expr: rateQuery('requestSuccess', sel, '5m', BY) },
    // vLLM counts every finished request by reason; "abort" is a request that did not complete.
    ...ERROR_WINDOWS.map((window) => ({
      record: RECORDED.errorRatio(window),
      expr: `${rateQuery('requestSuccess', matcher({ namespace: environment.namespace, [FINISHED_REASON_LABEL]: 'abort' }), window, BY)} / ${rateQuery('requestSuccess', sel, window, BY)}`,
    })),
    { record: RECORDED.e2eP95, expr: quantileQuery(0.95, 'e2e', sel, '5m', BY) },
    { record: RECORDED.ttftP95, expr: quantileQuery(0.95, 'ttft', sel, '5m', BY) },
    { record: RECORDED.interTokenP95, expr: quantileQuery(0.95, 'interToken', sel, '5m', BY) },
    { record: RECORDED.generationTokenRate, expr: rateQuery('generationTokens', sel, '5m', BY) },
    { record: RECORDED.promptTokenRate, expr: rateQuery('promptTokens', sel, '5m', BY) },
    { record: RECORDED.kvCacheUsage, expr: `avg by (${by}) (${VLLM_FAMILIES.kvCache.name}${sel})` },
    // Every serving pod exports the gauge, so counting it counts replicas.
    { record: RECORDED.replicas, expr: `count by (${by}) (${VLLM_FAMILIES.running.name}${sel})` },
  ];
}

/** Estimated cost per hour of each deployment: its replicas times its machine share's price from the catalogue. */
export function costRules(deployments: readonly FleetDeployment[]): RecordingRule[] {
  return deployments.map((deployment) => {
    const usdPerReplicaHour = estimateDeploymentCost(deployment.environment, deployment.spec)?.usdPerHourPerReplica ?? 0;
    return {
      record: RECORDED.costPerHour,
      expr: `${RECORDED.replicas}${seriesSelector(deployment)} * ${usdPerReplicaHour.toFixed(4)}`,
      labels: { model_name: deployment.model.name },
    };
  });
}

function alert(environment: Environment, name: string, expr: string, forDuration: string, severity: string, summary: string): AlertingRule {
  return {
    alert: name,
    expr,
    for: forDuration,
    labels: { severity, environment: environment.name },
    annotations: { summary, description: `${summary} (value {{ $value | humanize }}) for {{ $labels.model_name }} in ${environment.name}.` },
  };
}

/** SLO alerts of an environment: multi-window burn rate on errors (SRE workbook), sustained p95 breaches on latency. */
export function sloAlerts(environment: Environment): AlertingRule[] {
  const sel = `{namespace="${environment.namespace}"}`;
  const { slos } = environment;
  const budget = slos.errorRateRatio;
  const burn = (factor: number, short: string, long: string) =>
    `${RECORDED.errorRatio(short)}${sel} > ${factor * budget} and ${RECORDED.errorRatio(long)}${sel} > ${factor * budget}`;
  const seconds = (ms: number) => ms / 1000;
  return [
    alert(environment, 'LLMErrorBudgetFastBurn', burn(14.4, '5m', '1h'), '2m', 'critical', `Error ratio burns the ${budget} error budget 14.4x too fast`),
    alert(environment, 'LLMErrorBudgetSlowBurn', burn(6, '30m', '6h'), '15m', 'warning', `Error ratio burns the ${budget} error budget 6x too fast`),
    alert(environment, 'LLMTimeToFirstTokenSLOBreach', `${RECORDED.ttftP95}${sel} > ${seconds(slos.ttftP95Ms)}`, '10m', 'warning', `p95 time to first token above ${slos.ttftP95Ms} ms`),
    alert(environment, 'LLMEndToEndLatencySLOBreach', `${RECORDED.e2eP95}${sel} > ${seconds(slos.e2eP95Ms)}`, '10m', 'warning', `p95 end-to-end latency above ${slos.e2eP95Ms} ms`),
    alert(environment, 'LLMInterTokenLatencySLOBreach', `${RECORDED.interTokenP95}${sel} > ${seconds(slos.interTokenP95Ms)}`, '10m', 'warning', `p95 inter-token latency above ${slos.interTokenP95Ms} ms`),
    alert(environment, 'LLMKVCacheSaturated', `${RECORDED.kvCacheUsage}${sel} > 0.95`, '15m', 'warning', 'KV cache more than 95 % full: requests queue and get preempted'),
  ];
}

/** Every rule group of an environment. */
export function environmentRuleGroups(environment: Environment, deployments: readonly FleetDeployment[]): RuleGroup[] {
  return [
    { name: `llmops.${environment.name}.recording`, interval: '30s', rules: recordingRules(environment) },
    { name: `llmops.${environment.name}.cost`, interval: '30s', rules: costRules(deployments) },
    { name: `llmops.${environment.name}.slo`, rules: sloAlerts(environment) },
    budgetRuleGroup(environment),
  ];
}

/** The environment's budget alert: the projected month of GPU spend at the current rate. */
export function budgetRuleGroup(environment: Environment): RuleGroup {
  const projected = `sum by (namespace) (${RECORDED.costPerHour}{namespace="${environment.namespace}"}) * ${HOURS_PER_MONTH}`;
  const monthly = environment.budget.monthlyUsd;
  const budgetAlert = (name: string, factor: number, forDuration: string, severity: string): AlertingRule => ({
    alert: name,
    expr: `${projected} > ${monthly * factor}`,
    for: forDuration,
    labels: { severity, environment: environment.name },
    annotations: {
      summary: `Projected GPU spend above ${Math.round(factor * 100)} % of the ${monthly} USD monthly budget`,
      description: `At the current replica count ${environment.name} would spend {{ $value | humanize }} USD this month (budget ${monthly}).`,
    },
  });
  return {
    name: `llmops.${environment.name}.budget`,
    rules: [budgetAlert('LLMBudgetProjectedOverrun', 1, '1h', 'warning'), budgetAlert('LLMBudgetProjectedOverrunCritical', 1.5, '15m', 'critical')],
  };
}
