/**
 * Synthesis split into units that each depend on one environment's slice
 * only, so they run in any order, on any thread, and stream their files out:
 * the environment's namespace, its deployments (a few per unit), its bot, its
 * Helm chart files and its Terraform. A Kubernetes file comes with its Helm
 * template. `generated/argocd/` and `generated/platform/` are made from the
 * whole fleet and are not units (src/synth/argocd).
 */
import { sliceDeployments, type EnvironmentSlice } from './environment-slice.ts';
import { helmChart, helmTemplate } from './helm/helm-synthesizer.ts';
import { botManifests, deploymentManifests, namespaceManifests } from './kubernetes/kubernetes-synthesizer.ts';
import { SynthesisError, type OutputFile } from './synthesizer.ts';
import { terraformFile } from './terraform/terraform-synthesizer.ts';

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

/** A Kubernetes file and its Helm template. */
const withHelmTemplate = (environmentName: string, manifests: OutputFile): OutputFile[] => [manifests, helmTemplate(environmentName, manifests)];

function filesOf(slice: EnvironmentSlice, unit: SynthesisUnit): OutputFile[] {
  const name = slice.environment.name;
  switch (unit.kind) {
    case 'terraform':
      return [terraformFile(slice)];
    case 'namespace':
      return withHelmTemplate(name, namespaceManifests(slice, sliceDeployments(slice)));
    case 'bot': {
      const bot = botManifests(slice);
      return bot ? withHelmTemplate(name, bot) : [];
    }
    case 'helm-chart':
      return helmChart(slice.environment);
    case 'deployments':
      return sliceDeployments(slice, new Set(unit.models)).flatMap((deployment) => withHelmTemplate(name, deploymentManifests(deployment)));
  }
}

/** The files of one unit; a failure names the step and the environment. */
export function synthesizeUnit(slice: EnvironmentSlice, unit: SynthesisUnit): OutputFile[] {
  try {
    return filesOf(slice, unit);
  } catch (error) {
    const step = unit.kind === 'terraform' ? 'terraform' : unit.kind === 'helm-chart' ? 'helm' : 'kubernetes';
    throw new SynthesisError(`the ${step} step failed for ${slice.environment.name}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
}
