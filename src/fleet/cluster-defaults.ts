/**
 * Per-cloud defaults of what the cluster around the model servers looks like:
 * the GatewayClass a managed Gateway uses, where that gateway's traffic comes
 * from, node-local DNS, and the GPU stack. An environment overrides each in its
 * declaration (`gateway`, `network`, `addons`).
 */
import type { Cloud } from '../catalogue/clouds.ts';
import type { Environment } from '../declarations/environment.ts';
import type { NetworkPeer } from '../declarations/network.ts';

/** Namespace and pod labels of Envoy Gateway's proxies (envoyproxy/gateway v1.9.0 internal/infrastructure/kubernetes/proxy/resource.go). */
export const ENVOY_GATEWAY = {
  namespace: 'envoy-gateway-system',
  className: 'envoy-gateway',
  controllerName: 'gateway.envoyproxy.io/gatewayclass-controller',
  proxyLabels: { 'app.kubernetes.io/name': 'envoy', 'app.kubernetes.io/component': 'proxy' },
} as const;

/**
 * Google Front End and health-check ranges: GFE-based load balancers (the
 * global external Application Load Balancer behind `gke-l7-global-external-managed`)
 * reach container-native NEG backends from these (cloud.google.com/load-balancing/docs/firewall-rules).
 */
const GOOGLE_FRONT_ENDS: readonly NetworkPeer[] = [{ cidr: '35.191.0.0/16' }, { cidr: '130.211.0.0/22' }];

export interface ClusterDefaults {
  /** GatewayClass of a managed Gateway. */
  readonly gatewayClass: string;
  /** Where a managed Gateway's traffic reaches the pods from. */
  readonly gatewaySources: readonly NetworkPeer[];
  /**
   * Node-local DNS cache addresses: 169.254.20.10 is the link-local address of
   * NodeLocal DNSCache (kubernetes/dns nodelocaldns manifest; GKE's managed add-on
   * uses it too). AKS has no such add-on by default.
   */
  readonly nodeLocalDnsCidrs: readonly string[];
  /** What makes `nvidia.com/gpu` schedulable. */
  readonly gpuStack: 'gpu-operator' | 'cloud-managed';
  /**
   * A StorageClass the cloud ships that offers ReadWriteMany: GKE's Filestore CSI
   * driver creates `standard-rwx`, AKS ships `azurefile-csi`; EKS has none until
   * you create one for EFS.
   */
  readonly readWriteManyStorageClass?: string;
}

export const CLUSTER_DEFAULTS: Readonly<Record<Cloud, ClusterDefaults>> = {
  // GKE installs the NVIDIA driver and device plugin on GPU node pools itself.
  gcp: { gatewayClass: 'gke-l7-global-external-managed', gatewaySources: GOOGLE_FRONT_ENDS, nodeLocalDnsCidrs: ['169.254.20.10/32'], gpuStack: 'cloud-managed', readWriteManyStorageClass: 'standard-rwx' },
  // EKS' AL2023 NVIDIA AMI ships the driver and container toolkit, not the device plugin.
  aws: {
    gatewayClass: ENVOY_GATEWAY.className,
    gatewaySources: [{ namespace: ENVOY_GATEWAY.namespace, podLabels: ENVOY_GATEWAY.proxyLabels }],
    nodeLocalDnsCidrs: ['169.254.20.10/32'],
    gpuStack: 'gpu-operator',
  },
  // AKS GPU node pools install the driver by default, not the device plugin.
  azure: {
    gatewayClass: ENVOY_GATEWAY.className,
    gatewaySources: [{ namespace: ENVOY_GATEWAY.namespace, podLabels: ENVOY_GATEWAY.proxyLabels }],
    nodeLocalDnsCidrs: [],
    gpuStack: 'gpu-operator',
    readWriteManyStorageClass: 'azurefile-csi',
  },
};

/** The GatewayClass of an environment's managed Gateway (undefined for an existing Gateway). */
export function gatewayClassOf(environment: Environment): string | undefined {
  return environment.gateway.mode === 'managed' ? (environment.gateway.className ?? CLUSTER_DEFAULTS[environment.cloud].gatewayClass) : undefined;
}

/** Namespace of the environment's Gateway. */
export function gatewayNamespaceOf(environment: Environment): string {
  return environment.gateway.mode === 'managed' ? environment.namespace : environment.gateway.namespace;
}

/** Where gateway traffic reaches the model servers from: declared, else the managed class's data plane, else the existing Gateway's namespace. */
export function gatewaySourcesOf(environment: Environment): readonly NetworkPeer[] {
  if (environment.network.gatewaySources) return environment.network.gatewaySources;
  if (environment.gateway.mode === 'existing') return [{ namespace: environment.gateway.namespace }];
  const className = gatewayClassOf(environment);
  if (className === ENVOY_GATEWAY.className) return [{ namespace: ENVOY_GATEWAY.namespace, podLabels: ENVOY_GATEWAY.proxyLabels }];
  return CLUSTER_DEFAULTS[environment.cloud].gatewaySources;
}

/** Node-local DNS cache addresses the pods may query. */
export function nodeLocalDnsOf(environment: Environment): readonly string[] {
  return environment.network.nodeLocalDnsCidrs ?? CLUSTER_DEFAULTS[environment.cloud].nodeLocalDnsCidrs;
}

/** The environment's GPU stack. */
export function gpuStackOf(environment: Environment): ClusterDefaults['gpuStack'] {
  return environment.addons.gpuStack ?? CLUSTER_DEFAULTS[environment.cloud].gpuStack;
}
