import type { Construct } from 'constructs';
import type { FleetDeployment } from '../../fleet/fleet.ts';
import { serviceNames } from '../../fleet/naming.ts';
import { deploymentLabels, selectorLabels, syncWave, SyncWave, VLLM_PORT } from './labels.ts';
import { kplus } from './plus.ts';

/** The Services of a deployment: one that reaches every pod, plus stable and canary for a Rollout. */
export function addServices(scope: Construct, deployment: FleetDeployment, withCanary: boolean): void {
  const names = serviceNames(deployment.model.name);
  const roles = withCanary ? (['root', 'stable', 'canary'] as const) : (['root'] as const);
  for (const role of roles) {
    new kplus.k8s.KubeService(scope, `service-${role}`, {
      metadata: {
        name: names[role],
        labels: { ...deploymentLabels(deployment), 'llmops.dev/service-role': role },
        annotations: syncWave(SyncWave.configuration),
      },
      spec: {
        type: 'ClusterIP',
        selector: selectorLabels(deployment),
        ports: [{ name: 'http', port: VLLM_PORT, targetPort: kplus.k8s.IntOrString.fromString('http'), protocol: 'TCP' }],
      },
    });
  }
}
