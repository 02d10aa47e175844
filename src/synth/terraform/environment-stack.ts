import { TerraformOutput, TerraformStack } from 'cdktf';
import type { Construct } from 'constructs';
import { GPU_NODE_TAINT, poolShapeLabels } from '../../catalogue/gpus.ts';
import { isCloudIssue } from '../../clouds/cloud-plugin.ts';
import type { PlannedPool } from '../../clouds/cloud-terraform.ts';
import { cloudPlugin, machineFor } from '../../clouds/registry.ts';
import { CLOUD_TERRAFORM } from '../../clouds/terraform-registry.ts';
import type { Deployment, Environment, NodePool } from '../../declarations/environment.ts';
import type { Model } from '../../declarations/model.ts';
import { poolShape } from '../../fleet/capacity.ts';
import { modelServerServiceAccount } from '../../fleet/naming.ts';
import { nodeStorageNeed, replicaEphemeralStorageGiB } from '../../fleet/storage.ts';
import { escapeTerraformStrings } from './escape.ts';

/** Terraform release the output needs: `use_lockfile` of the S3 backend arrived in 1.10. */
export const REQUIRED_TERRAFORM_VERSION = '>= 1.10.0';

/** A model served in the environment, with its deployment block. */
export interface StackDeployment {
  readonly model: Model;
  readonly spec: Deployment;
}

/** Props of an EnvironmentStack. */
export interface EnvironmentStackProps {
  /** The environment to build. */
  readonly environment: Environment;
  /** Models deployed in the environment, sorted by name; each gets a least-privilege reader identity. */
  readonly deployments: readonly StackDeployment[];
  /** Whether this stack creates what the cluster needs once (it is the first, by name, of the environments in the cluster). */
  readonly ownsClusterResources: boolean;
}

/**
 * One environment's infrastructure: provider and remote state, the GPU node
 * pools of its existing cluster, the model bucket, and a reader identity per
 * model server — built by the environment's cloud plug-in. Every declaration
 * string is escaped for Terraform first, so a `${…}` in a cluster name stays a
 * literal.
 */
export class EnvironmentStack extends TerraformStack {
  constructor(scope: Construct, id: string, props: EnvironmentStackProps) {
    super(scope, id);
    const environment = escapeTerraformStrings(props.environment);
    const modelNames = props.deployments.map((deployment) => deployment.model.name);
    const terraform = CLOUD_TERRAFORM[environment.cloud];
    terraform.configure(this, environment);
    this.addOverride('terraform.required_version', REQUIRED_TERRAFORM_VERSION);
    const cluster = terraform.lookUpCluster(this, environment);
    if (props.ownsClusterResources) terraform.addClusterResources?.(this, environment, cluster);
    environment.nodePools.forEach((pool, index) => {
      terraform.addGpuNodePool(this, environment, planPool(environment, pool, index, props.deployments), cluster);
    });
    const bucket = terraform.addModelBucket(this, environment, modelNames, cluster);
    const readers = Object.fromEntries(modelNames.map((modelName) => [modelName, terraform.addModelReader(this, environment, modelName, cluster, bucket)]));
    new TerraformOutput(this, 'model-server-service-accounts', {
      description: 'Kubernetes ServiceAccounts bound to the model reader identities',
      value: modelNames.map((modelName) => `${environment.namespace}/${modelServerServiceAccount(modelName)}`),
    });
    new TerraformOutput(this, 'model_reader_identities', {
      description: 'Each model\'s reader identity, by model name: what its ServiceAccount is bound to (README, "From Terraform to Kubernetes")',
      value: readers,
    });
  }
}

/** A pool with its machine, placement, disks (for the replicas that may land on it), labels and taint. */
function planPool(environment: Environment, pool: NodePool, index: number, deployments: readonly StackDeployment[]): PlannedPool {
  const plugin = cloudPlugin(environment.cloud);
  const placement = plugin.placement(environment, pool);
  if (isCloudIssue(placement)) throw new Error(`nodePools[${index}].${placement.path}: ${placement.message}`);
  const hosted = deployments.filter(({ spec }) => {
    const shape = poolShape(environment, spec.gpu);
    return shape?.gpuType === pool.gpuType && shape.gpusPerNode === pool.gpusPerNode;
  });
  const cacheOnNodeDisk = environment.modelCache.kind === 'node-disk';
  const need = nodeStorageNeed(
    pool.gpusPerNode,
    hosted.map(({ model, spec }) => ({ gpusPerReplica: spec.gpu.count, ephemeralStorageGiB: replicaEphemeralStorageGiB(model, cacheOnNodeDisk) })),
  );
  const machine = machineFor(environment.cloud, pool.gpuType, pool.gpusPerNode)!;
  return {
    pool,
    index,
    machine,
    placement,
    storage: plugin.nodeStorage(machine, need),
    labels: poolShapeLabels(pool.gpuType, pool.gpusPerNode),
    taints: [GPU_NODE_TAINT],
  };
}
