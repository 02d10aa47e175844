/**
 * Azure: AKS user node pools on N-series VMs, a storage account with one private
 * container per model, and one user-assigned identity per model server, federated
 * with the cluster's OIDC issuer (AKS Workload Identity).
 */
import { DataAzurermKubernetesCluster } from '@cdktf/provider-azurerm/lib/data-azurerm-kubernetes-cluster';
import { FederatedIdentityCredential } from '@cdktf/provider-azurerm/lib/federated-identity-credential';
import { KubernetesClusterNodePool } from '@cdktf/provider-azurerm/lib/kubernetes-cluster-node-pool';
import { AzurermProvider } from '@cdktf/provider-azurerm/lib/provider';
import { RoleAssignment } from '@cdktf/provider-azurerm/lib/role-assignment';
import { StorageAccount } from '@cdktf/provider-azurerm/lib/storage-account';
import { StorageContainer } from '@cdktf/provider-azurerm/lib/storage-container';
import { StorageManagementPolicy } from '@cdktf/provider-azurerm/lib/storage-management-policy';
import { UserAssignedIdentity } from '@cdktf/provider-azurerm/lib/user-assigned-identity';
import { AzurermBackend } from 'cdktf';
import { GPU_NODE_TAINT, gpuNodeLabels, machineFor } from '../../../catalogue/gpus.ts';
import type { Environment } from '../../../declarations/environment.ts';
import { resourceLabels, serviceAccountSubject } from '../../../fleet/naming.ts';
import { constructId, type CloudProvider } from '../cloud-provider.ts';

/** AKS Linux pool names: at most 12 lower-case letters and digits. */
export function aksPoolName(poolName: string): string {
  return poolName.replace(/[^a-z0-9]/g, '').slice(0, 12);
}

interface AzureBucket {
  readonly account: StorageAccount;
  readonly containers: ReadonlyMap<string, StorageContainer>;
}

export const azureProvider: CloudProvider<DataAzurermKubernetesCluster, AzureBucket> = {
  cloud: 'azure',

  configure(stack, environment) {
    // The subscription comes from ARM_SUBSCRIPTION_ID in the pipeline, never from the repository.
    new AzurermProvider(stack, 'azurerm', { features: [{}], storageUseAzuread: true });
    if (environment.stateBackend.type === 'azurerm') {
      const { resourceGroupName, storageAccountName, containerName, key } = environment.stateBackend;
      new AzurermBackend(stack, { resourceGroupName, storageAccountName, containerName, key, useAzureadAuth: true });
    }
  },

  lookUpCluster(stack, environment) {
    return new DataAzurermKubernetesCluster(stack, 'cluster', { name: environment.cluster, resourceGroupName: environment.resourceGroup! });
  },

  addGpuNodePool(stack, environment, pool, cluster) {
    const machine = machineFor('azure', pool.gpuType, pool.gpusPerNode)!;
    const spot = pool.capacity === 'spot';
    const name = aksPoolName(pool.name);
    if (stack.node.tryFindChild(constructId('node-pool', name))) {
      throw new Error(`node pools of ${environment.name} collide as AKS pool "${name}" (AKS names are 12 letters and digits); rename one`);
    }
    new KubernetesClusterNodePool(stack, constructId('node-pool', name), {
      name,
      kubernetesClusterId: cluster.id,
      vmSize: machine.machineType,
      mode: 'User',
      osSku: 'Ubuntu',
      osDiskSizeGb: 200,
      autoScalingEnabled: true,
      minCount: pool.minNodes,
      maxCount: pool.maxNodes,
      priority: spot ? 'Spot' : 'Regular',
      evictionPolicy: spot ? 'Delete' : undefined,
      spotMaxPrice: spot ? -1 : undefined,
      nodeLabels: gpuNodeLabels(pool.gpuType),
      nodeTaints: [`${GPU_NODE_TAINT.key}=${GPU_NODE_TAINT.value}:${GPU_NODE_TAINT.effect}`],
      tags: resourceLabels(environment, { 'gpu-type': pool.gpuType, 'node-pool': pool.name }),
      // The cluster autoscaler owns the node count between min and max.
      lifecycle: { ignoreChanges: ['node_count'] },
    });
  },

  addModelBucket(stack, environment, modelNames) {
    const account = new StorageAccount(stack, 'model-bucket', {
      name: environment.modelBucket,
      resourceGroupName: environment.resourceGroup!,
      location: environment.region,
      accountKind: 'StorageV2',
      accountTier: 'Standard',
      accountReplicationType: 'ZRS',
      accessTier: 'Hot',
      minTlsVersion: 'TLS1_2',
      httpsTrafficOnlyEnabled: true,
      allowNestedItemsToBePublic: false,
      sharedAccessKeyEnabled: false,
      infrastructureEncryptionEnabled: true,
      blobProperties: { versioningEnabled: true, deleteRetentionPolicy: { days: 7 } },
      tags: resourceLabels(environment, { purpose: 'model-artifacts' }),
    });
    new StorageManagementPolicy(stack, 'model-bucket-lifecycle', {
      storageAccountId: account.id,
      rule: [
        {
          name: 'old-versions-to-cold',
          enabled: true,
          filters: { blobTypes: ['blockBlob'] },
          actions: { version: { changeTierToCoolAfterDaysSinceCreation: 30, deleteAfterDaysSinceCreation: 365 } },
        },
      ],
    });
    const containers = new Map(
      modelNames.map((modelName) => [
        modelName,
        new StorageContainer(stack, constructId('model-container', modelName), { name: modelName, storageAccountId: account.id, containerAccessType: 'private' }),
      ]),
    );
    return { account, containers };
  },

  addModelReader(stack, environment, modelName, cluster, bucket) {
    const identity = new UserAssignedIdentity(stack, constructId('reader', modelName), {
      name: `${environment.name}-${modelName}-server`,
      resourceGroupName: environment.resourceGroup!,
      location: environment.region,
      tags: resourceLabels(environment, { model: modelName }),
    });
    new FederatedIdentityCredential(stack, constructId('reader-federation', modelName), {
      name: `${environment.cluster}-${modelName}`,
      resourceGroupName: environment.resourceGroup!,
      parentId: identity.id,
      audience: ['api://AzureADTokenExchange'],
      issuer: cluster.oidcIssuerUrl,
      subject: serviceAccountSubject(environment, modelName),
    });
    new RoleAssignment(stack, constructId('reader-blobs', modelName), {
      scope: bucket.containers.get(modelName)!.resourceManagerId,
      roleDefinitionName: 'Storage Blob Data Reader',
      principalId: identity.principalId,
    });
  },
};

