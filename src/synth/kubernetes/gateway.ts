import { ApiObject } from 'cdk8s';
import type { Construct } from 'constructs';
import { ENVOY_GATEWAY } from '../../catalogue/envoy-gateway.ts';
import type { Environment } from '../../declarations/environment.ts';
import { envoyServiceOf, exposureOf, gatewayClassOf } from '../../fleet/cluster-defaults.ts';
import { MANAGED_BY, syncWave, SyncWave } from './labels.ts';

/** Envoy Gateway's per-Gateway settings (gateway.envoyproxy.io/v1alpha1 EnvoyProxy), referenced from the Gateway's `infrastructure.parametersRef`. */
const ENVOY_PROXY = { group: 'gateway.envoyproxy.io', kind: 'EnvoyProxy', apiVersion: 'gateway.envoyproxy.io/v1alpha1' } as const;

/**
 * The listeners of a managed Gateway: an internal one answers plain HTTP on the
 * private network (and HTTPS too when a certificate is declared); a public one
 * answers HTTPS only, with the declared certificate.
 */
function listeners(environment: Environment): Record<string, unknown>[] {
  const gateway = environment.gateway;
  const allowedRoutes = { namespaces: { from: 'Same' } };
  const tls = gateway.mode === 'managed' ? gateway.tls : undefined;
  const https = tls ? [{ name: 'https', protocol: 'HTTPS', port: 443, tls: { mode: 'Terminate', certificateRefs: [{ group: '', kind: 'Secret', name: tls.certificateSecret }] }, allowedRoutes }] : [];
  const http = exposureOf(environment) === 'internal' ? [{ name: 'http', protocol: 'HTTP', port: 80, allowedRoutes }] : [];
  return [...http, ...https];
}

/**
 * The environment's Gateway when it is `managed`. Its class decides who answers
 * it: GKE's internal or global load balancer, or the Envoy Gateway the cluster
 * add-ons install — then an EnvoyProxy beside it puts the proxies behind an
 * internal Service (or a ClusterIP one where the cloud has no internal load
 * balancer) unless the Gateway is public (envoyproxy/gateway v1.9.0: a
 * Gateway's `infrastructure.parametersRef` names an EnvoyProxy in its own
 * namespace).
 */
export function addGateway(scope: Construct, environment: Environment): void {
  const className = gatewayClassOf(environment);
  if (!className) return;
  const metadata = { name: environment.gateway.name, labels: { ...MANAGED_BY, 'llmops.dev/environment': environment.name }, annotations: syncWave(SyncWave.configuration) };
  const envoy = className === ENVOY_GATEWAY.className;
  if (envoy) {
    new ApiObject(scope, 'envoy-proxy', {
      apiVersion: ENVOY_PROXY.apiVersion,
      kind: ENVOY_PROXY.kind,
      metadata,
      spec: { provider: { type: 'Kubernetes', kubernetes: { envoyService: envoyServiceOf(environment) } } },
    });
  }
  new ApiObject(scope, 'gateway', {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'Gateway',
    metadata,
    spec: {
      gatewayClassName: className,
      listeners: listeners(environment),
      ...(envoy ? { infrastructure: { parametersRef: { group: ENVOY_PROXY.group, kind: ENVOY_PROXY.kind, name: environment.gateway.name } } } : {}),
    },
  });
}
