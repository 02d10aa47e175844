/**
 * Disk a model's weights take once downloaded, shared by the Kubernetes model
 * cache (ephemeral-storage request, shared volume size) and the Terraform node
 * disks.
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
 * GiB of disk a model's weights need in the cache: the checkpoint as stored (at
 * its own dtype: a quantization chosen at serve time still downloads the
 * original weights), plus headroom.
 */
export function modelCacheGiB(model: Model): number {
  return Math.ceil(weightsGiB(model) * HEADROOM_FACTOR + HEADROOM_GIB);
}
