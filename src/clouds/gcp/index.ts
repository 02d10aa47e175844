/**
 * GCP: GKE node pools with guest accelerators pinned to the zones that sell
 * them (node counts for the whole pool), a GCS model bucket and one Google
 * service account per model server, bound through GKE Workload Identity.
 */
import type { Environment, NodePool } from '../../declarations/environment.ts';
import { modelArtifactPrefix } from '../../fleet/naming.ts';
import { environmentOf, type CloudIssue, type CloudPlugin } from '../cloud-plugin.ts';
import { LOWER_DASH_LETTER_FIRST, poolNames, shortenName, type DerivedName, type NameRule } from '../names.ts';
import { GCP_ENVIRONMENT_FIELDS } from './environment.ts';
import { GCP_GPU_MACHINES, GCP_GPU_ZONES, GCP_PRICES } from './machines.ts';

/** GKE node pool names: at most 40 lower-case letters, digits and '-', starting with a letter. */
const NODE_POOL_NAME: NameRule = { what: 'GKE node pool name', maxLength: 40, pattern: LOWER_DASH_LETTER_FIRST, alphabet: "lower-case letters, digits and '-', starting with a letter" };

/** IAM service account ids: 6–30 lower-case letters, digits and '-', starting with a letter. */
const SERVICE_ACCOUNT_ID: NameRule = { what: 'Google service account id', minLength: 6, maxLength: 30, pattern: LOWER_DASH_LETTER_FIRST, alphabet: "lower-case letters, digits and '-', starting with a letter" };

/** GKE node pool of a pool: `<environment>-<pool>`, shortened with a hash beyond 40 characters. */
export function gkeNodePoolName(environment: Environment, pool: NodePool): string {
  return shortenName(`${environment.name}-${pool.name}`, NODE_POOL_NAME.maxLength);
}

/** Google service account id of a model's servers. */
export function readerAccountId(environment: Environment, modelName: string): string {
  return shortenName(`${environment.name}-${modelName}`, SERVICE_ACCOUNT_ID.maxLength);
}

/** Google service account the GPU nodes run as (least privilege, not the Compute Engine default). */
export function nodeAccountId(environment: Environment): string {
  return shortenName(`${environment.name}-gpu-nodes`, SERVICE_ACCOUNT_ID.maxLength);
}

export const asGcp = (environment: Environment) => environmentOf(environment, 'gcp');

export const gcp: CloudPlugin<typeof GCP_ENVIRONMENT_FIELDS> = {
  name: 'gcp',
  displayName: 'GCP (GKE)',
  environmentFields: GCP_ENVIRONMENT_FIELDS,
  gpuMachines: GCP_GPU_MACHINES,
  prices: GCP_PRICES,
  sellsSpot: true,
  // GKE Workload Identity answers on the node's metadata server.
  metadataEndpoint: { cidr: '169.254.169.254/32', ports: [80, 988] },
  clusterDefaults: {
    gatewayClass: 'gke-l7-global-external-managed',
    // Google Front End and health-check ranges: GFE-based load balancers (the global external Application Load
    // Balancer behind gke-l7-global-external-managed) reach container-native NEG backends from these
    // (cloud.google.com/load-balancing/docs/firewall-rules).
    gatewaySources: [{ cidr: '35.191.0.0/16' }, { cidr: '130.211.0.0/22' }],
    nodeLocalDnsCidrs: ['169.254.20.10/32'],
    // GKE's Filestore CSI driver creates it.
    readWriteManyStorageClass: 'standard-rwx',
  },
  // GKE installs the driver (gpu_driver_installation_config) and runs its own NVIDIA device plugin on GPU nodes.
  gpuNodeImage: { description: 'GKE Container-Optimized OS, driver installed by GKE (DEFAULT version)', driver: true, devicePlugin: true },

  placement(environment, pool) {
    const known = GCP_GPU_ZONES[environment.region]?.[pool.gpuType];
    const zones = pool.zones ?? known;
    if (!zones) {
      return { path: 'zones', message: `required on gcp for ${pool.gpuType} in ${environment.region}: expected the zones that sell it, such as ["${environment.region}-a"]; the catalogue does not list them (got nothing)` };
    }
    // Node counts are set with total_min/max_node_count, so the declared counts are the whole pool's.
    return { zones, zonesSource: pool.zones ? 'declared' : 'catalogue', minNodes: pool.minNodes, maxNodes: pool.maxNodes };
  },

  modelUri(environment, modelName, revision) {
    return `gs://${environment.modelBucket}/${modelArtifactPrefix(modelName)}${revision}`;
  },

  // The Run:ai streamer reads GCS with Application Default Credentials from the metadata server.
  modelStoreVariables() {
    return [];
  },

  workloadIdentity(environment, modelName) {
    return {
      serviceAccountAnnotations: { 'iam.gke.io/gcp-service-account': `${readerAccountId(environment, modelName)}@${asGcp(environment).project}.iam.gserviceaccount.com` },
      podLabels: {},
    };
  },

  derivedNames(environment, modelNames) {
    const project = asGcp(environment).project;
    const names: DerivedName[] = poolNames(environment, NODE_POOL_NAME, 'gke-node-pools', (pool) => gkeNodePoolName(environment, pool));
    names.push({ field: 'name', rule: SERVICE_ACCOUNT_ID, value: nodeAccountId(environment), scope: `service-accounts/${project}` });
    for (const modelName of modelNames) {
      names.push({ field: `deployments.${modelName}`, rule: SERVICE_ACCOUNT_ID, value: readerAccountId(environment, modelName), scope: `service-accounts/${project}` });
    }
    return names;
  },

  crossCheck(environment) {
    const issues: CloudIssue[] = [];
    environment.nodePools.forEach((pool, index) => {
      const known = GCP_GPU_ZONES[environment.region]?.[pool.gpuType];
      for (const zone of pool.zones ?? []) {
        if (!zone.startsWith(`${environment.region}-`) || (known && !known.includes(zone))) {
          const offered = known ? `zones of ${environment.region} that sell ${pool.gpuType} (${known.join(', ')})` : `zones of ${environment.region}`;
          issues.push({ path: `nodePools[${index}].zones`, message: `expected ${offered} (got ${JSON.stringify(zone)})` });
        }
      }
    });
    return issues;
  },
};
