import type { Construct } from 'constructs';
import type { FleetDeployment } from '../../fleet/fleet.ts';
import { deploymentLabels, selectorLabels, syncWave, SyncWave } from './labels.ts';
import { kplus } from './plus.ts';

/** At most one replica down for voluntary disruptions (node drains, upgrades); never blocks a drain of a single replica forever. */
export function addDisruptionBudget(scope: Construct, deployment: FleetDeployment): void {
  new kplus.k8s.KubePodDisruptionBudget(scope, 'disruption-budget', {
    metadata: { name: deployment.model.name, labels: deploymentLabels(deployment), annotations: syncWave(SyncWave.observers) },
    spec: { maxUnavailable: kplus.k8s.IntOrString.fromNumber(1), selector: { matchLabels: selectorLabels(deployment) } },
  });
}
