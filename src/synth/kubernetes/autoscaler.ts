import { ApiObject } from 'cdk8s';
import type { Construct } from 'constructs';
import type { FleetDeployment } from '../../fleet/fleet.ts';
import { VLLM_FAMILIES } from '../../vllm/metrics.ts';
import { deploymentLabels, syncWave, SyncWave } from './labels.ts';
import { seriesSelector } from './prometheus-rules.ts';
import { HTTP_ADD_ON, scaledFromZero, wakeTriggerName } from './scale-from-zero.ts';
import type { WorkloadRef } from './workload.ts';

/** Failed trigger reads before KEDA holds the fallback (KEDA's `fallback.failureThreshold`). */
const FALLBACK_FAILURE_THRESHOLD = 3;

/**
 * A KEDA ScaledObject on vLLM's own queue: waiting requests per replica, not
 * CPU. KEDA owns the replica count between the declared bounds. When the queue
 * cannot be read (Prometheus down) KEDA keeps the current replicas, or the
 * minimum if that is more (`currentReplicasIfHigher`), rather than scaling blind.
 * A deployment that may scale to zero also listens to the KEDA HTTP add-on,
 * whose interceptor counts requests even when no pod exists (vLLM's queue
 * series vanish with the last pod, so it alone could never wake one).
 */
export function addAutoscaler(scope: Construct, deployment: FleetDeployment, target: WorkloadRef): void {
  const { spec, policy, environment } = deployment;
  const scaling = policy.autoscaling;
  new ApiObject(scope, 'autoscaler', {
    apiVersion: 'keda.sh/v1alpha1',
    kind: 'ScaledObject',
    metadata: { name: deployment.model.name, labels: deploymentLabels(deployment), annotations: syncWave(SyncWave.workload) },
    spec: {
      scaleTargetRef: target,
      minReplicaCount: spec.replicas.min,
      maxReplicaCount: spec.replicas.max,
      pollingInterval: scaling.pollingIntervalSeconds,
      cooldownPeriod: scaling.cooldownSeconds,
      fallback: { failureThreshold: FALLBACK_FAILURE_THRESHOLD, replicas: Math.max(1, spec.replicas.min), behavior: 'currentReplicasIfHigher' },
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
          },
        },
        ...(scaledFromZero(deployment) ? [{ type: 'external-push', name: wakeTriggerName(), metadata: { scalerAddress: HTTP_ADD_ON.scalerAddress, interceptorRoute: deployment.model.name } }] : []),
      ],
    },
  });
}
