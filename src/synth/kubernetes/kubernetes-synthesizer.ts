import { App, type Chart } from 'cdk8s';
import type { Construct } from 'constructs';
import type { FleetDeployment } from '../../fleet/fleet.ts';
import { BOT_NAME } from '../../fleet/naming.ts';
import type { EnvironmentSlice } from '../environment-slice.ts';
import { yamlFile } from '../serialize.ts';
import type { OutputFile } from '../synthesizer.ts';
import { BotChart } from './bot.ts';
import { DeploymentChart } from './deployment-chart.ts';
import { EnvironmentChart } from './environment-chart.ts';

/** Folder of an environment's manifests, relative to generated/ (what Argo CD syncs). */
export function kubernetesFolder(environmentName: string): string {
  return `${environmentName}/kubernetes`;
}

/**
 * One chart in an App of its own, rendered to `<env>/kubernetes/<file>.yaml`.
 * cdk8s resolves and validates the whole App whenever one chart renders
 * (App._synthChart), so charts sharing an App made an environment quadratic in
 * its deployments; no chart refers to another, so apart they render the same.
 */
function chartFile(environmentName: string, file: string, makeChart: (app: Construct) => Chart): OutputFile {
  return yamlFile(`${kubernetesFolder(environmentName)}/${file}.yaml`, makeChart(new App()).toJson());
}

/**
 * `<env>/kubernetes/namespace.yaml`: what the namespace holds before any model
 * (not the Namespace object itself).
 */
export function namespaceManifests(slice: EnvironmentSlice, deployments: readonly FleetDeployment[]): OutputFile {
  const { environment, repositoryUrl } = slice;
  return chartFile(environment.name, 'namespace', (app) => new EnvironmentChart(app, 'namespace', { environment, deployments, repositoryUrl }));
}

/** `<env>/kubernetes/<model>.yaml`: one file per deployment, so a change to one deployment shows as a change to one file. */
export function deploymentManifests(deployment: FleetDeployment): OutputFile {
  return chartFile(deployment.environment.name, deployment.model.name, (app) => new DeploymentChart(app, deployment.model.name, { deployment }));
}

/** `<env>/kubernetes/llmops-bot.yaml`, where the environment declares `bot`. */
export function botManifests(slice: EnvironmentSlice): OutputFile | undefined {
  const { environment, repositoryUrl } = slice;
  const bot = environment.bot;
  return bot && chartFile(environment.name, BOT_NAME, (app) => new BotChart(app, BOT_NAME, { environment, bot, repositoryUrl }));
}
