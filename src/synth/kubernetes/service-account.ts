import type { Construct } from 'constructs';
import type { FleetDeployment } from '../../fleet/fleet.ts';
import { modelServerServiceAccount } from '../../fleet/naming.ts';
import { workloadIdentity } from '../../fleet/workload-identity.ts';
import { deploymentLabels, syncWave, SyncWave } from './labels.ts';
import { kplus } from './plus.ts';

/**
 * The model server's ServiceAccount, bound to the cloud identity that reads its
 * model's artifacts: the reader the environment's Terraform creates for this
 * model (README, "From Terraform to Kubernetes").
 */
export function addServiceAccount(scope: Construct, deployment: FleetDeployment): void {
  const { environment, model } = deployment;
  new kplus.ServiceAccount(scope, 'service-account', {
    metadata: {
      name: modelServerServiceAccount(model.name),
      labels: deploymentLabels(deployment),
      annotations: { ...workloadIdentity(environment, model.name).serviceAccountAnnotations, ...syncWave(SyncWave.configuration) },
    },
    automountToken: false,
  });
}
