import { ApiObject } from 'cdk8s';
import type { Construct } from 'constructs';
import type { FleetDeployment } from '../../fleet/fleet.ts';
import { gatewayNamespaceOf } from '../../fleet/cluster-defaults.ts';
import { deploymentLabels, syncWave, SyncWave, VLLM_PORT } from './labels.ts';
import { usesCloudLoadBalancerPolicies } from './load-balancer-policies.ts';
import { requestTimeoutSeconds } from './request-timeouts.ts';
import { HTTP_ADD_ON, scaledFromZero, wakeHost } from './scale-from-zero.ts';
import { serviceNames } from '../../fleet/naming.ts';

/** Path prefix of a model behind the gateway: `/<model>/v1/chat/completions` reaches the server's `/v1/chat/completions`. */
export function modelRoutePrefix(modelName: string): string {
  return `/${modelName}/v1`;
}

/** Name of a deployment's HTTPRoute (the traffic router's `httpRoute`). */
export function routeName(modelName: string): string {
  return modelName;
}

/** Where the route sends a deployment's requests. */
function backends(deployment: FleetDeployment): Record<string, unknown>[] {
  const names = serviceNames(deployment.model.name);
  if (scaledFromZero(deployment)) return [{ name: HTTP_ADD_ON.proxyService, namespace: HTTP_ADD_ON.namespace, port: HTTP_ADD_ON.proxyPort }];
  if (deployment.environment.canary && deployment.environment.gateway.canaryTraffic === 'gateway-api') {
    // Argo Rollouts' Gateway API plugin moves these weights during a canary; git always says all on stable.
    return [
      { name: names.stable, port: VLLM_PORT, weight: 100 },
      { name: names.canary, port: VLLM_PORT, weight: 0 },
    ];
  }
  return [{ name: names.root, port: VLLM_PORT }];
}

/**
 * A Gateway API HTTPRoute on the environment's Gateway: requests under the
 * model's prefix go to the stable and canary Services (exact canary weights), to
 * the root Service (every pod: a replica-weighted canary gets its pods' share),
 * or, for a model that may scale to zero, to the KEDA HTTP add-on's interceptor,
 * which wakes it. The rule's `timeouts.request` (Gateway API HTTPRouteTimeouts,
 * Standard channel since v1.2; Envoy Gateway v1.9 turns it into the Envoy route
 * timeout and raises the stream idle timeout to match) replaces the gateway's
 * own default; a cloud load balancer that reads a policy on the Service instead
 * (GKE) gets the timeout there.
 */
export function addRoute(scope: Construct, deployment: FleetDeployment): void {
  const { environment, model } = deployment;
  const rewrite = {
    type: 'URLRewrite',
    urlRewrite: { ...(scaledFromZero(deployment) ? { hostname: wakeHost(deployment) } : {}), path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/v1' } },
  };
  const timeouts = usesCloudLoadBalancerPolicies(deployment) ? {} : { timeouts: { request: `${requestTimeoutSeconds(deployment)}s` } };
  new ApiObject(scope, 'route', {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: { name: routeName(model.name), labels: deploymentLabels(deployment), annotations: syncWave(SyncWave.routing) },
    spec: {
      parentRefs: [{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: environment.gateway.name, namespace: gatewayNamespaceOf(environment) }],
      rules: [{ matches: [{ path: { type: 'PathPrefix', value: modelRoutePrefix(model.name) } }], filters: [rewrite], backendRefs: backends(deployment), ...timeouts }],
    },
  });
}
