import { ApiObject } from 'cdk8s';
import type { Construct } from 'constructs';
import type { FleetDeployment } from '../../fleet/fleet.ts';
import { deploymentLabels, syncWave, SyncWave } from './labels.ts';
import { VLLM_FAMILIES } from '../../vllm/metrics.ts';
import { seriesSelector } from './prometheus-rules.ts';
import type { WorkloadRef } from './workload.ts';

/**
 * A KEDA ScaledObject on vLLM's own queue: waiting requests per replica, not
 * CPU. KEDA owns the replica count between the declared bounds.
 */
export function addAutoscaler(scope: Construct, deployment: FleetDeployment, target: WorkloadRef): void {
  const { spec, policy, environment } = deployment;
  const scaling = policy.autoscaling;
  new ApiObject(scope, 'autoscaler', {
    apiVersion: 'keda.sh/v1alpha1',
    kind: 'ScaledObject',
    metadata: { name: deployment.model.name, labels: deploymentLabels(deployment), annotations: syncWave(SyncWave.observers) },
    spec: {
      scaleTargetRef: target,
      minReplicaCount: spec.replicas.min,
      maxReplicaCount: spec.replicas.max,
      pollingInterval: scaling.pollingIntervalSeconds,
      cooldownPeriod: scaling.cooldownSeconds,
      advanced: {
        horizontalPodAutoscalerConfig: {
          behavior: {
            scaleUp: { stabilizationWindowSeconds: scaling.scaleUpStabilizationSeconds, policies: [{ type: 'Pods', value: 2, periodSeconds: 60 }] },
            scaleDown: { stabilizationWindowSeconds: scaling.scaleDownStabilizationSeconds, policies: [{ type: 'Pods', value: 1, periodSeconds: 120 }] },
          },
        },
      },
      triggers: [
        {
          type: 'prometheus',
          metadata: {
            serverAddress: environment.monitoring.prometheusUrl,
            query: `sum(${VLLM_FAMILIES.waiting.name}${seriesSelector(deployment)})`,
            threshold: String(scaling.targetWaitingRequestsPerReplica),
            ...(spec.replicas.min === 0 ? { activationThreshold: '0' } : {}),
          },
        },
      ],
    },
  });
}
