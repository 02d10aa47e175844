import { ApiObject } from 'cdk8s';
import type { Construct } from 'constructs';
import type { Environment } from '../../declarations/environment.ts';
import { gatewayClassOf } from '../../fleet/cluster-defaults.ts';
import { MANAGED_BY, syncWave, SyncWave } from './labels.ts';

/**
 * The environment's Gateway when it is `managed`: one HTTP listener that admits
 * the routes of its own namespace. Its class decides who answers it: GKE's
 * managed load balancer, or the Envoy Gateway the cluster add-ons install.
 * (TLS terminates at the class's front end or needs a certificate listener.)
 */
export function addGateway(scope: Construct, environment: Environment): void {
  const className = gatewayClassOf(environment);
  if (!className) return;
  new ApiObject(scope, 'gateway', {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'Gateway',
    metadata: { name: environment.gateway.name, labels: { ...MANAGED_BY, 'llmops.dev/environment': environment.name }, annotations: syncWave(SyncWave.configuration) },
    spec: {
      gatewayClassName: className,
      listeners: [{ name: 'http', protocol: 'HTTP', port: 80, allowedRoutes: { namespaces: { from: 'Same' } } }],
    },
  });
}
