import { Chart } from 'cdk8s';
import type { Construct } from 'constructs';
import type { FleetDeployment } from '../../fleet/fleet.ts';
import { addAnalysisTemplate } from './analysis-template.ts';
import { addAutoscaler } from './autoscaler.ts';
import { addDisruptionBudget } from './disruption-budget.ts';
import { addServiceMonitor } from './monitoring.ts';
import { addLoadBalancerPolicies } from './load-balancer-policies.ts';
import { addModelServerNetworkPolicy } from './network-policy.ts';
import { addPromptConfigMaps } from './prompts.ts';
import { addRoute } from './route.ts';
import { addWakeRoute } from './scale-from-zero.ts';
import { addServiceAccount } from './service-account.ts';
import { addServices } from './services.ts';
import { addWorkload } from './workload.ts';

/** Props of a DeploymentChart. */
export interface DeploymentChartProps {
  /** The model served in the environment. */
  readonly deployment: FleetDeployment;
}

/** Everything one model needs to serve well in one environment. */
export class DeploymentChart extends Chart {
  constructor(scope: Construct, id: string, props: DeploymentChartProps) {
    const { deployment } = props;
    super(scope, id, { namespace: deployment.environment.namespace, disableResourceNameHashes: true });
    const canary = deployment.environment.canary;
    addServiceAccount(this, deployment);
    addPromptConfigMaps(this, deployment);
    addModelServerNetworkPolicy(this, deployment);
    addServices(this, deployment, canary);
    if (canary) addAnalysisTemplate(this, deployment);
    const workload = addWorkload(this, deployment);
    addAutoscaler(this, deployment, workload);
    addWakeRoute(this, deployment);
    addDisruptionBudget(this, deployment);
    addServiceMonitor(this, deployment);
    addRoute(this, deployment);
    addLoadBalancerPolicies(this, deployment);
  }
}
