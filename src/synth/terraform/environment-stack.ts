import { TerraformOutput, TerraformStack } from 'cdktf';
import type { Construct } from 'constructs';
import type { Environment } from '../../declarations/environment.ts';
import { modelServerServiceAccount } from '../../fleet/naming.ts';
import { CLOUD_PROVIDERS } from './providers.ts';

/** Props of an EnvironmentStack. */
export interface EnvironmentStackProps {
  /** The environment to build. */
  readonly environment: Environment;
  /** Models deployed in the environment, sorted; each gets a least-privilege reader identity. */
  readonly modelNames: readonly string[];
}

/**
 * One environment's infrastructure: provider and remote state, the GPU node
 * pools of its existing cluster, the model bucket, and a reader identity per
 * model server — built by the environment's cloud provider.
 */
export class EnvironmentStack extends TerraformStack {
  constructor(scope: Construct, id: string, props: EnvironmentStackProps) {
    super(scope, id);
    const { environment, modelNames } = props;
    const provider = CLOUD_PROVIDERS[environment.cloud];
    provider.configure(this, environment);
    const cluster = provider.lookUpCluster(this, environment);
    for (const pool of environment.nodePools) provider.addGpuNodePool(this, environment, pool, cluster);
    const bucket = provider.addModelBucket(this, environment, modelNames);
    for (const modelName of modelNames) provider.addModelReader(this, environment, modelName, cluster, bucket);
    new TerraformOutput(this, 'model-server-service-accounts', {
      description: 'Kubernetes ServiceAccounts bound to the model reader identities',
      value: modelNames.map((modelName) => `${environment.namespace}/${modelServerServiceAccount(modelName)}`),
    });
  }
}
