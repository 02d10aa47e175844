/**
 * Envoy Gateway's EnvoyProxy (gateway.envoyproxy.io/v1alpha1) as a TypeScript
 * interface, written from the upstream Go types (envoyproxy/gateway v1.9.0
 * api/v1alpha1/envoyproxy_types.go and shared_types.go, KubernetesServiceSpec)
 * for the fields llmops sets, for the strict schema check: no
 * @kubernetes-models package covers it. A field outside these fails the check
 * until it is added here from the upstream types.
 */
import type { IIoK8sApimachineryPkgApisMetaV1ObjectMeta } from '@kubernetes-models/apimachinery/apis/meta/v1/ObjectMeta';

export interface IEnvoyProxy {
  apiVersion: 'gateway.envoyproxy.io/v1alpha1';
  kind: 'EnvoyProxy';
  metadata?: IIoK8sApimachineryPkgApisMetaV1ObjectMeta;
  spec: {
    provider?: {
      type: 'Kubernetes' | 'Custom';
      kubernetes?: {
        envoyService?: {
          annotations?: Record<string, string>;
          labels?: Record<string, string>;
          type?: 'ClusterIP' | 'LoadBalancer' | 'NodePort';
          loadBalancerClass?: string;
          allocateLoadBalancerNodePorts?: boolean;
          loadBalancerSourceRanges?: string[];
          loadBalancerIP?: string;
          externalTrafficPolicy?: 'Local' | 'Cluster';
        };
      };
    };
  };
}
