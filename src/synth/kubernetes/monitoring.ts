import { ApiObject } from 'cdk8s';
import type { Construct } from 'constructs';
import type { Environment } from '../../declarations/environment.ts';
import type { FleetDeployment } from '../../fleet/fleet.ts';
import { deploymentLabels, MANAGED_BY, selectorLabels, syncWave, SyncWave } from './labels.ts';
import { budgetRuleGroup, deploymentRuleGroups, type RuleGroup } from './prometheus-rules.ts';

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

function addPrometheusRule(scope: Construct, id: string, name: string, labels: Record<string, string>, groups: RuleGroup[]): void {
  new ApiObject(scope, id, {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'PrometheusRule',
    metadata: { name, labels, annotations: syncWave(SyncWave.observers) },
    spec: { groups },
  });
}

/** Recording rules and SLO alerts of a deployment. */
export function addDeploymentRules(scope: Construct, deployment: FleetDeployment): void {
  addPrometheusRule(scope, 'rules', deployment.model.name, { ...deploymentLabels(deployment), ...deployment.environment.monitoring.selectorLabels }, deploymentRuleGroups(deployment));
}

/** The environment's budget alerts. */
export function addBudgetRules(scope: Construct, environment: Environment): void {
  addPrometheusRule(scope, 'budget-rules', 'llmops-budget', { ...MANAGED_BY, 'llmops.dev/environment': environment.name, ...environment.monitoring.selectorLabels }, [budgetRuleGroup(environment)]);
}
