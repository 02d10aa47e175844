import { ApiObject } from 'cdk8s';
import type { Construct } from 'constructs';
import type { Environment } from '../../declarations/environment.ts';
import type { FleetDeployment } from '../../fleet/fleet.ts';
import { deploymentLabels, MANAGED_BY, selectorLabels, syncWave, SyncWave } from './labels.ts';
import { environmentRuleGroups } from './prometheus-rules.ts';

/** Label of the pod-template hash Argo Rollouts puts on pods; copied onto every series so canary and stable can be told apart. */
export const POD_TEMPLATE_HASH_LABEL = 'rollouts-pod-template-hash';

/** A ServiceMonitor scraping `/metrics` of every pod through the root Service (not stable/canary: no double scrape). */
export function addServiceMonitor(scope: Construct, deployment: FleetDeployment): void {
  const { monitoring } = deployment.environment;
  new ApiObject(scope, 'service-monitor', {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'ServiceMonitor',
    metadata: { name: deployment.model.name, labels: { ...deploymentLabels(deployment), ...monitoring.selectorLabels }, annotations: syncWave(SyncWave.observers) },
    spec: {
      selector: { matchLabels: { ...selectorLabels(deployment), 'llmops.dev/service-role': 'root' } },
      endpoints: [{ port: 'http', path: '/metrics', interval: '30s', scrapeTimeout: '10s' }],
      podTargetLabels: [POD_TEMPLATE_HASH_LABEL],
    },
  });
}

/** The environment's recording rules, cost estimates, SLO alerts and budget alerts. */
export function addEnvironmentRules(scope: Construct, environment: Environment, deployments: readonly FleetDeployment[]): void {
  new ApiObject(scope, 'rules', {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'PrometheusRule',
    metadata: { name: 'llmops', labels: { ...MANAGED_BY, 'llmops.dev/environment': environment.name, ...environment.monitoring.selectorLabels }, annotations: syncWave(SyncWave.observers) },
    spec: { groups: environmentRuleGroups(environment, deployments) },
  });
}
