import type { EngineArgs } from '../vllm/engine-args.ts';
import type { Deployment, Environment } from '../declarations/environment.ts';
import type { Model } from '../declarations/model.ts';
import type { ResolvedPolicy } from '../declarations/policy.ts';
import type { Prompt } from '../declarations/prompt.ts';

/** The four kinds of declaration, each in its own folder of the fleet root. */
export const DECLARATION_KINDS = ['models', 'prompts', 'environments', 'policies'] as const;
export type DeclarationKind = (typeof DECLARATION_KINDS)[number];

/** One model served in one environment, with everything it refers to resolved. */
export interface FleetDeployment {
  /** `<environment>/<model>`. */
  readonly id: string;
  readonly environment: Environment;
  readonly model: Model;
  readonly policy: ResolvedPolicy;
  /** The deployment block as declared. */
  readonly spec: Deployment;
  /** The model's engine arguments overlaid with the deployment's, with tensor parallelism defaulted to the GPU count. */
  readonly engineArgs: EngineArgs & { 'tensor-parallel-size': number };
  /** Prompts written for this model. */
  readonly prompts: readonly Prompt[];
  /** Declaration file of the environment, relative to the fleet root. */
  readonly sourceFile: string;
}

/** The validated, resolved fleet: the only input of every synthesizer. */
export interface Fleet {
  /** Absolute path of the fleet root (the folder holding models/, environments/, …). */
  readonly root: string;
  /** Git URL Argo CD pulls generated/ from (package.json `repository`). */
  readonly repositoryUrl: string;
  /** Declarations by kind, sorted by name. */
  readonly models: readonly Model[];
  readonly prompts: readonly Prompt[];
  readonly environments: readonly Environment[];
  readonly policies: readonly ResolvedPolicy[];
  /** Every deployment, sorted by environment then model. */
  readonly deployments: readonly FleetDeployment[];
  /** Declaration file of each declaration, relative to the root, keyed `<kind>/<name>`. */
  readonly sourceFiles: ReadonlyMap<string, string>;
}

/** Deployments of one environment. */
export function deploymentsOf(fleet: Fleet, environmentName: string): FleetDeployment[] {
  return fleet.deployments.filter((deployment) => deployment.environment.name === environmentName);
}
