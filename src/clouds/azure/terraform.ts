/**
 * Azure Terraform: AKS user node pools on N-series VMs (driver installed by
 * AKS, spot taint and label declared as AKS sets them); a key-less storage
 * account that admits only the cluster's node subnet, managed through Azure
 * Resource Manager alone, with one private container per model; one
 * user-assigned identity per model server, federated with the cluster's OIDC
 * issuer and allowed to read only its model's container.
 */
import { DataAzurermKubernetesCluster } from '@cdktf/provider-azurerm/lib/data-azurerm-kubernetes-cluster';
import { DataAzurermSubnet } from '@cdktf/provider-azurerm/lib/data-azurerm-subnet';
import { FederatedIdentityCredential } from '@cdktf/provider-azurerm/lib/federated-identity-credential';
import { KubernetesClusterNodePool } from '@cdktf/provider-azurerm/lib/kubernetes-cluster-node-pool';
import { AzurermProvider } from '@cdktf/provider-azurerm/lib/provider';
import { RoleAssignment } from '@cdktf/provider-azurerm/lib/role-assignment';
import { StorageAccount } from '@cdktf/provider-azurerm/lib/storage-account';
import { StorageContainer } from '@cdktf/provider-azurerm/lib/storage-container';
import { StorageManagementPolicy } from '@cdktf/provider-azurerm/lib/storage-management-policy';
import { UserAssignedIdentity } from '@cdktf/provider-azurerm/lib/user-assigned-identity';
import { AzurermBackend, Fn, Op, Token, type TerraformStack } from 'cdktf';
import { resourceLabels, serviceAccountSubject } from '../../fleet/naming.ts';
import { constructId, type CloudTerraform } from '../cloud-terraform.ts';
import { shortenName } from '../names.ts';
import { AKS_SPOT_TAINT, aksPoolName, asAzure, modelContainerName, readerIdentityName } from './index.ts';

interface AzureBucket {
  readonly account: StorageAccount;
  readonly containers: ReadonlyMap<string, StorageContainer>;
}

/**
 * The cluster's node subnet, read so the plan stops before the storage account
 * is closed to everything else: a storage firewall rule for a subnet needs the
 * subnet's `Microsoft.Storage` service endpoint (Azure docs, "Configure Azure
 * Storage firewalls and virtual networks"), or the nodes cannot read the models.
 * The id is split into its resource group, virtual network and subnet name
 * (`/subscriptions/…/resourceGroups/<rg>/providers/Microsoft.Network/virtualNetworks/<vnet>/subnets/<subnet>`).
 */
function storageReachingNodeSubnet(stack: TerraformStack, cluster: DataAzurermKubernetesCluster): DataAzurermSubnet {
  const subnetId = cluster.agentPoolProfile.get(0).vnetSubnetId;
  const part = (index: number) => Fn.element(Fn.split('/', subnetId), index);
  return new DataAzurermSubnet(stack, 'node-subnet', {
    resourceGroupName: part(4),
    virtualNetworkName: part(8),
    name: part(10),
    lifecycle: {
      precondition: [
        {
          condition: Op.neq(subnetId, Token.nullValue()),
          errorMessage: 'The model storage account admits only the cluster node subnet, but the cluster has no subnet of its own (vnet_subnet_id); use a cluster in your own VNet.',
        },
      ],
      postcondition: [
        {
          condition: '${contains(self.service_endpoints, "Microsoft.Storage") || contains(self.service_endpoints, "Microsoft.Storage.Global")}',
          errorMessage:
            'The cluster node subnet has no Microsoft.Storage service endpoint, so the model storage account (closed to every other network) would refuse the nodes; add the endpoint to the subnet.',
        },
      ],
    },
  });
}

/** Federated identity credential names: at most 120 characters. */
const FEDERATED_CREDENTIAL_MAX_LENGTH = 120;

const taintText = (taint: { key: string; value: string; effect: string }): string => `${taint.key}=${taint.value}:${taint.effect}`;

