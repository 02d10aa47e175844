/** The vLLM command line of a deployment, with vLLM's real flag names. */
import { cloudPlugin } from '../../clouds/registry.ts';
import type { FleetDeployment } from '../../fleet/fleet.ts';
import { renderFlags } from '../../vllm/flags.ts';
import { VLLM_PORT } from './labels.ts';

/**
 * Where vLLM reads the weights from: a Hugging Face id, or the model's place in
 * the environment's object store, in the layout the cloud's Terraform creates.
 */
export function modelLocation(deployment: FleetDeployment): string {
  const { model, environment } = deployment;
  if (model.source.kind === 'huggingface') return model.source.id;
  return cloudPlugin(environment.cloud).modelUri(environment, model.name, model.source.revision);
}

/**
 * Arguments of `vllm serve` (the vllm/vllm-openai image's ENTRYPOINT is
 * `["vllm", "serve"]`): the model as the positional argument (`--model` is
 * deprecated under `vllm serve`), its pinned revision, the served name, then
 * every engine argument, sorted by name so the output is stable.
 */
export function vllmArgs(deployment: FleetDeployment): string[] {
  const { model, spec, engineArgs } = deployment;
  const args = [modelLocation(deployment), '--served-model-name', model.name, '--port', String(VLLM_PORT), '--dtype', model.dtype];
  if (model.source.kind === 'huggingface') args.push('--revision', model.source.revision);
  else args.push('--load-format', 'runai_streamer');
  const pipelineParallel = spec.gpu.count / engineArgs['tensor-parallel-size'];
  return [...args, ...renderFlags({ ...engineArgs, ...(pipelineParallel > 1 ? { 'pipeline-parallel-size': pipelineParallel } : {}) })];
}
