/**
 * GCP: GKE node pools with guest accelerators pinned to the zones that sell
 * them (node counts for the whole pool), a GCS model bucket and one Google
 * service account per model server, bound through GKE Workload Identity.
 */
import type { Environment, NodePool } from '../../declarations/environment.ts';
import { modelArtifactPrefix } from '../../fleet/naming.ts';
import type { NetworkPeer } from '../../declarations/network.ts';
import { NODEFS_EVICTION_RATIO, smallestDiskGiB } from '../../fleet/storage.ts';
import { environmentOf, type BackendService, type CloudIssue, type CloudPlugin } from '../cloud-plugin.ts';
import { type CloudDerivedName, cloudName, cloudNameRule, LOWER_DASH_LETTER_FIRST, poolNames, shortenName } from '../names.ts';
import { GCP_ENVIRONMENT_FIELDS } from './environment.ts';
import { GCP_GPU_MACHINES, GCP_GPU_ZONES, GCP_PRICES } from './machines.ts';

/** GKE node pool names: at most 40 lower-case letters, digits and '-', starting with a letter. */
const NODE_POOL_NAME = cloudNameRule('GKE node pool', { maxLength: 40, pattern: LOWER_DASH_LETTER_FIRST, alphabet: "lower-case letters, digits and '-', starting with a letter" });

/** IAM service account ids: 6–30 lower-case letters, digits and '-', starting with a letter. */
const SERVICE_ACCOUNT_ID = cloudNameRule('Google service account', {
  minLength: 6,
  maxLength: 30,
  pattern: LOWER_DASH_LETTER_FIRST,
  alphabet: "lower-case letters, digits and '-', starting with a letter",
});

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

/**
 * Google's health-check probers and the Google Front Ends of the global external
 * Application Load Balancer (cloud.google.com/load-balancing/docs/firewall-rules):
 * every GKE Gateway's health checks come from here, a global one's requests too.
 */
const GOOGLE_FRONT_ENDS: readonly NetworkPeer[] = [{ cidr: '35.191.0.0/16' }, { cidr: '130.211.0.0/22' }];

/** GKE GatewayClasses whose Envoy-based proxies sit in the region's proxy-only subnet (regional external and internal Application Load Balancers). */
const REGIONAL_GATEWAY_CLASSES = ['gke-l7-rilb', 'gke-l7-regional-external-managed'];
/** GKE GatewayClasses served by the Google Front Ends. */
const GLOBAL_GATEWAY_CLASSES = ['gke-l7-global-external-managed', 'gke-l7-gxlb'];

/** GiB of one GCP local SSD. */
const LOCAL_SSD_GIB = 375;

/** Boot disk of a node whose ephemeral storage lives on local SSDs (the OS only), GiB: GKE's default size. */
const OS_ONLY_BOOT_DISK_GIB = 100;

/**
 * The share of a node's ephemeral-storage disk GKE reserves for the system
 * (kube-reserved): min(50 %, 6 GiB + 35 %, 100 GiB) of it (GKE docs, "Plan GKE
 * Standard node sizes", local ephemeral storage reservation).
 */
const gkeSystemReservationGiB = (diskGiB: number) => Math.min(0.5 * diskGiB, 6 + 0.35 * diskGiB, 100);

/**
 * Allocatable ephemeral storage of a GKE node on a Container-Optimized OS boot
 * disk: the filesystem left after the OS partitions (1.5635 % + 4.148 GiB, and
 * min(100 MiB, 0.1 %) of over-provisioning: kubernetes/autoscaler
 * cluster-autoscaler/cloudprovider/gce/gce_reserved.go,
 * CalculateOSReservedEphemeralStorage), less the system reservation and the
 * kubelet's 10 % eviction threshold. GKE's own example, a 100 GiB disk with
 * capacity 98,831,908 KiB and allocatable 47,060,071,478 B (43.8 GiB), comes out
 * at 43.77 GiB.
 */
export function gkeBootDiskAllocatableGiB(diskGiB: number): number {
  const capacity = diskGiB - (0.015635 * diskGiB + 4.148) - Math.min(100 / 1024, 0.001 * diskGiB);
  return capacity - gkeSystemReservationGiB(diskGiB) - NODEFS_EVICTION_RATIO * capacity;
}

/**
 * Allocatable ephemeral storage of a GKE node whose ephemeral storage is on
 * `count` local SSDs: their 375 GiB each, less the filesystem overhead
 * cluster-autoscaler measured on COS (gce_reserved.go,
 * ephemeralStorageOnLocalSSDFilesystemOverheadInKiBByOSAndDiskCount), the
 * system reservation and the 10 % eviction threshold.
 */
function gkeLocalSsdAllocatableGiB(count: number): number {
  const overheadKiB: Record<number, number> = { 1: 7289472, 2: 13725224, 4: 26332924, 8: 51556096, 16: 52837800 };
  const capacity = count * LOCAL_SSD_GIB - (overheadKiB[count] ?? overheadKiB[16]) / 2 ** 20;
  return capacity - gkeSystemReservationGiB(capacity) - NODEFS_EVICTION_RATIO * capacity;
}

