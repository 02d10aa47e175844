/**
 * Envoy Gateway, the gateway implementation the cluster add-ons install where a
 * cloud has no managed Gateway API class of its own: its class and the
 * namespace and pod labels of its proxies (envoyproxy/gateway v1.9.0
 * internal/infrastructure/kubernetes/proxy/resource.go).
 */
import type { NetworkPeer } from '../declarations/network.ts';

export const ENVOY_GATEWAY = {
  namespace: 'envoy-gateway-system',
  className: 'envoy-gateway',
  controllerName: 'gateway.envoyproxy.io/gatewayclass-controller',
  proxyLabels: { 'app.kubernetes.io/name': 'envoy', 'app.kubernetes.io/component': 'proxy' },
} as const;

/** Where Envoy Gateway's proxies reach the model servers from. */
export const ENVOY_GATEWAY_SOURCES: readonly NetworkPeer[] = [{ namespace: ENVOY_GATEWAY.namespace, podLabels: ENVOY_GATEWAY.proxyLabels }];
