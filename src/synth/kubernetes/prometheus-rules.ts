/**
 * Recording and alerting rules of an environment, as Prometheus rule groups
 * (plain data, so promtool can check and unit-test them). The recorded series
 * are the contract the bot and the canary analysis read; every alert links its
 * runbook in the README.
 */
import { HOURS_PER_MONTH } from '../../catalogue/prices.ts';
import type { Environment } from '../../declarations/environment.ts';
import { estimateDeploymentCost } from '../../fleet/cost.ts';
import type { FleetDeployment } from '../../fleet/fleet.ts';
import {
  HTTP_HANDLER_LABEL,
  HTTP_REQUESTS_TOTAL,
  HTTP_STATUS_LABEL,
  INFERENCE_HANDLER_PATTERN,
  matcher,
  MODEL_LABEL,
  quantileQuery,
  rateQuery,
  SERVER_ERROR_STATUS,
  VLLM_FAMILIES,
} from '../../vllm/metrics.ts';
import { runbookUrl } from './runbooks.ts';
import { ROLLOUT_FAILED_PHASES } from '../../prometheus/exporters.ts';

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

/**
 * The label matcher of one deployment's HTTP series (`http_requests_total` has
 * no `model_name`; the ServiceMonitor scrapes through the root Service, so
 * Prometheus labels every series with `service="<model>"`), inference routes only.
 */
export function httpSelector(deployment: FleetDeployment, extra = ''): string {
  return `{namespace="${deployment.environment.namespace}",service="${deployment.model.name}",${HTTP_HANDLER_LABEL}=~"${INFERENCE_HANDLER_PATTERN}"${extra}}`;
}

const BY = ['namespace', MODEL_LABEL];

/** HTTP requests of a namespace per deployment: `model_name` taken from the `service` label. */
function httpByModel(namespace: string, window: string, statusMatcher = ''): string {
  const inner = `label_replace(rate(${HTTP_REQUESTS_TOTAL}{namespace="${namespace}",${HTTP_HANDLER_LABEL}=~"${INFERENCE_HANDLER_PATTERN}"${statusMatcher}}[${window}]), "${MODEL_LABEL}", "$1", "service", "(.+)")`;
  return `sum by (${BY.join(', ')}) (${inner})`;
}

/**
 * Server errors over all inference requests: HTTP 5xx answers of vLLM's
 * OpenAI server (`http_requests_total{status="5xx"}`), not `finished_reason="abort"`,
 * which counts clients that hung up. With requests but no 5xx series yet
 * (counters appear on first use) the ratio is 0, not missing.
 */
export function serverErrorRatio(namespace: string, window: string): string {
  const all = httpByModel(namespace, window);
  return `(${httpByModel(namespace, window, `,${HTTP_STATUS_LABEL}="${SERVER_ERROR_STATUS}"`)} or ${all} * 0) / ${all}`;
}

/**
 * Recording rules of an environment: one rule per signal over the namespace,
 * split by `model_name` (one series per deployment).
 */