export const azureTerraform: CloudTerraform<DataAzurermKubernetesCluster, AzureBucket> = {
  configure(stack, environment) {
    // The subscription comes from ARM_SUBSCRIPTION_ID in the pipeline, never from the repository. With shared keys
    // off, the provider must not call the storage data plane (it reads queue properties with a key: azurerm #27752,
    // #29984); containers are created through Resource Manager (storage_account_id) instead.
    new AzurermProvider(stack, 'azurerm', { features: [{ storage: [{ dataPlaneAvailable: false }] }], storageUseAzuread: true });
    if (environment.stateBackend.type !== 'azurerm') throw new Error(`azure environments keep state in azurerm (got ${environment.stateBackend.type})`);
    const { resourceGroupName, storageAccountName, containerName, key } = environment.stateBackend;
    new AzurermBackend(stack, { resourceGroupName, storageAccountName, containerName, key, useAzureadAuth: true });
  },

  lookUpCluster(stack, environment) {
    return new DataAzurermKubernetesCluster(stack, 'cluster', { name: environment.cluster, resourceGroupName: asAzure(environment).resourceGroup });
  },

  addGpuNodePool(stack, environment, planned, cluster) {
    const { pool, machine, placement } = planned;
    const spot = pool.capacity === 'spot';
    new KubernetesClusterNodePool(stack, constructId('node-pool', pool.name), {
      name: aksPoolName(pool),
      kubernetesClusterId: cluster.id,
      vmSize: machine.machineType,
      mode: 'User',
      osSku: 'Ubuntu',
      osDiskSizeGb: planned.storage.bootDiskGiB,
      // The NVIDIA device plugin (or the GPU Operator with its driver disabled) runs in the cluster.
      gpuDriver: 'Install',
      // The subnet the storage account admits; unset when the cluster has none of its own.
      vnetSubnetId: cluster.agentPoolProfile.get(0).vnetSubnetId,
      zones: placement.zones.length > 0 ? [...placement.zones] : undefined,
      autoScalingEnabled: true,
      minCount: pool.minNodes,
      maxCount: pool.maxNodes,
      priority: spot ? 'Spot' : 'Regular',
      evictionPolicy: spot ? 'Delete' : undefined,
      spotMaxPrice: spot ? -1 : undefined,
      nodeLabels: { ...planned.labels, ...(spot ? { [AKS_SPOT_TAINT.key]: AKS_SPOT_TAINT.value } : {}) },
      nodeTaints: [...planned.taints, ...(spot ? [AKS_SPOT_TAINT] : [])].map(taintText),
      // Scarce GPUs: upgrade one node at a time instead of asking for a surge node (AKS allows no surge on spot pools).
      upgradeSettings: spot ? undefined : { maxSurge: '0', maxUnavailable: '1', drainTimeoutInMinutes: 30 },
      tags: resourceLabels(environment, { 'gpu-type': pool.gpuType, 'node-pool': pool.name }),
      // The cluster autoscaler owns the node count between min and max.
      lifecycle: { ignoreChanges: ['node_count'] },
    });
  },

  addModelBucket(stack, environment, modelNames, cluster) {
    const { resourceGroup } = asAzure(environment);
    const nodeSubnet = storageReachingNodeSubnet(stack, cluster).id;
    const account = new StorageAccount(stack, 'model-bucket', {
      name: environment.modelBucket,
      resourceGroupName: resourceGroup,
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
      // Only the cluster's node subnet (with the Microsoft.Storage service endpoint) reaches the data.
      networkRules: { defaultAction: 'Deny', bypass: ['AzureServices'], virtualNetworkSubnetIds: [nodeSubnet] },
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
        new StorageContainer(stack, constructId('model-container', modelName), { name: modelContainerName(modelName), storageAccountId: account.id, containerAccessType: 'private' }),
      ]),
    );
    return { account, containers };
  },

  addModelReader(stack, environment, modelName, cluster, bucket) {
    const { resourceGroup } = asAzure(environment);
    const identity = new UserAssignedIdentity(stack, constructId('reader', modelName), {
      name: readerIdentityName(environment, modelName),
      resourceGroupName: resourceGroup,
      location: environment.region,
      tags: resourceLabels(environment, { model: modelName }),
    });
    new FederatedIdentityCredential(stack, constructId('reader-federation', modelName), {
      name: shortenName(`${environment.cluster}-${modelName}`, FEDERATED_CREDENTIAL_MAX_LENGTH),
      resourceGroupName: resourceGroup,
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
    return identity.clientId;
  },
};
