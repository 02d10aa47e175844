import { Chart } from 'cdk8s';
import type { Construct } from 'constructs';
import type { Environment } from '../../declarations/environment.ts';
import type { FleetDeployment } from '../../fleet/fleet.ts';
import { MANAGED_BY, syncWave, SyncWave } from './labels.ts';
import { addEnvironmentRules } from './monitoring.ts';
import { addModelRegistry } from './model-registry.ts';
import { addDefaultDeny } from './network-policy.ts';
import { kplus } from './plus.ts';

/** Props of an EnvironmentChart. */
export interface EnvironmentChartProps {
  readonly environment: Environment;
  /** The environment's deployments, for the model registry. */
  readonly deployments: readonly FleetDeployment[];
}

/**
 * What an environment's namespace holds before any model: the namespace itself
 * (Pod Security "restricted"), the default-deny network policy, the model
 * registry, and the Prometheus rules (recording, cost, SLO and budget).
 */
export class EnvironmentChart extends Chart {
  constructor(scope: Construct, id: string, props: EnvironmentChartProps) {
    const { environment } = props;
    super(scope, id, { namespace: environment.namespace, disableResourceNameHashes: true });
    new kplus.k8s.KubeNamespace(this, 'namespace', {
      metadata: {
        name: environment.namespace,
        labels: {
          ...MANAGED_BY,
          'llmops.dev/environment': environment.name,
          'pod-security.kubernetes.io/enforce': 'restricted',
          'pod-security.kubernetes.io/enforce-version': 'v1.28',
          'pod-security.kubernetes.io/audit': 'restricted',
          'pod-security.kubernetes.io/warn': 'restricted',
        },
        annotations: syncWave(SyncWave.namespace),
      },
    });
    addDefaultDeny(this, environment);
    addModelRegistry(this, environment, props.deployments);
    addEnvironmentRules(this, environment, props.deployments);
  }
}