export function recordingRules(environment: Environment): RecordingRule[] {
  const sel = matcher({ namespace: environment.namespace });
  const by = BY.join(', ');
  return [
    { record: RECORDED.requestRate, expr: rateQuery('requestSuccess', sel, '5m', BY) },
    ...ERROR_WINDOWS.map((window) => ({ record: RECORDED.errorRatio(window), expr: serverErrorRatio(environment.namespace, window) })),
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

/** What every alert of an environment needs: its name, the repository (for runbook links). */
export interface AlertContext {
  readonly environment: Environment;
  /** Git URL of the fleet repository (package.json `repository`); runbooks are sections of its README. */
  readonly repositoryUrl: string;
}

interface AlertSpec {
  readonly name: string;
  readonly expr: string;
  readonly for: string;
  readonly severity: 'critical' | 'warning';
  readonly summary: string;
  readonly description: string;
  readonly labels?: Record<string, string>;
}

function alert(context: AlertContext, spec: AlertSpec): AlertingRule {
  return {
    alert: spec.name,
    expr: spec.expr,
    for: spec.for,
    labels: { severity: spec.severity, environment: context.environment.name, ...spec.labels },
    annotations: { summary: spec.summary, description: spec.description, runbook_url: runbookUrl(context.repositoryUrl, spec.name) },
  };
}

const perModel = (summary: string, environment: Environment) => `${summary} (value {{ $value | humanize }}) for {{ $labels.model_name }} in ${environment.name}.`;

/** SLO alerts of an environment: multi-window burn rate on server errors (SRE workbook), sustained p95 breaches on latency. */
export function sloAlerts(context: AlertContext): AlertingRule[] {
  const { environment } = context;
  const sel = `{namespace="${environment.namespace}"}`;
  const { slos } = environment;
  const budget = slos.errorRateRatio;
  const burn = (factor: number, short: string, long: string) => `${RECORDED.errorRatio(short)}${sel} > ${factor * budget} and ${RECORDED.errorRatio(long)}${sel} > ${factor * budget}`;
  const seconds = (ms: number) => ms / 1000;
  const slo = (name: string, expr: string, forDuration: string, severity: AlertSpec['severity'], summary: string) =>
    alert(context, { name, expr, for: forDuration, severity, summary, description: perModel(summary, environment) });
  return [
    slo('LLMErrorBudgetFastBurn', burn(14.4, '5m', '1h'), '2m', 'critical', `Server errors burn the ${budget} error budget 14.4x too fast`),
    slo('LLMErrorBudgetSlowBurn', burn(6, '30m', '6h'), '15m', 'warning', `Server errors burn the ${budget} error budget 6x too fast`),
    slo('LLMTimeToFirstTokenSLOBreach', `${RECORDED.ttftP95}${sel} > ${seconds(slos.ttftP95Ms)}`, '10m', 'warning', `p95 time to first token above ${slos.ttftP95Ms} ms`),
    slo('LLMEndToEndLatencySLOBreach', `${RECORDED.e2eP95}${sel} > ${seconds(slos.e2eP95Ms)}`, '10m', 'warning', `p95 end-to-end latency above ${slos.e2eP95Ms} ms`),
    slo('LLMInterTokenLatencySLOBreach', `${RECORDED.interTokenP95}${sel} > ${seconds(slos.interTokenP95Ms)}`, '10m', 'warning', `p95 inter-token latency above ${slos.interTokenP95Ms} ms`),
    slo('LLMKVCacheSaturated', `${RECORDED.kvCacheUsage}${sel} > 0.95`, '15m', 'warning', 'KV cache more than 95 % full: requests queue and get preempted'),
  ];
}

/**
 * What the SLO alerts cannot see: a model with no serving pod at all (its series
 * vanish, so error and latency rules have nothing to evaluate), a rollout Argo
 * Rollouts gave up on, and a KEDA ScaledObject that cannot read its trigger.
 * The Argo Rollouts and KEDA series carry the object's namespace as `namespace`
 * (the add-ons' ServiceMonitors relabel it; see src/synth/argocd/cluster-addons.ts).
 */
export function availabilityAlerts(context: AlertContext, deployments: readonly FleetDeployment[]): AlertingRule[] {
  const { environment } = context;
  const ns = environment.namespace;
  const down = deployments
    .filter((deployment) => deployment.spec.replicas.min > 0)
    .map((deployment) =>
      alert(context, {
        name: 'LLMModelServerDown',
        // absent() also covers "no target at all": after a drain or a crash loop the series disappear instead of reporting 0.
        expr: `absent(up{namespace="${ns}",service="${deployment.model.name}"} == 1)`,
        for: '5m',
        severity: 'critical',
        summary: 'No model server is up',
        description: `No replica of ${deployment.model.name} in ${environment.name} has answered a scrape for 5 minutes: the model is offline.`,
        labels: { namespace: ns, [MODEL_LABEL]: deployment.model.name },
      }),
    );
  const rollout = environment.canary
    ? [
        alert(context, {
          name: 'LLMRolloutDegraded',
          expr: `max by (namespace, name, phase) (rollout_info{namespace="${ns}",phase=~"${ROLLOUT_FAILED_PHASES.join('|')}"}) == 1`,
          for: '1m',
          severity: 'warning',
          summary: 'A Rollout stopped: aborted, timed out or invalid',
          description: `Rollout {{ $labels.name }} in ${environment.name} is in phase {{ $labels.phase }}: traffic stays on the stable version until git is reverted or the rollout retried.`,
        }),
      ]
    : [];
  const scaler = alert(context, {
    name: 'LLMAutoscalerErrors',
    expr: `sum by (namespace, scaledObject) (increase(keda_scaled_object_errors_total{namespace="${ns}"}[10m])) > 0`,
    for: '10m',
    severity: 'warning',
    summary: 'KEDA cannot read a ScaledObject trigger',
    description: `ScaledObject {{ $labels.scaledObject }} in ${environment.name} failed {{ $value | humanize }} times in 10 minutes: the replica count is frozen at its fallback.`,
  });
  return [...down, ...rollout, scaler];
}

/** Every rule group of an environment. */
export function environmentRuleGroups(context: AlertContext, deployments: readonly FleetDeployment[]): RuleGroup[] {
  const { environment } = context;
  return [
    { name: `llmops.${environment.name}.recording`, interval: '30s', rules: recordingRules(environment) },
    { name: `llmops.${environment.name}.cost`, interval: '30s', rules: costRules(deployments) },
    { name: `llmops.${environment.name}.slo`, rules: sloAlerts(context) },
    { name: `llmops.${environment.name}.availability`, rules: availabilityAlerts(context, deployments) },
    budgetRuleGroup(context),
  ];
}

/** The environment's budget alert: the projected month of GPU spend at the current rate. */
export function budgetRuleGroup(context: AlertContext): RuleGroup {
  const { environment } = context;
  const projected = `sum by (namespace) (${RECORDED.costPerHour}{namespace="${environment.namespace}"}) * ${HOURS_PER_MONTH}`;
  const monthly = environment.budget.monthlyUsd;
  const budgetAlert = (name: string, factor: number, forDuration: string, severity: AlertSpec['severity']) =>
    alert(context, {
      name,
      expr: `${projected} > ${monthly * factor}`,
      for: forDuration,
      severity,
      summary: `Projected GPU spend above ${Math.round(factor * 100)} % of the ${monthly} USD monthly budget`,
      description: `At the current replica count ${environment.name} would spend {{ $value | humanize }} USD this month (budget ${monthly}).`,
    });
  return {
    name: `llmops.${environment.name}.budget`,
    rules: [budgetAlert('LLMBudgetProjectedOverrun', 1, '1h', 'warning'), budgetAlert('LLMBudgetProjectedOverrunCritical', 1.5, '15m', 'critical')],
  };
}
