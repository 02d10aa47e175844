/**
 * In-memory variants of a loaded fleet for synth tests: change one
 * environment's (or model's) declaration and get a fleet whose deployments
 * point at the changed object, without writing and re-loading declaration files.
 */
import type { Environment } from '../declarations/environment.ts';
import type { Model } from '../declarations/model.ts';
import type { Fleet } from '../fleet/fleet.ts';

/** The fleet with one environment replaced by `change(environment)`; its deployments follow (spec from the new `deployments`). */
export function withEnvironment(fleet: Fleet, name: string, change: (environment: Environment) => Environment): Fleet {
  const original = fleet.environments.find((environment) => environment.name === name);
  if (!original) throw new Error(`no environment ${name}`);
  const environment = change(original);
  return {
    ...fleet,
    environments: fleet.environments.map((candidate) => (candidate === original ? environment : candidate)),
    deployments: fleet.deployments
      .filter((deployment) => deployment.environment !== original || environment.deployments[deployment.model.name])
      .map((deployment) => (deployment.environment === original ? { ...deployment, environment, spec: environment.deployments[deployment.model.name] } : deployment)),
  };
}

/** The fleet with one model replaced by `change(model)` everywhere it is served. */
export function withModel(fleet: Fleet, name: string, change: (model: Model) => Model): Fleet {
  const original = fleet.models.find((model) => model.name === name);
  if (!original) throw new Error(`no model ${name}`);
  const model = change(original);
  return {
    ...fleet,
    models: fleet.models.map((candidate) => (candidate === original ? model : candidate)),
    deployments: fleet.deployments.map((deployment) => (deployment.model === original ? { ...deployment, model } : deployment)),
  };
}
