/**
 * GCP Terraform: GKE node pools pinned to the zones that sell their GPUs, with
 * node counts for the whole pool (total_min/max_node_count: autoscaling
 * min/max_node_count would be per zone), running as a least-privilege node
 * service account; a GCS model bucket; one Google service account per model
 * server that can list and read only its model's prefix, bound through GKE
 * Workload Identity.
 */
import { ContainerNodePool } from '@cdktf/provider-google/lib/container-node-pool';
import { DataGoogleContainerCluster } from '@cdktf/provider-google/lib/data-google-container-cluster';
import { ProjectIamMember } from '@cdktf/provider-google/lib/project-iam-member';
import { GoogleProvider } from '@cdktf/provider-google/lib/provider';
import { ServiceAccount } from '@cdktf/provider-google/lib/service-account';
import { ServiceAccountIamMember } from '@cdktf/provider-google/lib/service-account-iam-member';
import { StorageBucket } from '@cdktf/provider-google/lib/storage-bucket';
import { StorageBucketIamMember } from '@cdktf/provider-google/lib/storage-bucket-iam-member';
import { GcsBackend, type TerraformStack } from 'cdktf';
import type { Environment } from '../../declarations/environment.ts';
import { modelArtifactPrefix, modelServerServiceAccount, resourceLabels } from '../../fleet/naming.ts';
import { constructId, TERRAFORM_TAINT_EFFECT, type CloudTerraform } from '../cloud-terraform.ts';
import { asGcp, gkeNodePoolName, nodeAccountId, readerAccountId } from './index.ts';
import { GCP_ACCELERATOR_TYPES } from './machines.ts';

/** GCP label keys take '_' where ours have '-': one spelling, so no resource carries a label twice. */
function gcpLabels(labels: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(labels).map(([key, value]) => [key.replace(/-/g, '_'), value]));
}

