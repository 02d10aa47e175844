import type { Construct } from 'constructs';
import { cloudPlugin } from '../../clouds/registry.ts';
import type { Environment } from '../../declarations/environment.ts';
import type { NetworkPeer } from '../../declarations/network.ts';
import type { FleetDeployment } from '../../fleet/fleet.ts';
import { gatewaySourcesOf, nodeLocalDnsOf } from '../../fleet/cluster-defaults.ts';
import { DEFAULT_DENY_POLICY_NAME } from '../../fleet/naming.ts';
import { deploymentLabels, MANAGED_BY, selectorLabels, syncWave, SyncWave, VLLM_PORT } from './labels.ts';
import { kplus } from './plus.ts';
import { HTTP_ADD_ON, scaledFromZero } from './scale-from-zero.ts';

const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';
const PRIVATE_RANGES = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'];
/** CoreDNS/kube-dns pods carry `k8s-app: kube-dns` in kube-system on GKE, EKS and AKS alike. */
const KUBE_DNS = { namespace: 'kube-system', podLabels: { 'k8s-app': 'kube-dns' } } as const;

/** Deny all traffic to and from every pod of the namespace unless another policy admits it. */
export function addDefaultDeny(scope: Construct, environment: Environment): void {
  new kplus.k8s.KubeNetworkPolicy(scope, 'default-deny', {
    metadata: { name: DEFAULT_DENY_POLICY_NAME, labels: { ...MANAGED_BY, 'llmops.dev/environment': environment.name }, annotations: syncWave(SyncWave.configuration) },
    spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'] },
  });
}

/** A NetworkPolicy peer from a declared source: a namespace's pods (by label) or an address range. */
export function peer(source: NetworkPeer): Record<string, unknown> {
  if ('cidr' in source) return { ipBlock: { cidr: source.cidr } };
  return {
    namespaceSelector: { matchLabels: { [NAMESPACE_NAME_LABEL]: source.namespace } },
    ...(source.podLabels ? { podSelector: { matchLabels: source.podLabels } } : {}),
  };
}

export const tcp = (...ports: number[]) => ports.map((port) => ({ port: kplus.k8s.IntOrString.fromNumber(port), protocol: 'TCP' }));

/** Prometheus's pods (kube-prometheus-stack labels them `app.kubernetes.io/name: prometheus`) in the environment's monitoring namespace. */
export const prometheusPeer = (environment: Environment): NetworkPeer => ({ namespace: environment.monitoring.namespace, podLabels: { 'app.kubernetes.io/name': 'prometheus' } });

/** Egress to DNS: kube-dns, and the node-local cache where the cluster runs one. */
export function dnsEgress(environment: Environment): Record<string, unknown> {
  const dnsPorts = [
    { port: kplus.k8s.IntOrString.fromNumber(53), protocol: 'UDP' },
    { port: kplus.k8s.IntOrString.fromNumber(53), protocol: 'TCP' },
  ];
  return { to: [peer(KUBE_DNS), ...nodeLocalDnsOf(environment).map((cidr) => peer({ cidr }))], ports: dnsPorts };
}

/** Egress over HTTPS to public addresses only (no lateral movement into private ranges). */
export const publicHttpsEgress = (): Record<string, unknown> => ({ to: [{ ipBlock: { cidr: '0.0.0.0/0', except: PRIVATE_RANGES } }], ports: tcp(443) });

/**
 * The model server's allowances: in from the gateway's data plane, Prometheus
 * and (for a model that scales to zero) the KEDA HTTP add-on's interceptor —
 * vLLM's /health and /metrics have no authentication; out to DNS (kube-dns and
 * a node-local cache), the cloud's metadata server where workload identity
 * needs it, and the model source over HTTPS (public addresses only: no lateral
 * movement).
 */
export function addModelServerNetworkPolicy(scope: Construct, deployment: FleetDeployment): void {
  const { environment } = deployment;
  const port = tcp(VLLM_PORT);
  const metadata = cloudPlugin(environment.cloud).metadataEndpoint;
  const prometheus = prometheusPeer(environment);
  const interceptor: NetworkPeer[] = scaledFromZero(deployment) ? [{ namespace: HTTP_ADD_ON.namespace, podLabels: HTTP_ADD_ON.interceptorLabels }] : [];
  new kplus.k8s.KubeNetworkPolicy(scope, 'network-policy', {
    metadata: { name: deployment.model.name, labels: deploymentLabels(deployment), annotations: syncWave(SyncWave.configuration) },
    spec: {
      podSelector: { matchLabels: selectorLabels(deployment) },
      policyTypes: ['Ingress', 'Egress'],
      ingress: [
        { from: [...gatewaySourcesOf(environment), ...interceptor].map(peer), ports: port },
        { from: [peer(prometheus)], ports: port },
      ],
      egress: [dnsEgress(environment), publicHttpsEgress(), ...(metadata ? [{ to: [{ ipBlock: { cidr: metadata.cidr } }], ports: tcp(...metadata.ports) }] : [])],
    },
  });
}
