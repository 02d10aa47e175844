import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { App } from 'cdktf';
import { deploymentsOf, type Fleet } from '../../fleet/fleet.ts';
import { stableJson } from '../../fleet/stable-json.ts';
import type { OutputFile, Synthesizer } from '../synthesizer.ts';
import { EnvironmentStack } from './environment-stack.ts';

/** The Terraform JSON of one environment, as `terraform init && terraform plan` reads it. */
export function environmentTerraform(fleet: Fleet, environmentName: string): Record<string, unknown> {
  const environment = fleet.environments.find((candidate) => candidate.name === environmentName)!;
  // cdktf's App insists on an output folder; we read the stack in memory and write nothing there.
  const outdir = mkdtempSync(path.join(tmpdir(), 'llmops-cdktf-'));
  try {
    const app = new App({ outdir, skipValidation: true, stackTraces: false });
    const clusterOwner = fleet.environments.find((candidate) => candidate.cloud === environment.cloud && candidate.cluster === environment.cluster)!;
    const stack = new EnvironmentStack(app, environment.name, {
      environment,
      deployments: deploymentsOf(fleet, environment.name).map((deployment) => ({ model: deployment.model, spec: deployment.spec })),
      ownsClusterResources: clusterOwner === environment,
    });
    return stack.toTerraform() as Record<string, unknown>;
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

/** Writes `generated/<env>/terraform/cdk.tf.json` for every environment. */
export const terraformSynthesizer: Synthesizer = {
  name: 'terraform',
  synthesize(fleet: Fleet): OutputFile[] {
    return fleet.environments.map((environment) => ({
      path: `${environment.name}/terraform/cdk.tf.json`,
      content: stableJson(environmentTerraform(fleet, environment.name)),
    }));
  },
};