export const gcpTerraform: CloudTerraform<DataGoogleContainerCluster, StorageBucket> = {
  configure(stack, environment) {
    const { project } = asGcp(environment);
    new GoogleProvider(stack, 'google', { project, region: environment.region, defaultLabels: gcpLabels(resourceLabels(environment)) });
    if (environment.stateBackend.type !== 'gcs') throw new Error(`gcp environments keep state in gcs (got ${environment.stateBackend.type})`);
    new GcsBackend(stack, { bucket: environment.stateBackend.bucket, prefix: environment.stateBackend.prefix });
  },

  lookUpCluster(stack, environment) {
    return new DataGoogleContainerCluster(stack, 'cluster', { name: environment.cluster, location: environment.region, project: asGcp(environment).project });
  },

  addGpuNodePool(stack, environment, planned, cluster) {
    const { pool, machine, placement } = planned;
    const zones = placement.zones;
    new ContainerNodePool(stack, constructId('node-pool', pool.name), {
      name: gkeNodePoolName(environment, pool),
      project: asGcp(environment).project,
      location: environment.region,
      cluster: cluster.name,
      nodeLocations: [...zones],
      // Per zone, and only read when the pool is created: never more than the pool's minimum in total (rounding up
      // would start a node in every zone — three H100 machines for a minimum of one); pending replicas make the
      // autoscaler add the rest.
      initialNodeCount: Math.floor(placement.minNodes / zones.length),
      autoscaling: {
        totalMinNodeCount: placement.minNodes,
        totalMaxNodeCount: placement.maxNodes,
        // Spot capacity comes from whichever zone has it; on-demand nodes spread evenly.
        locationPolicy: pool.capacity === 'spot' ? 'ANY' : 'BALANCED',
      },
      management: { autoRepair: true, autoUpgrade: true },
      // Scarce GPUs: upgrade one node at a time instead of asking for a surge node that may not exist.
      upgradeSettings: { strategy: 'SURGE', maxSurge: 0, maxUnavailable: 1 },
      nodeConfig: {
        machineType: machine.machineType,
        spot: pool.capacity === 'spot',
        diskSizeGb: planned.storage.bootDiskGiB,
        diskType: 'pd-ssd',
        // Bundled local SSDs hold the pods' ephemeral storage and the images instead of the boot disk.
        ...(planned.storage.localSsdCount ? { ephemeralStorageLocalSsdConfig: { localSsdCount: planned.storage.localSsdCount } } : {}),
        guestAccelerator: [
          {
            type: GCP_ACCELERATOR_TYPES[pool.gpuType]!,
            count: pool.gpusPerNode,
            // The driver GKE pins for the node version, not whatever is newest.
            gpuDriverInstallationConfig: { gpuDriverVersion: 'DEFAULT' },
          },
        ],
        labels: { ...planned.labels },
        resourceLabels: gcpLabels({ 'gpu-type': pool.gpuType, 'node-pool': pool.name }),
        taint: planned.taints.map((taint) => ({ key: taint.key, value: taint.value, effect: TERRAFORM_TAINT_EFFECT[taint.effect] })),
        workloadMetadataConfig: { mode: 'GKE_METADATA' },
        serviceAccount: nodeServiceAccount(stack, environment).email,
        // With a least-privilege service account, Google recommends the cloud-platform scope and IAM for access control.
        oauthScopes: ['https://www.googleapis.com/auth/cloud-platform'],
        shieldedInstanceConfig: { enableSecureBoot: true, enableIntegrityMonitoring: true },
      },
      lifecycle: { ignoreChanges: ['initial_node_count'] },
    });
  },

  addModelBucket(stack, environment) {
    return new StorageBucket(stack, 'model-bucket', {
      name: environment.modelBucket,
      project: asGcp(environment).project,
      location: environment.region.toUpperCase(),
      storageClass: 'STANDARD',
      uniformBucketLevelAccess: true,
      publicAccessPrevention: 'enforced',
      versioning: { enabled: true },
      // Encrypted at rest with Google-managed keys (GCS default); set a CMEK here if policy requires one.
      softDeletePolicy: { retentionDurationSeconds: 7 * 24 * 3600 },
      lifecycleRule: [
        { condition: { withState: 'ARCHIVED', daysSinceNoncurrentTime: 30 }, action: { type: 'SetStorageClass', storageClass: 'COLDLINE' } },
        { condition: { withState: 'ARCHIVED', daysSinceNoncurrentTime: 365 }, action: { type: 'Delete' } },
      ],
      labels: gcpLabels({ purpose: 'model-artifacts' }),
    });
  },

  addModelReader(stack, environment, modelName, _cluster, bucket) {
    const { project } = asGcp(environment);
    const account = new ServiceAccount(stack, constructId('reader', modelName), {
      accountId: readerAccountId(environment, modelName),
      project,
      displayName: `llmops ${environment.name} ${modelName} model server`,
      description: `Reads ${modelArtifactPrefix(modelName)} of ${environment.modelBucket} (managed by llmops-gitops)`,
    });
    const prefix = modelArtifactPrefix(modelName);
    new StorageBucketIamMember(stack, constructId('reader-objects', modelName), {
      bucket: bucket.name,
      role: 'roles/storage.objectViewer',
      member: `serviceAccount:${account.email}`,
      condition: {
        title: `only-${modelName}`.slice(0, 100),
        description: 'Objects of this model only, and listing its prefix',
        // Object reads are checked on the object's name; a list is checked on the bucket, with the listed
        // prefix in storage.googleapis.com/objectListPrefix (GCS IAM Conditions documentation).
        expression:
          `resource.name.startsWith("projects/_/buckets/${environment.modelBucket}/objects/${prefix}") || ` + `api.getAttribute("storage.googleapis.com/objectListPrefix", "").startsWith("${prefix}")`,
      },
    });
    new ServiceAccountIamMember(stack, constructId('reader-workload-identity', modelName), {
      serviceAccountId: account.name,
      role: 'roles/iam.workloadIdentityUser',
      member: `serviceAccount:${project}.svc.id.goog[${environment.namespace}/${modelServerServiceAccount(modelName)}]`,
    });
    return account.email;
  },
};

/** The GPU nodes' own service account with GKE's minimal node role, created once per stack. */
function nodeServiceAccount(stack: TerraformStack, environment: Environment): ServiceAccount {
  const existing = stack.node.tryFindChild('gpu-node-account');
  if (existing) return existing as ServiceAccount;
  const { project } = asGcp(environment);
  const account = new ServiceAccount(stack, 'gpu-node-account', {
    accountId: nodeAccountId(environment),
    project,
    displayName: `llmops ${environment.name} GPU nodes`,
  });
  // "Kubernetes Engine Default Node Service Account": logs, metrics and image pulls, nothing else (GKE hardening guide).
  new ProjectIamMember(stack, 'gpu-node-account-role', { project, role: 'roles/container.defaultNodeServiceAccount', member: `serviceAccount:${account.email}` });
  return account;
}
