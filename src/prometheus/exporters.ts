/**
 * The metrics contract of the cluster's other exporters, as their sources define
 * it: NVIDIA's dcgm-exporter, the Argo Rollouts controller (for Rollouts) and
 * kube-state-metrics (for Deployments). vLLM's own series are in src/vllm. The
 * simulator exports these; the bot's observe and verify read them.
 */
import type { Family } from '../vllm/metrics.ts';

/** dcgm-exporter (etc/default-counters.csv): GPU utilisation, percent. */
export const DCGM_FAMILIES = {
  gpuUtilization: { name: 'DCGM_FI_DEV_GPU_UTIL', type: 'gauge', help: 'GPU utilization (in %).' },
} as const satisfies Record<string, Family>;

/** Argo Rollouts controller (controller/metrics/prommetrics.go), labels `namespace`, `name` (and `strategy`, `traffic_router`, `phase` on the info metric). */
export const ARGO_ROLLOUTS_FAMILIES = {
  rolloutInfo: { name: 'rollout_info', type: 'gauge', help: 'Information about rollout.' },
  rolloutReplicasAvailable: { name: 'rollout_info_replicas_available', type: 'gauge', help: 'The number of available replicas per rollout.' },
  rolloutReplicasUnavailable: { name: 'rollout_info_replicas_unavailable', type: 'gauge', help: 'The number of unavailable replicas per rollout.' },
  rolloutReplicasDesired: { name: 'rollout_info_replicas_desired', type: 'gauge', help: 'The number of desired replicas per rollout.' },
  rolloutReplicasUpdated: { name: 'rollout_info_replicas_updated', type: 'gauge', help: 'The number of updated replicas per rollout.' },
} as const satisfies Record<string, Family>;

/** kube-state-metrics (docs/metrics/workload/deployment-metrics.md), labels `namespace`, `deployment`. */
export const KUBE_STATE_FAMILIES = {
  deploymentReplicas: { name: 'kube_deployment_status_replicas', type: 'gauge', help: 'The number of replicas per deployment.' },
  deploymentReplicasAvailable: { name: 'kube_deployment_status_replicas_available', type: 'gauge', help: 'The number of available replicas per deployment.' },
  deploymentReplicasUnavailable: { name: 'kube_deployment_status_replicas_unavailable', type: 'gauge', help: 'The number of unavailable replicas per deployment.' },
  deploymentReplicasReady: { name: 'kube_deployment_status_replicas_ready', type: 'gauge', help: 'The number of ready replicas per deployment.' },
  deploymentReplicasUpdated: { name: 'kube_deployment_status_replicas_updated', type: 'gauge', help: 'The number of updated replicas per deployment.' },
  deploymentSpecReplicas: { name: 'kube_deployment_spec_replicas', type: 'gauge', help: 'Number of desired pods for a deployment.' },
} as const satisfies Record<string, Family>;

/** The `phase` label the Argo Rollouts controller gives a healthy rollout and an aborted one (controller/metrics/rollouts.go, calculatePhase). */
export const ROLLOUT_PHASE = { completed: 'Completed', aborted: 'Abort' } as const;
