/**
 * What the cluster around an environment's model servers looks like: the
 * GatewayClass a managed Gateway uses, where that gateway's traffic comes from,
 * node-local DNS, the GPU stack and a ReadWriteMany StorageClass — the
 * environment's declaration (`gateway`, `network`, `addons`, `modelCache`)
 * over its cloud plug-in's defaults.
 */
import { ENVOY_GATEWAY, ENVOY_GATEWAY_SOURCES } from '../catalogue/envoy-gateway.ts';
import { cloudPlugin } from '../clouds/registry.ts';
import type { ClusterAddons } from '../declarations/cluster-addons.ts';
import type { Environment } from '../declarations/environment.ts';
import type { NetworkPeer } from '../declarations/network.ts';

/** The GatewayClass of an environment's managed Gateway (undefined for an existing Gateway). */
export function gatewayClassOf(environment: Environment): string | undefined {
  return environment.gateway.mode === 'managed' ? (environment.gateway.className ?? cloudPlugin(environment.cloud).clusterDefaults.gatewayClass) : undefined;
}

/** Namespace of the environment's Gateway. */
export function gatewayNamespaceOf(environment: Environment): string {
  return environment.gateway.mode === 'managed' ? environment.namespace : environment.gateway.namespace;
}

/** Where gateway traffic reaches the model servers from: declared, else the managed class's data plane, else the existing Gateway's namespace. */
export function gatewaySourcesOf(environment: Environment): readonly NetworkPeer[] {
  if (environment.network.gatewaySources) return environment.network.gatewaySources;
  if (environment.gateway.mode === 'existing') return [{ namespace: environment.gateway.namespace }];
  if (gatewayClassOf(environment) === ENVOY_GATEWAY.className) return ENVOY_GATEWAY_SOURCES;
  return cloudPlugin(environment.cloud).clusterDefaults.gatewaySources;
}

/** GatewayClasses whose traffic sources are known without a declaration: the cloud's own and Envoy Gateway's. */
export function knownGatewayClasses(environment: Environment): readonly string[] {
  return [cloudPlugin(environment.cloud).clusterDefaults.gatewayClass, ENVOY_GATEWAY.className];
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
