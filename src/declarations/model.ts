import { z } from 'zod';
import { definer } from './define.ts';
import { expected } from './issues.ts';
import { amount, wholeNumber } from './bounds.ts';
import { MAX_BATCHED_TOKENS } from '../vllm/engine-args.ts';
import { DnsLabel } from './dns-label.ts';
import { Dtype, EngineArgs, Quantization } from '../vllm/engine-args.ts';
import { ImageDigest } from './image.ts';

/** Weights from the Hugging Face Hub, pinned to one commit so a rebuild serves the same bytes. */
export const HuggingFaceSource = z.strictObject({
  kind: z.literal('huggingface'),
  /** Repository id, `organisation/name`. */
  id: z
    .string()
    .max(96)
    .regex(/^[\w.-]+\/[\w.-]+$/, { error: expected('a Hugging Face repository id "organisation/name"') }),
  /** Full 40-character commit SHA of the repository (a branch or tag can move). */
  revision: z.string().regex(/^[0-9a-f]{40}$/, { error: expected('a full 40-character commit SHA (a branch or tag can move)') }),
});

/**
 * Weights in each environment's model bucket (the object store the Terraform
 * output creates), under `models/<model>/<revision>/`; vLLM streams them with
 * the Run:ai model streamer, so no Hugging Face token is needed at run time.
 */
export const ObjectStoreSource = z.strictObject({
  kind: z.literal('object-store'),
  /** Version folder of the weights (a commit SHA or a release name). */
  revision: z.string().regex(/^[A-Za-z0-9._-]{1,128}$/, { error: expected('a version folder name: letters, digits, ".", "_" and "-"') }),
});

export const ModelSource = z.discriminatedUnion('kind', [HuggingFaceSource, ObjectStoreSource]);
export type ModelSource = z.infer<typeof ModelSource>;

/** A quantization the model may be served with, and what it costs in quality. */
export const QuantizationOption = z.strictObject({
  /** Measured quality loss against the unquantized model on the team's evaluation, in percent. */
  qualityCostPct: amount('%', 100, 0),
});

export const Model = z.strictObject({
  /** Model name; also the served model name and the Kubernetes name prefix. DNS-1123 label. */
  name: DnsLabel,
  /** Where the weights come from. */
  source: ModelSource,
  /** Parameter count in billions (8.03 for Llama-3.1-8B). */
  parametersBillions: amount('billion parameters', 100_000),
  /** Weight dtype as stored. Default: `bfloat16`. */
  dtype: Dtype.default('bfloat16'),
  /** Longest context the model supports, in tokens. */
  contextLengthTokens: wholeNumber('tokens', 1, MAX_BATCHED_TOKENS),
  /** Hidden layers (for KV-cache sizing). */
  layers: wholeNumber('layers', 1, 10_000),
  /** Key/value heads × head dimension per layer (for KV-cache sizing; 1024 for Llama-3.1-8B: 8 × 128). */
  kvDimension: wholeNumber('values per token per layer', 1, 1_000_000),
  /** Quantizations allowed for this model, with their quality cost. Default: none. */
  quantizations: z.partialRecord(Quantization, QuantizationOption).default({}),
  /** `vllm/vllm-openai` image tag, a release such as `v0.11.0`; never `latest`. */
  vllmImageTag: z.string().regex(/^v\d+\.\d+\.\d+(\.post\d+)?$/, { error: expected('a vLLM release tag such as "v0.11.0" (never "latest")') }),
  /** Digest of the `vllmImageTag` image; pins the bytes the tag pointed to when reviewed. Default: by tag only. */
  vllmImageDigest: ImageDigest.optional(),
  /** Engine arguments every deployment of the model starts from. Default: none (vLLM's defaults). */
  engineArgs: EngineArgs.default({}),
});
export type Model = z.infer<typeof Model>;

/** Declares a model: `export default defineModel({ … })` in `models/<name>.ts`. */
export const defineModel = definer('model', Model);
