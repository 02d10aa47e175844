import { ApiObject } from 'cdk8s';
import type { Construct } from 'constructs';
import type { FleetDeployment } from '../../fleet/fleet.ts';
import { SCRAPE_INTERVAL_SECONDS } from '../../fleet/canary-traffic.ts';
import { deploymentLabels, MANAGED_BY, selectorLabels, syncWave, SyncWave } from './labels.ts';
import { environmentRuleGroups, type AlertContext } from './prometheus-rules.ts';

/** Label of the pod-template hash Argo Rollouts puts on pods; copied onto every series so canary and stable can be told apart. */
export const POD_TEMPLATE_HASH_LABEL = 'rollouts-pod-template-hash';

/** A ServiceMonitor scraping `/metrics` of every pod through the root Service (not stable/canary: no double scrape). */
export function addServiceMonitor(scope: Construct, deployment: FleetDeployment): void {
  const { monitoring } = deployment.environment;
  new ApiObject(scope, 'service-monitor', {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'ServiceMonitor',
    metadata: { name: deployment.model.name, labels: { ...deploymentLabels(deployment), ...monitoring.selectorLabels }, annotations: syncWave(SyncWave.routing) },
    spec: {
      selector: { matchLabels: { ...selectorLabels(deployment), 'llmops.dev/service-role': 'root' } },
      endpoints: [{ port: 'http', path: '/metrics', interval: `${SCRAPE_INTERVAL_SECONDS}s`, scrapeTimeout: '10s' }],
      podTargetLabels: [POD_TEMPLATE_HASH_LABEL],
    },
  });
}

/** The environment's recording rules, cost estimates and alerts (SLO, availability, budget), each alert linking its runbook. */
export function addEnvironmentRules(scope: Construct, context: AlertContext, deployments: readonly FleetDeployment[]): void {
  const { environment } = context;
  new ApiObject(scope, 'rules', {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'PrometheusRule',
    metadata: { name: 'llmops', labels: { ...MANAGED_BY, 'llmops.dev/environment': environment.name, ...environment.monitoring.selectorLabels }, annotations: syncWave(SyncWave.configuration) },
    spec: { groups: environmentRuleGroups(context, deployments) },
  });
}
