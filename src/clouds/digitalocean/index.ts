/**
 * DigitalOcean: DOKS GPU node pools, a Spaces bucket for model artifacts and a
 * read-only Spaces access key.
 *
 * What it lacks compared with the other clouds, and what that costs:
 * - no workload identity: pods read Spaces with a static access key the
 *   operator copies into the Secret `spaces-model-reader` (its secret is also
 *   in the Terraform state);
 * - Spaces keys are scoped to a bucket, not a prefix: every model server of the
 *   environment can read every model in it;
 * - no spot GPU capacity, no availability zones (one datacenter per region),
 *   no choice of node disk (it is fixed by the Droplet size);
 * - Spaces encrypts objects only with customer-provided keys (SSE-C), has no
 *   colder storage class and is not known to support the conditional writes of
 *   Terraform's S3 lock file, so state locking is off.
 */
import type { Environment } from '../../declarations/environment.ts';
import { modelArtifactPrefix } from '../../fleet/naming.ts';
import { environmentOf, type CloudIssue, type CloudPlugin } from '../cloud-plugin.ts';
import { type CloudDerivedName, cloudName, cloudNameRule, LOWER_DASH_LETTER_FIRST, poolNames, shortenName } from '../names.ts';
import { DIGITALOCEAN_ENVIRONMENT_FIELDS } from './environment.ts';
import { DIGITALOCEAN_GPU_MACHINES, DIGITALOCEAN_PRICES } from './machines.ts';

/** Spaces bucket names: 3–63 lower-case letters, digits and '-', starting and ending with a letter or digit. */
const SPACES_BUCKET_NAME = cloudNameRule('Spaces bucket', { minLength: 3, maxLength: 63, pattern: /^[a-z0-9][a-z0-9-]*[a-z0-9]$/, alphabet: "lower-case letters, digits and '-'" });

/** DOKS node pool names (kept to DNS labels, as they name the nodes). */
const NODE_POOL_NAME = cloudNameRule('DOKS node pool', { maxLength: 63, pattern: LOWER_DASH_LETTER_FIRST, alphabet: "lower-case letters, digits and '-', starting with a letter" });

/** Secret (created by the operator from the Terraform outputs) holding the Spaces reader key. */
export const SPACES_READER_SECRET = { name: 'spaces-model-reader', accessKeyId: 'access-key-id', secretAccessKey: 'secret-access-key' } as const;

/** DOKS node pool of a pool: `<environment>-<pool>`. */
export function doksNodePoolName(environment: Environment, poolName: string): string {
  return shortenName(`${environment.name}-${poolName}`, NODE_POOL_NAME.maxLength);
}

/** Endpoint of a Spaces region (S3-compatible). */
export function spacesEndpoint(spacesRegion: string): string {
  return `https://${spacesRegion}.digitaloceanspaces.com`;
}

export const asDigitalOcean = (environment: Environment) => environmentOf(environment, 'digitalocean');

export const digitalocean: CloudPlugin<typeof DIGITALOCEAN_ENVIRONMENT_FIELDS> = {
  name: 'digitalocean',
  displayName: 'DigitalOcean (DOKS)',
  environmentFields: DIGITALOCEAN_ENVIRONMENT_FIELDS,
  gpuMachines: DIGITALOCEAN_GPU_MACHINES,
  prices: DIGITALOCEAN_PRICES,
  sellsSpot: false,
  // DOKS installs and manages the NVIDIA driver and device plugin on GPU nodes (llm-d, "llm-d on DOKS", GPU Driver Management).
  clusterDefaults: {
    // DigitalOcean load balancers are always public: an internal Gateway is reachable inside the cluster only.
    internalService: { type: 'ClusterIP' },
    nodeLocalDnsCidrs: [],
  },
  gpuNodeImage: { description: 'DOKS GPU node image (driver and device plugin managed by DigitalOcean)', driver: true, devicePlugin: true, nvidiaDefaultRuntime: false },
  // DOKS autoscales the pools itself (auto_scale).
  nodeAutoscaler: { kind: 'cloud' },

  // The Droplet size fixes the node's disk; DOKS takes no disk setting.
  nodeStorage() {
    return {};
  },

  placement(environment, pool) {
    if (pool.zones) return { path: 'zones', message: `expected no zones: a DigitalOcean region is one datacenter (got ${JSON.stringify(pool.zones)})` };
    return { zones: [], zonesSource: `one datacenter (${environment.region})`, minNodes: pool.minNodes, maxNodes: pool.maxNodes };
  },

  modelUri(environment, modelName, revision) {
    return `s3://${environment.modelBucket}/${modelArtifactPrefix(modelName)}${revision}`;
  },

  // vLLM's Run:ai streamer on an S3-compatible store: endpoint, path-style addressing, no EC2 metadata (vLLM docs, Run:ai model streamer).
  modelStoreVariables(environment) {
    return [
      { name: 'AWS_ENDPOINT_URL', value: spacesEndpoint(asDigitalOcean(environment).spacesRegion) },
      { name: 'AWS_REGION', value: 'us-east-1' },
      { name: 'AWS_EC2_METADATA_DISABLED', value: 'true' },
      { name: 'RUNAI_STREAMER_S3_USE_VIRTUAL_ADDRESSING', value: '0' },
      { name: 'AWS_ACCESS_KEY_ID', secret: { name: SPACES_READER_SECRET.name, key: SPACES_READER_SECRET.accessKeyId } },
      { name: 'AWS_SECRET_ACCESS_KEY', secret: { name: SPACES_READER_SECRET.name, key: SPACES_READER_SECRET.secretAccessKey } },
    ];
  },

  workloadIdentity() {
    return { serviceAccountAnnotations: {}, podLabels: {} };
  },

  derivedNames(environment) {
    const names: CloudDerivedName[] = poolNames(environment, NODE_POOL_NAME, (pool) => doksNodePoolName(environment, pool.name));
    names.push(cloudName(SPACES_BUCKET_NAME, environment.modelBucket, 'modelBucket', 'DigitalOcean Spaces (bucket names are global)'));
    return names;
  },

  crossCheck(): CloudIssue[] {
    return [];
  },
};
