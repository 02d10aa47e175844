/**
 * What a cloud's own load balancer needs beside the Services a route uses
 * (GKE: a HealthCheckPolicy on vLLM's `/health`, which its default "/" would
 * fail, and a GCPBackendPolicy with the request timeout instead of 30 s), from
 * the environment's cloud plug-in; nothing for Envoy Gateway.
 */
import { ApiObject } from 'cdk8s';
import type { Construct } from 'constructs';
import type { BackendService } from '../../clouds/cloud-plugin.ts';
import { cloudPlugin } from '../../clouds/registry.ts';
import { gatewayClassOf } from '../../fleet/cluster-defaults.ts';
import type { FleetDeployment } from '../../fleet/fleet.ts';
import { deploymentLabels, syncWave, SyncWave, VLLM_PORT } from './labels.ts';
import { requestTimeoutSeconds } from './request-timeouts.ts';
import { scaledFromZero } from './scale-from-zero.ts';
import { serviceNames } from '../../fleet/naming.ts';

/** The Services of a deployment a route may use, as the load balancer sees them. */
function backendServices(deployment: FleetDeployment): BackendService[] {
  const names = serviceNames(deployment.model.name);
  const roles = deployment.environment.canary ? [names.root, names.stable, names.canary] : [names.root];
  return roles.map((name) => ({
    name,
    namespace: deployment.environment.namespace,
    health: { port: VLLM_PORT, path: '/health' },
    timeoutSeconds: requestTimeoutSeconds(deployment),
    gatewayClass: gatewayClassOf(deployment.environment),
  }));
}

/** The cloud's load-balancer policies for a deployment's Services (none where the route goes to the scale-from-zero interceptor instead). */
function backendPolicies(deployment: FleetDeployment): Record<string, unknown>[] {
  if (scaledFromZero(deployment)) return [];
  const plugin = cloudPlugin(deployment.environment.cloud);
  return backendServices(deployment).flatMap((backend) => [...(plugin.backendServicePolicies?.(backend) ?? [])]);
}

/** Whether the cloud's load balancer takes health checks and timeouts from policies on the Services (so the route carries no timeout of its own). */
export function usesCloudLoadBalancerPolicies(deployment: FleetDeployment): boolean {
  const plugin = cloudPlugin(deployment.environment.cloud);
  return (plugin.backendServicePolicies?.(backendServices(deployment)[0]) ?? []).length > 0;
}

export function addLoadBalancerPolicies(scope: Construct, deployment: FleetDeployment): void {
  backendPolicies(deployment).forEach((policy, index) => {
    const metadata = policy.metadata as Record<string, unknown>;
    new ApiObject(scope, `load-balancer-policy-${index}`, { ...policy, metadata: { ...metadata, labels: deploymentLabels(deployment), annotations: syncWave(SyncWave.routing) } } as never);
  });
}
