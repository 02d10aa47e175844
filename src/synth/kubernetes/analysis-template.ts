import { ApiObject } from 'cdk8s';
import type { Construct } from 'constructs';
import type { FleetDeployment } from '../../fleet/fleet.ts';
import { HTTP_STATUS_LABEL, httpRequestsQuery, quantileQuery, SERVER_ERROR_STATUS, type VllmHistogram } from '../../vllm/metrics.ts';
import { analysisTemplateNames } from '../../fleet/naming.ts';
import { deploymentLabels, syncWave, SyncWave } from './labels.ts';
import { analysisMeasurements, evidenceWindowSeconds } from '../../fleet/canary-traffic.ts';
import { POD_TEMPLATE_HASH_LABEL } from './monitoring.ts';
import { httpSelector, seriesSelector } from './prometheus-rules.ts';

const HASH = POD_TEMPLATE_HASH_LABEL.replace(/-/g, '_');
type Hash = 'canary-hash' | 'stable-hash';
const onHash = (hash: Hash) => `,${HASH}="{{args.${hash}}}"`;

/** What each measurement looks back over: the step's whole analysis, at least four scrapes (see canary-traffic.ts). */
const measurementWindow = (deployment: FleetDeployment) => `${evidenceWindowSeconds(deployment.policy)}s`;

/** Requests the canary's pods answered on the inference routes in the last window (vLLM's HTTP counter). */
export function canaryRequestsQuery(deployment: FleetDeployment): string {
  return httpRequestsQuery('increase', httpSelector(deployment, onHash('canary-hash')), measurementWindow(deployment));
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
  const window = measurementWindow(deployment);
  const all = httpRequestsQuery('increase', httpSelector(deployment, onHash('canary-hash')), window);
  const errors = httpRequestsQuery('increase', httpSelector(deployment, `${onHash('canary-hash')},${HTTP_STATUS_LABEL}="${SERVER_ERROR_STATUS}"`), window);
  return withEvidence(deployment, `(${errors} or ${all} * 0) / ${all}`);
}

/** Canary p95 over stable p95 of a vLLM latency histogram. */
export function canaryLatencyRatioQuery(deployment: FleetDeployment, histogram: VllmHistogram): string {
  const window = measurementWindow(deployment);
  const p95 = (hash: Hash) => quantileQuery(0.95, histogram, seriesSelector(deployment, onHash(hash)), window);
  return withEvidence(deployment, `${p95('canary-hash')} / ${p95('stable-hash')}`);
}

/**
 * The canary analysis. First the evidence: the canary must have served the
 * policy's minimum requests within the step's analysis window; each
 * measurement short of it is inconclusive, and if the analysis ends without it
 * the step fails (the rollout aborts). Then the canary on its own — its
 * server-error ratio against the rollback threshold, and quality when the
 * policy sets a floor — and against stable (second template): p95 time to
 * first token and p95 inter-token latency, and relative quality, each answering
 * only with evidence. A metric never succeeds on inconclusive measurements
 * alone (its inconclusive limit is below its count).
 */
export function addAnalysisTemplate(scope: Construct, deployment: FleetDeployment): void {
  const { policy, environment } = deployment;
  const { rollback, canary, canaryEvidence } = policy;
  const interval = `${canary.analysisIntervalSeconds}s`;
  const count = analysisMeasurements(policy);
  const comparison = { interval, count, failureLimit: canary.failureLimit, inconclusiveLimit: count - 1, consecutiveErrorLimit: 4 };
  const prometheus = (query: string) => ({ prometheus: { address: environment.monitoring.prometheusUrl, query, timeout: 30 } });
  const latencyLimit = `<= ${1 + rollback.maxP95LatencyIncreasePct / 100}`;

  const alone: Record<string, unknown>[] = [
    {
      name: 'canary-requests',
      interval,
      count,
      // Below the minimum is neither success nor failure (inconclusive); the first measurement with enough requests
      // succeeds; reaching the count without one fails (failures themselves are not counted: failureLimit -1).
      successCondition: `len(result) > 0 && !isNaN(result[0]) && result[0] >= ${canaryEvidence.minRequests}`,
      failureCondition: 'false',
      consecutiveSuccessLimit: 1,
      failureLimit: -1,
      inconclusiveLimit: count,
      consecutiveErrorLimit: 4,
      provider: prometheus(canaryRequestsQuery(deployment)),
    },
    { name: 'server-error-ratio', ...comparison, ...measured(`<= ${rollback.maxErrorRateRatio}`), provider: prometheus(canaryServerErrorQuery(deployment)) },
  ];
  const versusStable: Record<string, unknown>[] = [
    { name: 'ttft-p95-vs-stable', ...comparison, ...measured(latencyLimit), provider: prometheus(canaryLatencyRatioQuery(deployment, 'ttft')) },
    { name: 'inter-token-p95-vs-stable', ...comparison, ...measured(latencyLimit), provider: prometheus(canaryLatencyRatioQuery(deployment, 'interToken')) },
  ];
  if (rollback.qualityMetric) {
    const quality = (hash: Hash) => `avg(${rollback.qualityMetric}${seriesSelector(deployment, onHash(hash))})`;
    if (rollback.minQuality !== undefined)
      alone.push({ name: 'quality', ...comparison, ...measured(`>= ${rollback.minQuality}`), provider: prometheus(withEvidence(deployment, quality('canary-hash'))) });
    else
      versusStable.push({ name: 'quality-vs-stable', ...comparison, ...measured('>= 0.98'), provider: prometheus(withEvidence(deployment, `${quality('canary-hash')} / ${quality('stable-hash')}`)) });
  }

  const names = analysisTemplateNames(deployment.model.name);
  const template = (id: string, name: string, args: string[], metrics: Record<string, unknown>[]) =>
    new ApiObject(scope, id, {
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'AnalysisTemplate',
      metadata: { name, labels: deploymentLabels(deployment), annotations: syncWave(SyncWave.configuration) },
      spec: { args: args.map((arg) => ({ name: arg })), metrics },
    });
  template('analysis-template', names.canary, ['canary-hash'], alone);
  template('analysis-template-vs-stable', names.versusStable, ['canary-hash', 'stable-hash'], versusStable);
}