/** Whether a GatewayClass is one of GKE's own (its load balancer reads HealthCheckPolicy and GCPBackendPolicy). */
function isGkeGatewayClass(className: string | undefined): boolean {
  return className?.startsWith('gke-l7-') === true;
}

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
    // The regional internal Application Load Balancer, or the global external one.
    gatewayClasses: { internal: 'gke-l7-rilb', public: 'gke-l7-global-external-managed' },
    // GKE's internal passthrough Network Load Balancer (Kubernetes docs, "Service: internal load balancer").
    internalService: { type: 'LoadBalancer', annotations: { 'networking.gke.io/load-balancer-type': 'Internal' } },
    // NodeLocal DNSCache, and Cloud DNS for GKE, where the kubelet points every pod's resolv.conf at the metadata
    // server (tektoncd/operator#4000: only an ipBlock peer admits it).
    nodeLocalDnsCidrs: ['169.254.20.10/32', '169.254.169.254/32'],
    // GKE's Filestore CSI driver creates it.
    readWriteManyStorageClass: 'standard-rwx',
  },

  gatewaySources(environment, className) {
    if (GLOBAL_GATEWAY_CLASSES.includes(className)) return GOOGLE_FRONT_ENDS;
    if (!REGIONAL_GATEWAY_CLASSES.includes(className)) return undefined;
    const subnet = asGcp(environment).proxyOnlySubnet;
    if (!subnet) {
      return {
        path: 'proxyOnlySubnet',
        message: `required with gateway class "${className}": expected the CIDR of the region's proxy-only subnet (purpose REGIONAL_MANAGED_PROXY), which the load balancer's proxies reach the model servers from (got nothing); or declare network.gatewaySources`,
      };
    }
    return [{ cidr: subnet }, ...GOOGLE_FRONT_ENDS];
  },

  // GKE's load balancers health-check "/" and cut requests after 30 s unless a policy on the Service says otherwise
  // (GKE docs, "Configure Gateway resources using Policies": HealthCheckPolicy requestPath default "/", GCPBackendPolicy
  // timeoutSec default 30); vLLM answers only on /health. An existing Gateway on GKE is taken to be GKE's.
  backendServicePolicies(backend: BackendService) {
    if (backend.gatewayClass !== undefined && !isGkeGatewayClass(backend.gatewayClass)) return [];
    const targetRef = { group: '', kind: 'Service', name: backend.name };
    const metadata = { name: backend.name, namespace: backend.namespace, labels: { 'app.kubernetes.io/managed-by': 'llmops-gitops' } };
    return [
      {
        apiVersion: 'networking.gke.io/v1',
        kind: 'HealthCheckPolicy',
        metadata,
        spec: {
          default: {
            checkIntervalSec: 5,
            timeoutSec: 3,
            healthyThreshold: 1,
            unhealthyThreshold: 3,
            config: { type: 'HTTP', httpHealthCheck: { portSpecification: 'USE_FIXED_PORT', port: backend.health.port, requestPath: backend.health.path } },
          },
          targetRef,
        },
      },
      { apiVersion: 'networking.gke.io/v1', kind: 'GCPBackendPolicy', metadata, spec: { default: { timeoutSec: backend.timeoutSeconds }, targetRef } },
    ];
  },
  // GKE installs the driver (gpu_driver_installation_config) and runs its own NVIDIA device plugin on GPU nodes.
  gpuNodeImage: { description: 'GKE Container-Optimized OS, driver installed by GKE (DEFAULT version)', driver: true, devicePlugin: true, nvidiaDefaultRuntime: false },
  // GKE's cluster autoscaler scales the pools (autoscaling block of the node pool).
  nodeAutoscaler: { kind: 'cloud' },

  // Machines that bundle local SSDs (A3 High 8-GPU, A2 Ultra) keep ephemeral storage there
  // (ephemeral_storage_local_ssd_config): the boot disk then holds the OS only.
  nodeStorage(machine, need) {
    if (machine.localSsds) {
      return { bootDiskGiB: OS_ONLY_BOOT_DISK_GIB, localSsdCount: machine.localSsds, allocatableGiB: Math.floor(gkeLocalSsdAllocatableGiB(machine.localSsds)) };
    }
    const bootDiskGiB = smallestDiskGiB(need, gkeBootDiskAllocatableGiB);
    return { bootDiskGiB, allocatableGiB: Math.floor(gkeBootDiskAllocatableGiB(bootDiskGiB)) };
  },

  placement(environment, pool) {
    const known = GCP_GPU_ZONES[environment.region]?.[pool.gpuType];
    const zones = pool.zones ?? known;
    if (!zones) {
      return {
        path: 'zones',
        message: `required on gcp for ${pool.gpuType} in ${environment.region}: expected the zones that sell it, such as ["${environment.region}-a"]; the catalogue does not list them (got nothing)`,
      };
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
    const names: CloudDerivedName[] = poolNames(environment, NODE_POOL_NAME, (pool) => gkeNodePoolName(environment, pool));
    names.push(cloudName(SERVICE_ACCOUNT_ID, nodeAccountId(environment), 'name', `project ${project}`));
    for (const modelName of modelNames) {
      names.push(cloudName(SERVICE_ACCOUNT_ID, readerAccountId(environment, modelName), `deployments.${modelName}`, `project ${project}`));
    }
    return names;
  },

  crossCheck(environment) {
    const issues: CloudIssue[] = [];
    environment.nodePools.forEach((pool, index) => {
      const machine = GCP_GPU_MACHINES[pool.gpuType]?.find((candidate) => candidate.gpus === pool.gpusPerNode);
      if (machine?.spotOnly && pool.capacity === 'on-demand') {
        const onDemand = GCP_GPU_MACHINES[pool.gpuType]!.filter((candidate) => !candidate.spotOnly).map((candidate) => candidate.gpus);
        issues.push({
          path: `nodePools[${index}].capacity`,
          message: `expected "spot": Google sells ${machine.machineType} only as Spot or Flex-start VMs, not on demand (got "on-demand"); use gpusPerNode ${onDemand.join(' or ')} for on-demand ${pool.gpuType} nodes`,
        });
      }
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
