import { ApiObject } from 'cdk8s';
import type { Construct } from 'constructs';
import type { FleetDeployment } from '../../fleet/fleet.ts';
import { analysisTemplateName, serviceNames } from '../../fleet/naming.ts';
import { deploymentLabels, selectorLabels, syncWave, SyncWave } from './labels.ts';
import { modelServerPodTemplate } from './model-server.ts';

/** What scales the workload (the KEDA ScaledObject points at this). */
export interface WorkloadRef {
  readonly apiVersion: string;
  readonly kind: string;
  readonly name: string;
}

/** Argo Rollouts canary steps from the policy: set the weight, analyse, pause. */
export function canarySteps(deployment: FleetDeployment): Record<string, unknown>[] {
  const steps = deployment.policy.canarySteps;
  return steps.flatMap((step, index) => {
    const last = index === steps.length - 1;
    const out: Record<string, unknown>[] = [{ setWeight: step.weightPct }];
    if (step.analysis) {
      out.push({
        analysis: {
          templates: [{ templateName: analysisTemplateName(deployment.model.name) }],
          args: [
            { name: 'canary-hash', valueFrom: { podTemplateHashValue: 'Latest' } },
            { name: 'stable-hash', valueFrom: { podTemplateHashValue: 'Stable' } },
          ],
        },
      });
    }
    if (!last) out.push({ pause: step.pauseMinutes > 0 ? { duration: `${step.pauseMinutes}m` } : {} });
    return out;
  });
}

/**
 * The model server workload: an Argo Rollouts `Rollout` with the policy's canary
 * (replica-weighted, no mesh needed), or a `Deployment` where the environment has
 * no canaries. `spec.replicas` is left out: KEDA owns the replica count.
 */
export function addWorkload(scope: Construct, deployment: FleetDeployment): WorkloadRef {
  const name = deployment.model.name;
  const metadata = { name, labels: deploymentLabels(deployment), annotations: syncWave(SyncWave.workload) };
  const common = { revisionHistoryLimit: 3, selector: { matchLabels: selectorLabels(deployment) }, template: modelServerPodTemplate(deployment) };
  if (!deployment.environment.canary) {
    new ApiObject(scope, 'workload', {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata,
      spec: { ...common, strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } } },
    });
    return { apiVersion: 'apps/v1', kind: 'Deployment', name };
  }
  const services = serviceNames(name);
  new ApiObject(scope, 'workload', {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Rollout',
    metadata,
    spec: {
      ...common,
      strategy: {
        canary: {
          stableService: services.stable,
          canaryService: services.canary,
          // A new replica needs free GPUs: add one at a time, never remove a serving one first.
          maxSurge: 1,
          maxUnavailable: 0,
          steps: canarySteps(deployment),
        },
      },
    },
  });
  return { apiVersion: 'argoproj.io/v1alpha1', kind: 'Rollout', name };
}
