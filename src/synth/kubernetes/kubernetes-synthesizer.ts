import { App, type Chart } from 'cdk8s';
import { deploymentsOf, type Fleet } from '../../fleet/fleet.ts';
import { yamlDocuments } from '../serialize.ts';
import type { OutputFile, Synthesizer } from '../synthesizer.ts';
import { BOT_NAME } from '../../fleet/naming.ts';
import { BotChart } from './bot.ts';
import { DeploymentChart } from './deployment-chart.ts';
import { EnvironmentChart } from './environment-chart.ts';

/** Folder of an environment's manifests, relative to generated/ (what Argo CD syncs). */
export function kubernetesFolder(environmentName: string): string {
  return `${environmentName}/kubernetes`;
}

/**
 * Writes `generated/<env>/kubernetes/`: `namespace.yaml` for what the namespace
 * holds before any model (not the Namespace object itself) and
 * one `<model>.yaml` per deployment, so a change to one deployment shows as a
 * change to one file.
 */
export const kubernetesSynthesizer: Synthesizer = {
  name: 'kubernetes',
  synthesize(fleet: Fleet): OutputFile[] {
    return fleet.environments.flatMap((environment) => {
      const app = new App();
      const deployments = deploymentsOf(fleet, environment.name);
      const charts: [string, Chart][] = [['namespace', new EnvironmentChart(app, 'namespace', { environment, deployments, repositoryUrl: fleet.repositoryUrl })]];
      for (const deployment of deployments) charts.push([deployment.model.name, new DeploymentChart(app, deployment.model.name, { deployment })]);
      if (environment.bot) charts.push([BOT_NAME, new BotChart(app, BOT_NAME, { environment, bot: environment.bot, repositoryUrl: fleet.repositoryUrl })]);
      return charts.map(([file, chart]) => ({ path: `${kubernetesFolder(environment.name)}/${file}.yaml`, content: yamlDocuments(chart.toJson()) }));
    });
  },
};
