/**
 * The part of a fleet one environment's output is made of. Everything under
 * `generated/<env>/` (Kubernetes, Helm, Terraform) is synthesized from the
 * environment's slice and nothing else, so the slice is what the synth cache
 * keys an environment by (a change elsewhere in the fleet leaves the
 * environment's output alone) and what a synth worker receives.
 */
import type { Environment } from '../declarations/environment.ts';
import { deploymentsOf, type Fleet, type FleetDeployment } from '../fleet/fleet.ts';

/** One environment, its deployments with what they reference, and the few facts of the fleet its output needs. */
export interface EnvironmentSlice {
  /** Git URL of the fleet repository (alerts link runbooks in its README; the bot clones it). */
  readonly repositoryUrl: string;
  readonly environment: Environment;
  /** The environment's deployments, sorted by model, without `environment` (the slice's own): a slice stays linear in its size. */
  readonly deployments: readonly Omit<FleetDeployment, 'environment'>[];
  /** Whether this environment's Terraform creates what its cluster needs once: it is the first, by name, of the environments in the cluster. */
  readonly ownsClusterResources: boolean;
}

export function environmentSlice(fleet: Fleet, environmentName: string): EnvironmentSlice {
  const environment = fleet.environments.find((candidate) => candidate.name === environmentName)!;
  const clusterOwner = fleet.environments.find((candidate) => candidate.cloud === environment.cloud && candidate.cluster === environment.cluster)!;
  return {
    repositoryUrl: fleet.repositoryUrl,
    environment,
    deployments: deploymentsOf(fleet, environmentName).map(({ environment: _, ...deployment }) => deployment),
    ownsClusterResources: clusterOwner === environment,
  };
}

/** The slice's deployments (of the given models, else all) with their environment, as the synthesizers take them. */
export function sliceDeployments(slice: EnvironmentSlice, models?: ReadonlySet<string>): FleetDeployment[] {
  return slice.deployments.filter((deployment) => models === undefined || models.has(deployment.model.name)).map((deployment) => ({ ...deployment, environment: slice.environment }));
}
