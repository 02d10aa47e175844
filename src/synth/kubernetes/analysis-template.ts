import { ApiObject } from 'cdk8s';
import type { Construct } from 'constructs';
import type { FleetDeployment } from '../../fleet/fleet.ts';
import { HTTP_STATUS_LABEL, httpRequestsQuery, quantileQuery, SERVER_ERROR_STATUS, type VllmHistogram } from '../../vllm/metrics.ts';
import { analysisTemplateName } from '../../fleet/naming.ts';
import { deploymentLabels, syncWave, SyncWave } from './labels.ts';
import { POD_TEMPLATE_HASH_LABEL } from './monitoring.ts';
import { httpSelector, seriesSelector } from './prometheus-rules.ts';

const HASH = POD_TEMPLATE_HASH_LABEL.replace(/-/g, '_');
type Hash = 'canary-hash' | 'stable-hash';
const onHash = (hash: Hash) => `,${HASH}="{{args.${hash}}}"`;

/** Seconds each measurement looks back: one analysis interval, at least 60 s (two scrapes of the 30 s ServiceMonitor). */
export function measurementWindowSeconds(deployment: FleetDeployment): number {
  return Math.max(60, deployment.policy.canary.analysisIntervalSeconds);
}

/** Measurements of each comparison metric: the policy's count, but never fewer than the evidence tries (so thin traffic fails, not passes). */
function comparisonCount(deployment: FleetDeployment): number {
  return Math.max(deployment.policy.canary.analysisCount, deployment.policy.canaryEvidence.inconclusiveTries);
}

/** Seconds one canary analysis runs. */
export function analysisDurationSeconds(deployment: FleetDeployment): number {
  return deployment.policy.canary.analysisIntervalSeconds * comparisonCount(deployment);
}

/** Requests the canary's pods answered on the inference routes in the last window (vLLM's HTTP counter). */
export function canaryRequestsQuery(deployment: FleetDeployment): string {
  return httpRequestsQuery('increase', httpSelector(deployment, onHash('canary-hash')), `${measurementWindowSeconds(deployment)}s`);
}

/** A query that answers only when the canary served at least the policy's minimum requests in the window: no evidence, no result. */
function withEvidence(deployment: FleetDeployment, expr: string): string {
  return `(${expr}) and on() (${canaryRequestsQuery(deployment)} >= ${deployment.policy.canaryEvidence.minRequests})`;
}

/**
 * Conditions that succeed or fail only on a real measurement: no data (an empty
 * result or NaN) satisfies neither, which Argo Rollouts counts as inconclusive.
 */
function measured(comparison: string): { successCondition: string; failureCondition: string } {
  const present = 'len(result) > 0 && !isNaN(result[0])';
  return { successCondition: `${present} && result[0] ${comparison}`, failureCondition: `${present} && !(result[0] ${comparison})` };
}

/** The canary's server-error ratio (HTTP 5xx over all inference requests; client cancellations are not errors). */
export function canaryServerErrorQuery(deployment: FleetDeployment): string {
  const window = `${measurementWindowSeconds(deployment)}s`;
  const all = httpRequestsQuery('increase', httpSelector(deployment, onHash('canary-hash')), window);
  const errors = httpRequestsQuery('increase', httpSelector(deployment, `${onHash('canary-hash')},${HTTP_STATUS_LABEL}="${SERVER_ERROR_STATUS}"`), window);
  return withEvidence(deployment, `(${errors} or ${all} * 0) / ${all}`);
}

/** Canary p95 over stable p95 of a vLLM latency histogram. */
export function canaryLatencyRatioQuery(deployment: FleetDeployment, histogram: VllmHistogram): string {
  const window = `${measurementWindowSeconds(deployment)}s`;
  const p95 = (hash: Hash) => quantileQuery(0.95, histogram, seriesSelector(deployment, onHash(hash)), window);
  return withEvidence(deployment, `${p95('canary-hash')} / ${p95('stable-hash')}`);
}

/**
 * The canary analysis. First the evidence: the canary must serve the policy's
 * minimum requests within a window; each window short of it is inconclusive, and
 * after the policy's tries the step fails (the rollout aborts). Then canary
 * against stable, each answering only with evidence: server-error ratio, p95
 * time to first token and p95 inter-token latency, with the policy's rollback
 * thresholds, and quality when the policy names a metric. A comparison never
 * succeeds on inconclusive measurements alone (its inconclusive limit is below
 * its count).
 */
export function addAnalysisTemplate(scope: Construct, deployment: FleetDeployment): void {
  const { policy, environment } = deployment;
  const { rollback, canary, canaryEvidence } = policy;
  const interval = `${canary.analysisIntervalSeconds}s`;
  const count = comparisonCount(deployment);
  const comparison = { interval, count, failureLimit: canary.failureLimit, inconclusiveLimit: count - 1, consecutiveErrorLimit: 4 };
  const prometheus = (query: string) => ({ prometheus: { address: environment.monitoring.prometheusUrl, query, timeout: 30 } });
  const latencyLimit = `<= ${1 + rollback.maxP95LatencyIncreasePct / 100}`;

  const metrics: Record<string, unknown>[] = [
    {
      name: 'canary-requests',
      interval,
      count: canaryEvidence.inconclusiveTries,
      // Below the minimum is neither success nor failure (inconclusive); one window with enough requests succeeds;
      // reaching the count without one fails (failures themselves are not counted: failureLimit -1).
      successCondition: `len(result) > 0 && !isNaN(result[0]) && result[0] >= ${canaryEvidence.minRequests}`,
      failureCondition: 'false',
      consecutiveSuccessLimit: 1,
      failureLimit: -1,
      inconclusiveLimit: canaryEvidence.inconclusiveTries,
      consecutiveErrorLimit: 4,
      provider: prometheus(canaryRequestsQuery(deployment)),
    },
    { name: 'server-error-ratio', ...comparison, ...measured(`<= ${rollback.maxErrorRateRatio}`), provider: prometheus(canaryServerErrorQuery(deployment)) },
    { name: 'ttft-p95-vs-stable', ...comparison, ...measured(latencyLimit), provider: prometheus(canaryLatencyRatioQuery(deployment, 'ttft')) },
    { name: 'inter-token-p95-vs-stable', ...comparison, ...measured(latencyLimit), provider: prometheus(canaryLatencyRatioQuery(deployment, 'interToken')) },
  ];
  if (rollback.qualityMetric) {
    const quality = (hash: Hash) => `avg(${rollback.qualityMetric}${seriesSelector(deployment, onHash(hash))})`;
    metrics.push(
      rollback.minQuality !== undefined
        ? { name: 'quality', ...comparison, ...measured(`>= ${rollback.minQuality}`), provider: prometheus(withEvidence(deployment, quality('canary-hash'))) }
        : { name: 'quality-vs-stable', ...comparison, ...measured('>= 0.98'), provider: prometheus(withEvidence(deployment, `${quality('canary-hash')} / ${quality('stable-hash')}`)) },
    );
  }

  new ApiObject(scope, 'analysis-template', {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'AnalysisTemplate',
    metadata: { name: analysisTemplateName(deployment.model.name), labels: deploymentLabels(deployment), annotations: syncWave(SyncWave.configuration) },
    spec: { args: [{ name: 'canary-hash' }, { name: 'stable-hash' }], metrics },
  });
}
