/**
 * Local disk a model server needs: the model cache a pod writes (its
 * `ephemeral-storage` request, a shared cache volume's size) and the boot disk
 * of the node it runs on (the Terraform node pool's disk). One place, so the
 * pod request and the node pool agree.
 */
import type { Model } from '../declarations/model.ts';
import { weightsGiB } from './memory.ts';

/**
 * Headroom over the raw parameter bytes: the safetensors headers and index, the
 * tokenizer and config files, and the one `.incomplete` shard huggingface_hub
 * writes before renaming it into the cache (shards are ≤ 5 GB). For
 * meta-llama/Llama-3.1-70B-Instruct the 30 safetensors shards hold 141 GB
 * (131.5 GiB = 70.6 B parameters × 2 bytes), so 5 % plus 5 GiB covers them.
 */
const HEADROOM_FACTOR = 1.05;
const HEADROOM_GIB = 5;

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

/** Disk sizes are rounded up to this step, GiB. */
const DISK_STEP_GIB = 10;

/**
 * GiB of disk a model's weights need in the cache: the checkpoint as stored (at
 * its own dtype: a quantization chosen at serve time still downloads the
 * original weights), plus headroom.
 */
export function modelCacheGiB(model: Model): number {
  return Math.ceil(weightsGiB(model) * HEADROOM_FACTOR + HEADROOM_GIB);
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
