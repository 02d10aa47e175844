/** The files of a synthesis unit other than Terraform: Kubernetes manifests with their Helm templates, and the Helm chart's own files (cdk8s). */
import { sliceDeployments, type EnvironmentSlice } from './environment-slice.ts';
import { helmChart, helmTemplate } from './helm/helm-synthesizer.ts';
import { botManifests, deploymentManifests, namespaceManifests } from './kubernetes/kubernetes-synthesizer.ts';
import type { OutputFile } from './synthesizer.ts';
import type { SynthesisUnit } from './units.ts';

/** A Kubernetes file and its Helm template. */
const withHelmTemplate = (environmentName: string, manifests: OutputFile): OutputFile[] => [manifests, helmTemplate(environmentName, manifests)];

export function kubernetesUnitFiles(slice: EnvironmentSlice, unit: SynthesisUnit): OutputFile[] {
  const name = slice.environment.name;
  switch (unit.kind) {
    case 'terraform':
      throw new Error('the Terraform unit is made by terraformFile (src/synth/terraform)');
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
