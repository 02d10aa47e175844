import type { Construct } from 'constructs';
import type { FleetDeployment } from '../../fleet/fleet.ts';
import { deploymentLabels, selectorLabels, syncWave, SyncWave } from './labels.ts';
import { startupBudgetSeconds } from './model-server.ts';
import { kplus } from './plus.ts';

/** What a node drain does to a deployment, in words (the PDB's `llmops.dev/on-drain` annotation and the README say the same). */
export function drainEffect(deployment: FleetDeployment): string {
  const { min } = deployment.spec.replicas;
  const startupMinutes = Math.ceil(startupBudgetSeconds(deployment) / 60);
  if (min >= 2) return `a drain evicts one replica at a time; the others keep serving while its replacement loads (up to ${startupMinutes} min)`;
  return `with ${min === 0 ? 'zero or one replica' : 'one replica'} a drain evicts the only server: the model is offline until a replacement has loaded its weights (up to ${startupMinutes} min)`;
}

/**
 * At most one replica down for voluntary disruptions (node drains, upgrades);
 * never blocks a drain forever, and lets an unready pod be evicted so a stuck
 * replica cannot pin a node. With a single replica this protects nothing, which
 * the environment has to accept explicitly (`availability.acceptSingleReplica`).
 */
export function addDisruptionBudget(scope: Construct, deployment: FleetDeployment): void {
  new kplus.k8s.KubePodDisruptionBudget(scope, 'disruption-budget', {
    metadata: {
      name: deployment.model.name,
      labels: deploymentLabels(deployment),
      annotations: { 'llmops.dev/on-drain': drainEffect(deployment), ...syncWave(SyncWave.routing) },
    },
    spec: { maxUnavailable: kplus.k8s.IntOrString.fromNumber(1), selector: { matchLabels: selectorLabels(deployment) }, unhealthyPodEvictionPolicy: 'AlwaysAllow' },
  });
}
