/**
 * What the cluster around an environment's model servers looks like: the
 * GatewayClass a managed Gateway uses and who can reach it, where that
 * gateway's traffic comes from, how long a request may take, node-local DNS,
 * the GPU stack and a ReadWriteMany StorageClass — the environment's
 * declaration (`gateway`, `network`, `addons`, `modelCache`) over its cloud
 * plug-in's defaults.
 */
import { ENVOY_GATEWAY, ENVOY_GATEWAY_SOURCES } from '../catalogue/envoy-gateway.ts';
import { isCloudIssue, type CloudIssue, type InternalService } from '../clouds/cloud-plugin.ts';
import { cloudPlugin } from '../clouds/registry.ts';
import type { ClusterAddons } from '../declarations/cluster-addons.ts';
import type { Environment } from '../declarations/environment.ts';
import type { GatewayExposure } from '../declarations/gateway.ts';
import type { NetworkPeer } from '../declarations/network.ts';

/** Who can reach the environment's managed Gateway: declared, else `internal`. */
export function exposureOf(environment: Environment): GatewayExposure {
  return environment.gateway.mode === 'managed' ? (environment.gateway.exposure ?? 'internal') : 'internal';
}

/** The GatewayClass of an environment's managed Gateway: declared, else the cloud's own for the exposure, else Envoy Gateway's (undefined for an existing Gateway). */
export function gatewayClassOf(environment: Environment): string | undefined {
  if (environment.gateway.mode !== 'managed') return undefined;
  return environment.gateway.className ?? cloudPlugin(environment.cloud).clusterDefaults.gatewayClasses?.[exposureOf(environment)] ?? ENVOY_GATEWAY.className;
}

/** Namespace of the environment's Gateway. */
export function gatewayNamespaceOf(environment: Environment): string {
  return environment.gateway.mode === 'managed' ? environment.namespace : environment.gateway.namespace;
}

/**
 * Where gateway traffic reaches the model servers from: declared, else the
 * existing Gateway's namespace, else the managed class's data plane (Envoy
 * Gateway's proxies, or what the cloud says for its own class); an issue when
 * that needs a declaration.
 */
export function gatewaySourcesOrIssue(environment: Environment): readonly NetworkPeer[] | CloudIssue {
  if (environment.network.gatewaySources) return environment.network.gatewaySources;
  if (environment.gateway.mode === 'existing') return [{ namespace: environment.gateway.namespace }];
  const className = gatewayClassOf(environment)!;
  if (className === ENVOY_GATEWAY.className) return ENVOY_GATEWAY_SOURCES;
  const known = cloudPlugin(environment.cloud).gatewaySources?.(environment, className);
  return (
    known ?? {
      path: 'network.gatewaySources',
      message: `required with gateway class ${JSON.stringify(className)}: expected where its data plane reaches the model servers from (namespace and pod labels, or CIDRs such as a proxy-only subnet); llmops knows the sources of ${JSON.stringify(ENVOY_GATEWAY.className)} and of the cloud's own classes only (got nothing)`,
    }
  );
}

/** Where gateway traffic reaches the model servers from (the loader has reported it when it needs a declaration). */
export function gatewaySourcesOf(environment: Environment): readonly NetworkPeer[] {
  const sources = gatewaySourcesOrIssue(environment);
  return isCloudIssue(sources) ? [] : sources;
}

/** The Service in front of Envoy Gateway's proxies for this environment's Gateway: internal per the cloud, or a public load balancer. */
export function envoyServiceOf(environment: Environment): InternalService {
  return exposureOf(environment) === 'internal' ? cloudPlugin(environment.cloud).clusterDefaults.internalService : { type: 'LoadBalancer', annotations: {} };
}

/** Node-local DNS cache addresses the pods may query. */
export function nodeLocalDnsOf(environment: Environment): readonly string[] {
  return environment.network.nodeLocalDnsCidrs ?? cloudPlugin(environment.cloud).clusterDefaults.nodeLocalDnsCidrs;
}

/** The environment's GPU stack: declared, else what the cloud's GPU node image lacks (a device plugin) decides. */
export function gpuStackOf(environment: Environment): NonNullable<ClusterAddons['gpuStack']> {
  return environment.addons.gpuStack ?? (cloudPlugin(environment.cloud).gpuNodeImage.devicePlugin ? 'cloud-managed' : 'gpu-operator');
}

/** The StorageClass of a shared model cache: declared, else the cloud's ReadWriteMany class (undefined where there is none). */
export function sharedCacheStorageClass(environment: Environment): string | undefined {
  return environment.modelCache.kind === 'shared-volume' ? (environment.modelCache.storageClassName ?? cloudPlugin(environment.cloud).clusterDefaults.readWriteManyStorageClass) : undefined;
}
