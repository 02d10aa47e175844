import { Chart } from 'cdk8s';
import type { Construct } from 'constructs';
import type { Environment } from '../../declarations/environment.ts';
import type { FleetDeployment } from '../../fleet/fleet.ts';
import { addGateway } from './gateway.ts';
import { addSharedModelCache } from './model-cache.ts';
import { addEnvironmentRules } from './monitoring.ts';
import { addModelRegistry } from './model-registry.ts';
import { addDefaultDeny } from './network-policy.ts';

/** Props of an EnvironmentChart. */
export interface EnvironmentChartProps {
  readonly environment: Environment;
  /** The environment's deployments, for the model registry, the shared cache and the alerts. */
  readonly deployments: readonly FleetDeployment[];
  /** Git URL of the fleet repository: alerts link runbooks in its README. */
  readonly repositoryUrl: string;
}

/**
 * What an environment's namespace holds before any model: the default-deny
 * network policy, the Gateway (when managed), the shared model cache (when
 * declared), the model registry, and the Prometheus rules. The Namespace itself
 * is not here: Argo CD creates it with its Pod Security labels
 * (`CreateNamespace` with `managedNamespaceMetadata`), and `helm install
 * --create-namespace` does for Helm, so neither tool owns it and deleting the
 * release or Application never takes the out-of-band `hf-token` Secret with it.
 */
export class EnvironmentChart extends Chart {
  constructor(scope: Construct, id: string, props: EnvironmentChartProps) {
    const { environment } = props;
    super(scope, id, { namespace: environment.namespace, disableResourceNameHashes: true });
    addDefaultDeny(this, environment);
    addGateway(this, environment);
    addSharedModelCache(this, environment, props.deployments);
    addModelRegistry(this, environment, props.deployments);
    addEnvironmentRules(this, { environment, repositoryUrl: props.repositoryUrl }, props.deployments);
  }
}
