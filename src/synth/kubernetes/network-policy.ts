import type { Construct } from 'constructs';
import { CLOUD_TRAITS } from '../../catalogue/clouds.ts';
import type { Environment } from '../../declarations/environment.ts';
import type { FleetDeployment } from '../../fleet/fleet.ts';
import { DEFAULT_DENY_POLICY_NAME } from '../../fleet/naming.ts';
import { deploymentLabels, MANAGED_BY, selectorLabels, syncWave, SyncWave, VLLM_PORT } from './labels.ts';
import { kplus } from './plus.ts';

const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';
const PRIVATE_RANGES = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'];

/** Deny all traffic to and from every pod of the namespace unless another policy admits it. */
export function addDefaultDeny(scope: Construct, environment: Environment): void {
  new kplus.k8s.KubeNetworkPolicy(scope, 'default-deny', {
    metadata: { name: DEFAULT_DENY_POLICY_NAME, labels: { ...MANAGED_BY, 'llmops.dev/environment': environment.name }, annotations: syncWave(SyncWave.configuration) },
    spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'] },
  });
}

/**
 * The model server's allowances: in from the gateway and Prometheus only (vLLM's
 * /health and /metrics have no authentication); out to DNS and to the model
 * source over HTTPS (public addresses only: no lateral movement).
 */
export function addModelServerNetworkPolicy(scope: Construct, deployment: FleetDeployment): void {
  const { environment } = deployment;
  const port = [{ port: kplus.k8s.IntOrString.fromNumber(VLLM_PORT), protocol: 'TCP' }];
  const metadata = CLOUD_TRAITS[environment.cloud].metadataEndpoint;
  new kplus.k8s.KubeNetworkPolicy(scope, 'network-policy', {
    metadata: { name: deployment.model.name, labels: deploymentLabels(deployment), annotations: syncWave(SyncWave.configuration) },
    spec: {
      podSelector: { matchLabels: selectorLabels(deployment) },
      policyTypes: ['Ingress', 'Egress'],
      ingress: [
        { from: [{ namespaceSelector: { matchLabels: { [NAMESPACE_NAME_LABEL]: environment.gateway.namespace } } }], ports: port },
        {
          from: [
            {
              namespaceSelector: { matchLabels: { [NAMESPACE_NAME_LABEL]: environment.monitoring.namespace } },
              podSelector: { matchLabels: { 'app.kubernetes.io/name': 'prometheus' } },
            },
          ],
          ports: port,
        },
      ],
      egress: [
        {
          to: [{ namespaceSelector: { matchLabels: { [NAMESPACE_NAME_LABEL]: 'kube-system' } }, podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } }],
          ports: [
            { port: kplus.k8s.IntOrString.fromNumber(53), protocol: 'UDP' },
            { port: kplus.k8s.IntOrString.fromNumber(53), protocol: 'TCP' },
          ],
        },
        { to: [{ ipBlock: { cidr: '0.0.0.0/0', except: PRIVATE_RANGES } }], ports: [{ port: kplus.k8s.IntOrString.fromNumber(443), protocol: 'TCP' }] },
        ...(metadata
          ? [{ to: [{ ipBlock: { cidr: metadata.cidr } }], ports: metadata.ports.map((number) => ({ port: kplus.k8s.IntOrString.fromNumber(number), protocol: 'TCP' })) }]
          : []),
      ],
    },
  });
}
