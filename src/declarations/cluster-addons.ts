import { z } from 'zod';

/**
 * The cluster add-ons the model servers depend on, installed by Argo CD as an
 * app of apps before any model (generated/argocd/apps/platform-<cluster>.yaml):
 * Argo Rollouts with its Gateway API traffic router, KEDA (and its HTTP add-on
 * where a deployment scales to zero), kube-prometheus-stack, the GPU stack and
 * the gateway implementation. Environments sharing a cluster must agree.
 */
export const ClusterAddons = z.strictObject({
  /** Let Argo CD install and upgrade the add-ons. Default: true; false when a platform team already runs them (then see the README's "What must exist in the cluster"). */
  manage: z.boolean().default(true),
  /**
   * What makes `nvidia.com/gpu` schedulable: `gpu-operator` (NVIDIA GPU Operator
   * with the device plugin and DCGM exporter; drivers come from the node image) or
   * `cloud-managed` (GKE installs the driver and device plugin on GPU node pools).
   * Default: `cloud-managed` where the cloud's GPU node image runs a device plugin
   * (GKE, Bottlerocket NVIDIA on EKS, DOKS), else `gpu-operator` (AKS).
   */
  gpuStack: z.enum(['gpu-operator', 'cloud-managed']).optional(),
});
export type ClusterAddons = z.infer<typeof ClusterAddons>;
