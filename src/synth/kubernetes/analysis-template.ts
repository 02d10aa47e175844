import { ApiObject } from 'cdk8s';
import type { Construct } from 'constructs';
import type { FleetDeployment } from '../../fleet/fleet.ts';
import { analysisTemplateName } from '../../fleet/naming.ts';
import { deploymentLabels, syncWave, SyncWave } from './labels.ts';
import { POD_TEMPLATE_HASH_LABEL } from './monitoring.ts';
import { FINISHED_REASON_LABEL, quantileQuery, rateQuery } from '../../vllm/metrics.ts';
import { seriesSelector } from './prometheus-rules.ts';

const HASH = POD_TEMPLATE_HASH_LABEL.replace(/-/g, '_');

/** A Prometheus query comparing pods of one template hash (`canary-hash` or `stable-hash` argument). */
function onPods(deployment: FleetDeployment, hashArg: 'canary-hash' | 'stable-hash', extra = ''): string {
  return seriesSelector(deployment, `,${HASH}="{{args.${hashArg}}}"${extra}`);
}

/**
 * Conditions that pass when there is no data (no traffic yet, or 0/0 = NaN)
 * and fail only on a real measurement beyond the threshold.
 */
function conditions(comparison: string): { successCondition: string; failureCondition: string } {
  return {
    successCondition: `len(result) == 0 || isNaN(result[0]) || result[0] ${comparison}`,
    failureCondition: `len(result) > 0 && !isNaN(result[0]) && !(result[0] ${comparison})`,
  };
}

/**
 * The canary analysis: canary against stable on error ratio and p95 latency,
 * and on quality when the policy names a quality metric, with the policy's
 * rollback thresholds.
 */
export function addAnalysisTemplate(scope: Construct, deployment: FleetDeployment): void {
  const { policy, environment } = deployment;
  const { rollback, canary } = policy;
  const window = '2m';
  const measurement = { interval: `${canary.analysisIntervalSeconds}s`, count: canary.analysisCount, failureLimit: canary.failureLimit, consecutiveErrorLimit: 4 };
  const prometheus = (query: string) => ({ prometheus: { address: environment.monitoring.prometheusUrl, query, timeout: 30 } });
  const p95 = (hash: 'canary-hash' | 'stable-hash') => quantileQuery(0.95, 'e2e', onPods(deployment, hash), window);

  const metrics: Record<string, unknown>[] = [
    {
      name: 'error-ratio',
      ...measurement,
      ...conditions(`<= ${rollback.maxErrorRateRatio}`),
      provider: prometheus(
        `${rateQuery('requestSuccess', onPods(deployment, 'canary-hash', `,${FINISHED_REASON_LABEL}="abort"`), window)} / ${rateQuery('requestSuccess', onPods(deployment, 'canary-hash'), window)}`,
      ),
    },
    {
      name: 'p95-latency-vs-stable',
      ...measurement,
      ...conditions(`<= ${1 + rollback.maxP95LatencyIncreasePct / 100}`),
      provider: prometheus(`${p95('canary-hash')} / ${p95('stable-hash')}`),
    },
  ];
  if (rollback.qualityMetric) {
    const quality = (hash: 'canary-hash' | 'stable-hash') => `avg(${rollback.qualityMetric}${onPods(deployment, hash)})`;
    metrics.push(
      rollback.minQuality !== undefined
        ? { name: 'quality', ...measurement, ...conditions(`>= ${rollback.minQuality}`), provider: prometheus(quality('canary-hash')) }
        : { name: 'quality-vs-stable', ...measurement, ...conditions('>= 0.98'), provider: prometheus(`${quality('canary-hash')} / ${quality('stable-hash')}`) },
    );
  }

  new ApiObject(scope, 'analysis-template', {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'AnalysisTemplate',
    metadata: { name: analysisTemplateName(deployment.model.name), labels: deploymentLabels(deployment), annotations: syncWave(SyncWave.configuration) },
    spec: { args: [{ name: 'canary-hash' }, { name: 'stable-hash' }], metrics },
  });
}
