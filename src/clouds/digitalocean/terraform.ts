/**
 * DigitalOcean Terraform: DOKS GPU node pools (autoscaled; DOKS manages the
 * driver and the device plugin), a private, versioned Spaces bucket, and one
 * read-only Spaces key for the environment's model servers (Spaces has no
 * workload identity and no prefix-scoped keys).
 */
import { DataDigitaloceanKubernetesCluster } from '@cdktf/provider-digitalocean/lib/data-digitalocean-kubernetes-cluster';
import { KubernetesNodePool } from '@cdktf/provider-digitalocean/lib/kubernetes-node-pool';
import { DigitaloceanProvider } from '@cdktf/provider-digitalocean/lib/provider';
import { SpacesBucket } from '@cdktf/provider-digitalocean/lib/spaces-bucket';
import { SpacesKey } from '@cdktf/provider-digitalocean/lib/spaces-key';
import { S3Backend, TerraformOutput, type TerraformStack } from 'cdktf';
import type { Environment } from '../../declarations/environment.ts';
import { resourceLabels } from '../../fleet/naming.ts';
import { constructId, type CloudTerraform } from '../cloud-terraform.ts';
import { asDigitalOcean, doksNodePoolName, spacesEndpoint } from './index.ts';

/** DigitalOcean tags: letters, digits, ':', '-' and '_' (no '='), so labels become `key:value`. */
function tags(labels: Record<string, string>): string[] {
  return Object.entries(labels).map(([key, value]) => `${key}:${value}`);
}

export const digitaloceanTerraform: CloudTerraform<DataDigitaloceanKubernetesCluster, SpacesBucket> = {
  configure(stack, environment) {
    // The API token comes from DIGITALOCEAN_TOKEN and the Spaces keys from SPACES_ACCESS_KEY_ID/SPACES_SECRET_ACCESS_KEY in the pipeline.
    new DigitaloceanProvider(stack, 'digitalocean', {});
    if (environment.stateBackend.type !== 'spaces') throw new Error(`digitalocean environments keep state in spaces (got ${environment.stateBackend.type})`);
    const { bucket, key, region } = environment.stateBackend;
    // Spaces through Terraform's S3 backend: the region is a placeholder the S3 client needs; AWS-only checks are skipped.
    new S3Backend(stack, {
      bucket,
      key,
      region: 'us-east-1',
      endpoints: { s3: spacesEndpoint(region) },
      skipCredentialsValidation: true,
      skipRequestingAccountId: true,
      skipMetadataApiCheck: true,
      skipRegionValidation: true,
      skipS3Checksum: true,
    });
  },

  lookUpCluster(stack, environment) {
    return new DataDigitaloceanKubernetesCluster(stack, 'cluster', { name: environment.cluster });
  },

  addGpuNodePool(stack, environment, planned, cluster) {
    const { pool, machine } = planned;
    // The Droplet size fixes the node disk; DigitalOcean offers no disk setting for node pools.
    new KubernetesNodePool(stack, constructId('node-pool', pool.name), {
      clusterId: cluster.id,
      name: doksNodePoolName(environment, pool.name),
      size: machine.machineType,
      autoScale: true,
      minNodes: pool.minNodes,
      maxNodes: pool.maxNodes,
      labels: { ...planned.labels },
      taint: planned.taints.map((taint) => ({ key: taint.key, value: taint.value, effect: taint.effect })),
      tags: tags(resourceLabels(environment, { 'node-pool': pool.name })),
      // The cluster autoscaler owns the node count between min and max.
      lifecycle: { ignoreChanges: ['node_count'] },
    });
  },

  addModelBucket(stack, environment) {
    return new SpacesBucket(stack, 'model-bucket', {
      name: environment.modelBucket,
      region: asDigitalOcean(environment).spacesRegion,
      acl: 'private',
      versioning: { enabled: true },
      // Spaces lifecycle rules are time-based only: no colder storage class to move old versions to.
      lifecycleRule: [{ id: 'old-versions', enabled: true, abortIncompleteMultipartUploadDays: 7, noncurrentVersionExpiration: { days: 365 } }],
    });
  },

  addModelReader(stack, environment, _modelName, _cluster, bucket) {
    return readerKey(stack, environment, bucket).accessKey;
  },
};

/** The environment's read-only Spaces key (one per environment: Spaces keys are scoped to a bucket, not to a prefix). */
function readerKey(stack: TerraformStack, environment: Environment, bucket: SpacesBucket): SpacesKey {
  const existing = stack.node.tryFindChild('model-reader-key');
  if (existing) return existing as SpacesKey;
  const key = new SpacesKey(stack, 'model-reader-key', { name: `${environment.name}-model-reader`, grant: [{ bucket: bucket.name, permission: 'read' }] });
  new TerraformOutput(stack, 'spaces-model-reader-secret-key', {
    description: 'Secret of the Spaces key the model servers read with: copy it into the Secret spaces-model-reader (key secret-access-key)',
    value: key.secretKey,
    sensitive: true,
  });
  return key;
}
