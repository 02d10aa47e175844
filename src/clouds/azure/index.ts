/**
 * Azure: AKS user node pools on N-series VMs, a key-less storage account with
 * one private container per model, and one user-assigned identity per model
 * server, federated with the cluster's OIDC issuer (AKS Workload Identity).
 */
import type { Environment, NodePool } from '../../declarations/environment.ts';
import { NODEFS_EVICTION_RATIO, smallestDiskGiB } from '../../fleet/storage.ts';
import { environmentOf, type CloudIssue, type CloudPlugin, type WorkloadIdentityBinding } from '../cloud-plugin.ts';
import { type CloudDerivedName, cloudName, cloudNameRule, poolNames, shortenName } from '../names.ts';
import { AZURE_ENVIRONMENT_FIELDS } from './environment.ts';
import { AZURE_GPU_MACHINES, AZURE_PRICES } from './machines.ts';

/** AKS Linux node pool names: 1–12 lower-case letters and digits, starting with a letter. */
const AKS_POOL_NAME = cloudNameRule('AKS node pool', { maxLength: 12, pattern: /^[a-z][a-z0-9]*$/, alphabet: 'lower-case letters and digits, starting with a letter' });

/** Blob container names: 3–63 lower-case letters, digits and single '-', starting and ending with a letter or digit. */
const CONTAINER_NAME = cloudNameRule('Azure blob container', { minLength: 3, maxLength: 63, pattern: /^[a-z0-9](?!.*--)[a-z0-9-]*[a-z0-9]$/, alphabet: "lower-case letters, digits and single '-'" });

/** Managed identity names: 3–128 letters, digits, '-' and '_', starting with a letter or digit. */
const IDENTITY_NAME = cloudNameRule('Azure managed identity', { minLength: 3, maxLength: 128, pattern: /^[A-Za-z0-9][A-Za-z0-9_-]*$/, alphabet: "letters, digits, '-' and '_'" });

/** Storage account names: 3–24 lower-case letters and digits. */
const STORAGE_ACCOUNT_NAME = cloudNameRule('Azure storage account', { minLength: 3, maxLength: 24, pattern: /^[a-z0-9]+$/, alphabet: 'lower-case letters and digits' });

/** AKS spot pools: AKS adds this taint and label by itself; declaring both keeps Terraform from a perpetual diff. */
export const AKS_SPOT_TAINT = { key: 'kubernetes.azure.com/scalesetpriority', value: 'spot', effect: 'NoSchedule' } as const;

/** AKS pool of a pool: its name without '-', shortened with a hash beyond 12 characters. */
export function aksPoolName(pool: NodePool): string {
  return shortenName(pool.name.replace(/-/g, ''), AKS_POOL_NAME.maxLength, '');
}

/** The blob container holding a model's artifacts (one per model, so a reader is scoped to its model). */
export function modelContainerName(modelName: string): string {
  return modelName;
}

/** User-assigned identity of a model's servers. */
export function readerIdentityName(environment: Environment, modelName: string): string {
  return shortenName(`${environment.name}-${modelName}-server`, IDENTITY_NAME.maxLength);
}

export const asAzure = (environment: Environment) => environmentOf(environment, 'azure');

/**
 * Allocatable ephemeral storage of an AKS node's OS disk: AKS reserves CPU and
 * memory but no ephemeral storage for the kubelet, and evicts at
 * nodefs.available < 10 % (AKS API, KubeletHardEvictionThreshold.nodeFsAvailable:
 * "must be greater than or equal to the system default of 10%").
 */
const aksAllocatableGiB = (diskGiB: number) => diskGiB * (1 - NODEFS_EVICTION_RATIO);

