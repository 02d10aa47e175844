/**
 * The declaration language: what `models/`, `prompts/`, `environments/` and
 * `policies/` files import (`import { defineModel } from 'llmops-gitops'`).
 */
export { defineModel, Model, ModelSource } from './declarations/model.ts';
export { definePrompt, Prompt, PromptVersion } from './declarations/prompt.ts';
export { defineEnvironment, Environment, Deployment, NodePool, Slos, Budget } from './declarations/environment.ts';
export type { StateBackend } from './declarations/environment.ts';
export { definePolicy, Policy, Strategy, STRATEGY_PRESETS } from './declarations/policy.ts';
export { EngineArgs, Quantization, Dtype } from './vllm/engine-args.ts';
export { GpuType, GPU_CATALOGUE } from './catalogue/gpus.ts';
export { Cloud } from './clouds/registry.ts';
