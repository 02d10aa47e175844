/**
 * Every metric family the simulated cluster exports: vLLM's own and its OpenAI
 * server's HTTP counter (src/vllm), and the other exporters' (src/prometheus/exporters.ts).
 * A real cluster has no kube_deployment_* series for a Rollout and no rollout_*
 * series for a Deployment; neither does the simulator.
 */
import { ARGO_ROLLOUTS_FAMILIES, DCGM_FAMILIES, KUBE_STATE_FAMILIES } from '../prometheus/exporters.ts';
import { HTTP_FAMILIES, VLLM_FAMILIES, type Family } from '../vllm/metrics.ts';

export const FAMILIES = {
  ...VLLM_FAMILIES,
  ...HTTP_FAMILIES,
  ...DCGM_FAMILIES,
  ...ARGO_ROLLOUTS_FAMILIES,
  ...KUBE_STATE_FAMILIES,
} as const satisfies Record<string, Family>;
