import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Fleet } from '../../fleet/fleet.ts';
import { loadFleet } from '../../fleet/load.ts';
import { preparedFixture } from '../../testing/fixture-fleet.ts';
import { providerSchemas, terraformSchemaProblems, type ProviderSchemas } from '../../testing/terraform-schemas.ts';

let fleet: Fleet;
let schemas: ProviderSchemas;

beforeAll(async () => {
  const result = await loadFleet(await preparedFixture());
  if (!result.ok) throw new Error('the example fleet is invalid');
  fleet = result.fleet;
  schemas = await providerSchemas();
}, 120_000);

async function generated(environment: string): Promise<Record<string, any>> {
  return JSON.parse(await readFile(path.join(await preparedFixture(), 'generated', environment, 'terraform/cdk.tf.json'), 'utf8'));
}

describe('the offline provider schema check', () => {
  it('knows the resources, data sources and providers of all four pinned provider packages', () => {
    expect(schemas.providers.has('aws') && schemas.providers.has('google') && schemas.providers.has('azurerm') && schemas.providers.has('digitalocean')).toBe(true);
    expect(schemas.resources.get('aws_eks_node_group')).toBe('@cdktf/provider-aws.eksNodeGroup.EksNodeGroupConfig');
    expect(schemas.dataSources.get('azurerm_kubernetes_cluster')).toBe('@cdktf/provider-azurerm.dataAzurermKubernetesCluster.DataAzurermKubernetesClusterConfig');
  });

  it('finds no unknown or missing argument in any block of any environment', async () => {
    for (const environment of fleet.environments) {
      const terraform = await generated(environment.name);

      expect(terraformSchemaProblems(terraform, schemas), environment.name).toEqual([]);
      expect(Object.keys(terraform.resource).length, environment.name).toBeGreaterThan(2);
    }
  });

  it('catches an unknown argument, in a resource and in a nested block', async () => {
    const terraform = await generated('dev');
    terraform.resource.aws_eks_node_group['node-pool-l4-spot'].gpu_count = 1;
    terraform.resource.aws_eks_node_group['node-pool-l4-spot'].scaling_config.desired_nodes = 1;

    expect(terraformSchemaProblems(terraform, schemas)).toEqual([
      'resource.aws_eks_node_group.node-pool-l4-spot.scaling_config: unknown argument "desired_nodes"',
      'resource.aws_eks_node_group.node-pool-l4-spot: unknown argument "gpu_count"',
    ]);
  });

  it('catches a removed required argument, in a resource, a nested block and a provider', async () => {
    const terraform = await generated('production');
    delete terraform.resource.google_container_node_pool['node-pool-h100x8'].cluster;
    delete terraform.resource.google_container_node_pool['node-pool-h100x8'].node_config.guest_accelerator[0].type;
    const staging = await generated('staging');
    delete staging.resource.azurerm_storage_account['model-bucket'].network_rules.default_action;

    expect(terraformSchemaProblems(terraform, schemas)).toEqual([
      'resource.google_container_node_pool.node-pool-h100x8.node_config.guest_accelerator[0]: missing required argument "type"',
      'resource.google_container_node_pool.node-pool-h100x8: missing required argument "cluster"',
    ]);
    expect(terraformSchemaProblems(staging, schemas)).toEqual(['resource.azurerm_storage_account.model-bucket.network_rules: missing required argument "default_action"']);
  });

  it('catches an unknown resource type and a provider argument that does not exist', async () => {
    const terraform = await generated('research');
    terraform.resource.digitalocean_gpu_pool = { probe: { name: 'x' } };
    terraform.provider.digitalocean[0].project = 'acme';

    expect(terraformSchemaProblems(terraform, schemas)).toEqual(['resource.digitalocean_gpu_pool: unknown resource type', 'provider.digitalocean[0]: unknown argument "project"']);
  });
});
