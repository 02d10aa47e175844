/**
 * Local disk a model server needs: what a replica writes on its node (its
 * `ephemeral-storage` request: scratch, home and, where the weights are
 * downloaded to the node, the model cache), what a node must offer for the
 * replicas that may share it, and the smallest disk that offers it under a
 * cloud's reservation rule (each cloud plug-in states its own). One place, so
 * the pod request and the Terraform node pool agree.
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

/** Scratch volumes of a replica on the node's disk, GiB: /tmp, and HOME with the torch.compile / Triton / vLLM caches. */
export const TMP_GIB = 8;
export const HOME_GIB = 8;

/**
 * Space the vllm/vllm-openai image takes on a node, GiB: 28.6 GB unpacked
 * (vllm-project/vllm#22377, `vllm-openai:latest`, 2025-12) plus the ~12.6 GB of
 * compressed layers containerd keeps in its content store
 * (vllm-project/vllm#27154: "the image is around 12 GB"), rounded up.
 */
export const VLLM_IMAGE_GIB = 45;

/** Images a node holds at once: the serving version's and, during an upgrade, the next one's. */
const IMAGES_PER_NODE = 2;

/**
 * Operating system, kubelet, logs and the other pods' images on a GPU node,
 * GiB (GKE COS and Bottlerocket keep their OS on a few GiB; 20 leaves room for
 * the cluster's DaemonSets).
 */
export const NODE_SYSTEM_GIB = 20;

/**
 * Share of the disk that may fill before the kubelet evicts pods: its default
 * hard eviction thresholds are nodefs.available < 10 % and imagefs.available
 * < 15 % (Kubernetes, "Node-pressure Eviction"; kubernetes#46448), and images
 * share the disk with the pods, so a disk is sized to stay under 85 % full.
 */
const KUBELET_FILL_RATIO = 0.85;

/** The kubelet's default hard eviction threshold on the node filesystem (nodefs.available < 10 %), which allocatable ephemeral storage leaves out. */
export const NODEFS_EVICTION_RATIO = 0.1;

/** Disk sizes are rounded up to this step, GiB. */
const DISK_STEP_GIB = 10;

/**
 * Whether vLLM streams the model's weights straight into GPU memory (the Run:ai
 * streamer, `--load-format runai_streamer`, for object-store models) rather
 * than downloading them to a cache on disk; only the small config and tokenizer
 * files land on disk (under the vLLM cache in HOME).
 */
export function streamsWeights(model: Model): boolean {
  return model.source.kind === 'object-store';
}

/**
 * GiB of disk a model's weights need in the cache: the checkpoint as stored (at
 * its own dtype: a quantization chosen at serve time still downloads the
 * original weights), plus headroom; nothing for a model whose weights are streamed.
 */
export function modelCacheGiB(model: Model): number {
  return streamsWeights(model) ? 0 : Math.ceil(weightsGiB(model) * HEADROOM_FACTOR + HEADROOM_GIB);
}

/** GiB of node disk one replica's emptyDirs may fill (its `ephemeral-storage` request): scratch and HOME, and the weights when they are cached on the node's disk. */
export function replicaEphemeralStorageGiB(model: Model, cacheOnNodeDisk: boolean): number {
  return TMP_GIB + HOME_GIB + (cacheOnNodeDisk ? modelCacheGiB(model) : 0);
}

/** What the disk behind a node's ephemeral storage must hold. */
export interface NodeStorageNeed {
  /** The `ephemeral-storage` requests of every replica that may share the node, GiB. */
  readonly podsGiB: number;
  /** Container images (and the system) on the same disk, GiB. */
  readonly imagesGiB: number;
}

/** A replica that may land on a node, and what it writes there. */
export interface HostedReplica {
  readonly gpusPerReplica: number;
  readonly ephemeralStorageGiB: number;
}

/**
 * What a node of `gpusPerNode` GPUs must hold: the most ephemeral storage its
 * GPUs can carry (every GPU at the hungriest replica's share per GPU, so any
 * mix of the replicas that land on the pool fits), the images and the system.
 */
export function nodeStorageNeed(gpusPerNode: number, replicas: readonly HostedReplica[]): NodeStorageNeed {
  const perGpu = Math.max(0, ...replicas.map((replica) => replica.ephemeralStorageGiB / replica.gpusPerReplica));
  return { podsGiB: Math.ceil(perGpu * gpusPerNode), imagesGiB: IMAGES_PER_NODE * VLLM_IMAGE_GIB + NODE_SYSTEM_GIB };
}

/**
 * The smallest disk, in 10 GiB steps, whose allocatable ephemeral storage
 * (under the cloud's reservation rule, `allocatableGiB`) holds the replicas'
 * requests, so the scheduler places them, and that holds the requests, the
 * images and the system below the kubelet's eviction thresholds, so they stay.
 */
export function smallestDiskGiB(need: NodeStorageNeed, allocatableGiB: (diskGiB: number) => number): number {
  let disk = DISK_STEP_GIB;
  while (allocatableGiB(disk) < need.podsGiB || disk * KUBELET_FILL_RATIO < need.podsGiB + need.imagesGiB) disk += DISK_STEP_GIB;
  return disk;
}
