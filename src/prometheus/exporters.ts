/**
 * The metrics contract of the cluster's other exporters, as their sources define
 * it: NVIDIA's dcgm-exporter, the Argo Rollouts controller (for Rollouts),
 * kube-state-metrics (for Deployments) and Argo CD's application controller. vLLM's own series are in src/vllm. The
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

/**
 * Phases of `rollout_info{phase}` that need a person (controller/metrics/rollouts.go:
 * Completed, Progressing, Paused, Timeout, Error, Abort, InvalidSpec; there is no
 * "Degraded" phase in the metric).
 */
export const ROLLOUT_FAILED_PHASES = [ROLLOUT_PHASE.aborted, 'Timeout', 'Error', 'InvalidSpec'] as const;

/**
 * Argo CD's application controller metrics (argoproj/argo-cd controller/metrics/metrics.go):
 * `argocd_app_info{namespace, name, project, autosync_enabled, repo, dest_server, dest_namespace, sync_status,
 * health_status, operation}` is 1 for every Application, and `argocd_app_sync_total{namespace, name, project,
 * dest_server, phase, dry_run}` counts sync operations as they finish. Neither carries the revision, so the merged
 * revision is running once a sync finished after the merge (`phase="Succeeded"`) and the Application then reports
 * `Synced` and `Healthy`. `namespace` is the Application's (`argocd`), which a Prometheus Operator scrape renames to
 * `exported_namespace`; the Application's `name` alone is unique there.
 */
export const ARGOCD_APP_INFO = 'argocd_app_info';
export const ARGOCD_APP_SYNC_TOTAL = 'argocd_app_sync_total';
