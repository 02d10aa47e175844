/**
 * Every metric family the simulated cluster exports: vLLM's own (src/vllm),
 * the GPU exporter's, kube-state-metrics' and the Argo Rollouts controller's.
 */
import { VLLM_FAMILIES, type Family } from '../vllm/metrics.ts';

export const FAMILIES = {
  ...VLLM_FAMILIES,
  gpuUtilization: { name: 'DCGM_FI_DEV_GPU_UTIL', type: 'gauge', help: 'GPU utilization (in %).' },
  replicas: { name: 'kube_deployment_status_replicas', type: 'gauge', help: 'The number of replicas per deployment.' },
  rolloutInfo: { name: 'rollout_info', type: 'gauge', help: 'Information about rollout.' },
} as const satisfies Record<string, Family>;
