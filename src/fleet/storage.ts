/**
 * Local disk a model server needs: the model cache a pod writes (its
 * `ephemeral-storage`) and the boot disk of the node it runs on (the Terraform
 * node pool's disk). One place, so the pod request and the node pool agree.
 */
import type { Model } from '../declarations/model.ts';
import { weightsGiB } from './memory.ts';

/**
 * Space the vllm/vllm-openai image takes on a node, GiB: 28.6 GB unpacked
 * (vllm-project/vllm#22377, `vllm-openai:latest`, 2025-12) plus the ~12.6 GB of
 * compressed layers containerd keeps in its content store
 * (vllm-project/vllm#27154: "the image is around 12 GB"), rounded up.
 */
export const VLLM_IMAGE_GIB = 45;

/**
 * Operating system, kubelet, logs and the other pods' images on a GPU node,
 * GiB (GKE COS and Bottlerocket keep their OS on a few GiB; 20 leaves room for
 * the cluster's DaemonSets).
 */
export const NODE_SYSTEM_GIB = 20;

/**
 * Share of the disk the kubelet lets fill before evicting pods: its default
 * hard eviction thresholds are nodefs.available < 10 % and imagefs.available
 * < 15 % (Kubernetes, "Node-pressure Eviction"), so a disk is sized to stay
 * under 85 % full.
 */
const KUBELET_FILL_RATIO = 0.85;

/** Headroom over the weights in the cache: tokenizer, configs and the Hub's download bookkeeping. */
const CACHE_HEADROOM = 1.1;

/** Disk sizes are rounded up to this step, GiB. */
const DISK_STEP_GIB = 10;

/** The model cache of one server, GiB: the weights as stored (the model's dtype) plus headroom. */
export function modelCacheGiB(model: Model): number {
  return Math.ceil(weightsGiB(model) * CACHE_HEADROOM);
}

/**
 * The boot disk of a node that may host `models`, GiB: the vLLM image, the
 * largest model cache times the servers that can share the node
 * (`cachesPerNode`, default 1), and the system, kept under the kubelet's
 * eviction threshold and rounded up to 10 GiB.
 */
export function nodeDiskGiB(models: readonly Model[], cachesPerNode = 1): number {
  const largestCache = Math.max(0, ...models.map(modelCacheGiB));
  const needed = (VLLM_IMAGE_GIB + largestCache * cachesPerNode + NODE_SYSTEM_GIB) / KUBELET_FILL_RATIO;
  return Math.ceil(needed / DISK_STEP_GIB) * DISK_STEP_GIB;
}
