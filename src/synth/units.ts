/**
 * Synthesis split into units that each depend on one environment's slice
 * only, so they run in any order, on any thread, and stream their files out:
 * the environment's namespace, its deployments (a few per unit), its bot, its
 * Helm chart files and its Terraform. A Kubernetes file comes with its Helm
 * template. `generated/argocd/` and `generated/platform/` are made from the
 * whole fleet and are not units (src/synth/argocd).
 */
import type { EnvironmentSlice } from './environment-slice.ts';
import { SynthesisError, type OutputFile } from './synthesizer.ts';

export type SynthesisUnit =
  | { readonly environment: string; readonly kind: 'terraform' | 'namespace' | 'bot' | 'helm-chart' }
  | { readonly environment: string; readonly kind: 'deployments'; readonly models: readonly string[] };

/** Deployments per unit: enough to amortize a message to a worker, few enough to spread an environment over the threads. */
const DEPLOYMENTS_PER_UNIT = 8;

/** The units of one environment; the largest single one (Terraform) first, so a worker starts on it early. */
export function environmentUnits(slice: EnvironmentSlice): SynthesisUnit[] {
  const environment = slice.environment.name;
  const models = slice.deployments.map((deployment) => deployment.model.name);
  const batches = Array.from({ length: Math.ceil(models.length / DEPLOYMENTS_PER_UNIT) }, (_, index) => models.slice(index * DEPLOYMENTS_PER_UNIT, (index + 1) * DEPLOYMENTS_PER_UNIT));
  return [
    { environment, kind: 'terraform' },
    { environment, kind: 'namespace' },
    ...(slice.environment.bot ? [{ environment, kind: 'bot' } as const] : []),
    { environment, kind: 'helm-chart' },
    ...batches.map((batch) => ({ environment, kind: 'deployments', models: batch }) as const),
  ];
}

/**
 * The files of one unit, made by `make` (terraformFile for the Terraform
 * unit, kubernetesUnitFiles for the others: callers import the library the
 * unit needs, so a worker loads only that); a failure names the step and the environment.
 */
export function synthesizeUnit(slice: EnvironmentSlice, unit: SynthesisUnit, make: () => OutputFile[]): OutputFile[] {
  try {
    return make();
  } catch (error) {
    const step = unit.kind === 'terraform' ? 'terraform' : unit.kind === 'helm-chart' ? 'helm' : 'kubernetes';
    throw new SynthesisError(`the ${step} step failed for ${slice.environment.name}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
}
