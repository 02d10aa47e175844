/**
 * GCP: GKE node pools with guest accelerators (driver installed by GKE), a GCS
 * model bucket and one Google service account per model server, bound through
 * GKE Workload Identity.
 */
import { ContainerNodePool } from '@cdktf/provider-google/lib/container-node-pool';
import { DataGoogleContainerCluster } from '@cdktf/provider-google/lib/data-google-container-cluster';
import { GoogleProvider } from '@cdktf/provider-google/lib/provider';
import { ServiceAccount } from '@cdktf/provider-google/lib/service-account';
import { ServiceAccountIamMember } from '@cdktf/provider-google/lib/service-account-iam-member';
import { StorageBucket } from '@cdktf/provider-google/lib/storage-bucket';
import { StorageBucketIamMember } from '@cdktf/provider-google/lib/storage-bucket-iam-member';
import { GcsBackend } from 'cdktf';
import { GPU_CATALOGUE, GPU_NODE_TAINT, gpuNodeLabels, machineFor } from '../../../catalogue/gpus.ts';
import { modelArtifactPrefix, modelServerServiceAccount, resourceLabels } from '../../../fleet/naming.ts';
import { gcpReaderAccountId } from '../../../fleet/workload-identity.ts';
import { constructId, TERRAFORM_TAINT_EFFECT, type CloudProvider } from '../cloud-provider.ts';

export const gcpProvider: CloudProvider<DataGoogleContainerCluster, StorageBucket> = {
  cloud: 'gcp',

  configure(stack, environment) {
    new GoogleProvider(stack, 'google', { project: environment.project, region: environment.region, defaultLabels: resourceLabels(environment) });
    if (environment.stateBackend.type === 'gcs') {
      new GcsBackend(stack, { bucket: environment.stateBackend.bucket, prefix: environment.stateBackend.prefix });
    }
  },

  lookUpCluster(stack, environment) {
    return new DataGoogleContainerCluster(stack, 'cluster', { name: environment.cluster, location: environment.region, project: environment.project });
  },

  addGpuNodePool(stack, environment, pool, cluster) {
    const gpu = GPU_CATALOGUE[pool.gpuType];
    const machine = machineFor('gcp', pool.gpuType, pool.gpusPerNode)!;
    new ContainerNodePool(stack, constructId('node-pool', pool.name), {
      name: `${environment.name}-${pool.name}`.slice(0, 40),
      project: environment.project,
      location: environment.region,
      cluster: cluster.name,
      autoscaling: { minNodeCount: pool.minNodes, maxNodeCount: pool.maxNodes },
      management: { autoRepair: true, autoUpgrade: true },
      nodeConfig: {
        machineType: machine.machineType,
        spot: pool.capacity === 'spot',
        diskSizeGb: 200,
        diskType: 'pd-ssd',
        guestAccelerator: [
          {
            type: gpu.clouds.gcp!.acceleratorType!,
            count: pool.gpusPerNode,
            gpuDriverInstallationConfig: { gpuDriverVersion: 'LATEST' },
          },
        ],
        labels: gpuNodeLabels(pool.gpuType),
        resourceLabels: resourceLabels(environment, { 'gpu-type': pool.gpuType, 'node-pool': pool.name }),
        taint: [{ key: GPU_NODE_TAINT.key, value: GPU_NODE_TAINT.value, effect: TERRAFORM_TAINT_EFFECT[GPU_NODE_TAINT.effect] }],
        workloadMetadataConfig: { mode: 'GKE_METADATA' },
        oauthScopes: ['https://www.googleapis.com/auth/cloud-platform'],
        shieldedInstanceConfig: { enableSecureBoot: true, enableIntegrityMonitoring: true },
      },
    });
  },

  addModelBucket(stack, environment) {
    return new StorageBucket(stack, 'model-bucket', {
      name: environment.modelBucket,
      project: environment.project,
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
      labels: resourceLabels(environment, { purpose: 'model-artifacts' }),
    });
  },

  addModelReader(stack, environment, modelName, _cluster, bucket) {
    const account = new ServiceAccount(stack, constructId('reader', modelName), {
      accountId: gcpReaderAccountId(environment, modelName),
      project: environment.project,
      displayName: `llmops ${environment.name} ${modelName} model server`,
      description: `Reads ${modelArtifactPrefix(modelName)} of ${environment.modelBucket} (managed by llmops-gitops)`,
    });
    new StorageBucketIamMember(stack, constructId('reader-objects', modelName), {
      bucket: bucket.name,
      role: 'roles/storage.objectViewer',
      member: `serviceAccount:${account.email}`,
      condition: {
        title: `only-${modelName}`.slice(0, 100),
        description: 'Objects of this model only',
        expression: `resource.name.startsWith("projects/_/buckets/${environment.modelBucket}/objects/${modelArtifactPrefix(modelName)}")`,
      },
    });
    new ServiceAccountIamMember(stack, constructId('reader-workload-identity', modelName), {
      serviceAccountId: account.name,
      role: 'roles/iam.workloadIdentityUser',
      member: `serviceAccount:${environment.project}.svc.id.goog[${environment.namespace}/${modelServerServiceAccount(modelName)}]`,
    });
  },
};