export const azure: CloudPlugin<typeof AZURE_ENVIRONMENT_FIELDS> = {
  name: 'azure',
  displayName: 'Azure (AKS)',
  environmentFields: AZURE_ENVIRONMENT_FIELDS,
  gpuMachines: AZURE_GPU_MACHINES,
  prices: AZURE_PRICES,
  sellsSpot: true,
  spotNodeTaint: AKS_SPOT_TAINT,
  // AKS installs the driver (gpu_driver = "Install"); the NVIDIA device plugin is the cluster's to run (AKS "Use GPUs" docs).
  clusterDefaults: {
    // An internal Azure Standard Load Balancer (AKS docs, "Use an internal load balancer").
    internalService: { type: 'LoadBalancer', annotations: { 'service.beta.kubernetes.io/azure-load-balancer-internal': 'true' } },
    nodeLocalDnsCidrs: [],
    readWriteManyStorageClass: 'azurefile-csi',
  },
  gpuNodeImage: { description: 'AKS Ubuntu, driver installed by AKS (gpu_driver = Install)', driver: true, devicePlugin: false, nvidiaDefaultRuntime: false },
  // AKS's cluster autoscaler scales the pools (auto_scaling_enabled).
  nodeAutoscaler: { kind: 'cloud' },

  nodeStorage(_machine, need) {
    const bootDiskGiB = smallestDiskGiB(need, aksAllocatableGiB);
    return { bootDiskGiB, allocatableGiB: Math.floor(aksAllocatableGiB(bootDiskGiB)) };
  },

  placement(_environment, pool) {
    const zones = pool.zones ?? [];
    return { zones, zonesSource: zones.length > 0 ? 'declared' : 'not pinned', minNodes: pool.minNodes, maxNodes: pool.maxNodes };
  },

  // The Run:ai streamer reads az://<container>/<path> of the account in AZURE_STORAGE_ACCOUNT_NAME (vLLM docs, Run:ai model streamer).
  modelUri(_environment, modelName, revision) {
    return `az://${modelContainerName(modelName)}/${revision}`;
  },

  modelStoreVariables(environment) {
    return [{ name: 'AZURE_STORAGE_ACCOUNT_NAME', value: environment.modelBucket }];
  },

  // Until the client id from the Terraform output is declared, the pod asks for no Azure identity at all.
  workloadIdentity(environment, modelName): WorkloadIdentityBinding {
    const clientId = asAzure(environment).workloadIdentityClientIds[modelName];
    if (!clientId) return { serviceAccountAnnotations: {}, podLabels: {} };
    return { serviceAccountAnnotations: { 'azure.workload.identity/client-id': clientId }, podLabels: { 'azure.workload.identity/use': 'true' } };
  },

  derivedNames(environment, modelNames) {
    const group = asAzure(environment).resourceGroup;
    const names: CloudDerivedName[] = poolNames(environment, AKS_POOL_NAME, aksPoolName);
    names.push(cloudName(STORAGE_ACCOUNT_NAME, environment.modelBucket, 'modelBucket', 'Azure (storage account names are global)'));
    for (const modelName of modelNames) {
      names.push(cloudName(CONTAINER_NAME, modelContainerName(modelName), `deployments.${modelName}`, `storage account ${environment.modelBucket}`));
      names.push(cloudName(IDENTITY_NAME, readerIdentityName(environment, modelName), `deployments.${modelName}`, `resource group ${group}`));
    }
    return names;
  },

  crossCheck(environment, modelNames) {
    const issues: CloudIssue[] = [];
    for (const modelName of Object.keys(asAzure(environment).workloadIdentityClientIds)) {
      if (!modelNames.includes(modelName)) {
        issues.push({ path: `workloadIdentityClientIds.${modelName}`, message: `expected a model deployed in this environment (${modelNames.join(', ')}) (got ${JSON.stringify(modelName)})` });
      }
    }
    environment.nodePools.forEach((pool, index) => {
      for (const zone of pool.zones ?? []) {
        if (!['1', '2', '3'].includes(zone)) issues.push({ path: `nodePools[${index}].zones`, message: `expected Azure availability zones "1", "2" or "3" (got ${JSON.stringify(zone)})` });
      }
    });
    return issues;
  },
};
