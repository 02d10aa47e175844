/**
 * AWS: EKS managed node groups on Bottlerocket's NVIDIA variant, an S3 model
 * bucket, and one IRSA role per model server.
 */
import type { Environment, NodePool } from '../../declarations/environment.ts';
import { modelArtifactPrefix } from '../../fleet/naming.ts';
import { NODEFS_EVICTION_RATIO, smallestDiskGiB } from '../../fleet/storage.ts';
import { environmentOf, type CloudIssue, type CloudPlugin } from '../cloud-plugin.ts';
import { type CloudDerivedName, cloudName, cloudNameRule, poolNames, shortenName } from '../names.ts';
import { AWS_ENVIRONMENT_FIELDS } from './environment.ts';
import { AWS_GPU_MACHINES, AWS_PRICES } from './machines.ts';

/** EKS CreateNodegroup: 1–63 letters, digits, '-' and '_', starting with a letter or digit. */
const NODE_GROUP_NAME = cloudNameRule('EKS node group', { maxLength: 63, pattern: /^[A-Za-z0-9][A-Za-z0-9_-]*$/, alphabet: "letters, digits, '-' and '_', starting with a letter or digit" });

/** IAM CreateRole: 1–64 characters of letters, digits and `+=,.@_-`. */
const IAM_ROLE_NAME = cloudNameRule('IAM role', { maxLength: 64, pattern: /^[\w+=,.@-]+$/, alphabet: "letters, digits and '+=,.@_-'" });

/** EKS node group of a pool: `<environment>-<pool>`, shortened with a hash beyond 63 characters. */
export function nodeGroupName(environment: Environment, pool: NodePool): string {
  return shortenName(`${environment.name}-${pool.name}`, NODE_GROUP_NAME.maxLength);
}

/** IAM role a model's servers assume (IRSA): `<cluster>-<environment>-<model>`, shortened with a hash beyond 64 characters. */
export function readerRoleName(environment: Environment, modelName: string): string {
  return shortenName(`${environment.cluster}-${environment.name}-${modelName}`, IAM_ROLE_NAME.maxLength);
}

/** The cluster-autoscaler's ServiceAccount (the chart's `rbac.serviceAccount.name`), which its IRSA role trusts. */
export const CLUSTER_AUTOSCALER_SERVICE_ACCOUNT = { namespace: 'kube-system', name: 'cluster-autoscaler' } as const;

/** IAM role the cluster-autoscaler assumes (IRSA): one per cluster, created by the stack of the cluster's first environment. */
export function clusterAutoscalerRoleName(environment: Environment): string {
  return shortenName(`${environment.cluster}-cluster-autoscaler`, IAM_ROLE_NAME.maxLength);
}

/** IAM role of the environment's GPU nodes. */
export function nodeRoleName(environment: Environment): string {
  return shortenName(`${environment.cluster}-${environment.name}-gpu-nodes`, IAM_ROLE_NAME.maxLength);
}

const asAws = (environment: Environment) => environmentOf(environment, 'aws');

/**
 * Allocatable ephemeral storage of a Bottlerocket node, whose data volume
 * (`disk_size`) holds the images and the pods' storage: less the kubelet's
 * kube-reserved 1 GiB (bottlerocket-core-kit packages/kubernetes-1.31/kubelet-config:
 * `settings.kubernetes.kube-reserved.ephemeral-storage` default "1Gi") and the
 * 10 % eviction threshold.
 */
export function bottlerocketAllocatableGiB(diskGiB: number): number {
  return diskGiB - 1 - NODEFS_EVICTION_RATIO * diskGiB;
}

export const aws: CloudPlugin<typeof AWS_ENVIRONMENT_FIELDS> = {
  name: 'aws',
  displayName: 'AWS (EKS)',
  environmentFields: AWS_ENVIRONMENT_FIELDS,
  gpuMachines: AWS_GPU_MACHINES,
  prices: AWS_PRICES,
  sellsSpot: true,
  // Bottlerocket's NVIDIA variants ship the NVIDIA driver and the NVIDIA k8s device plugin
  // (EKS user guide, "EKS-optimized accelerated AMIs"; the device plugin is pre-baked into the variant).
  clusterDefaults: {
    // The in-tree AWS load balancer controller's internal scheme (Kubernetes docs, "Service: internal load balancer").
    internalService: { type: 'LoadBalancer', annotations: { 'service.beta.kubernetes.io/aws-load-balancer-internal': 'true' } },
    nodeLocalDnsCidrs: ['169.254.20.10/32'],
  },
  // bottlerocket-core-kit packages/containerd/containerd-config-toml_k8s_nvidia_containerd_sock: default_runtime_name = "nvidia".
  gpuNodeImage: { description: 'Bottlerocket NVIDIA (BOTTLEROCKET_x86_64_NVIDIA)', driver: true, devicePlugin: true, nvidiaDefaultRuntime: true },
  // EKS managed node groups are Auto Scaling groups that nothing scales by itself: the add-ons install the
  // Kubernetes cluster-autoscaler, which finds them by their k8s.io/cluster-autoscaler tags and assumes its IRSA role.
  nodeAutoscaler: {
    kind: 'cluster-autoscaler',
    values: (environment) => ({
      cloudProvider: 'aws',
      awsRegion: environment.region,
      autoDiscovery: { clusterName: environment.cluster },
      rbac: {
        serviceAccount: {
          name: CLUSTER_AUTOSCALER_SERVICE_ACCOUNT.name,
          annotations: { 'eks.amazonaws.com/role-arn': `arn:aws:iam::${asAws(environment).accountId}:role/${clusterAutoscalerRoleName(environment)}` },
        },
      },
    }),
  },

  nodeStorage(_machine, need) {
    const bootDiskGiB = smallestDiskGiB(need, bottlerocketAllocatableGiB);
    return { bootDiskGiB, allocatableGiB: Math.floor(bottlerocketAllocatableGiB(bootDiskGiB)) };
  },

  placement(_environment, pool) {
    const zones = pool.zones ?? [];
    return {
      zones,
      zonesSource: zones.length > 0 ? 'declared' : 'private subnets where sold (Terraform looks up)',
      minNodes: pool.minNodes,
      maxNodes: pool.maxNodes,
    };
  },

  modelUri(environment, modelName, revision) {
    return `s3://${environment.modelBucket}/${modelArtifactPrefix(modelName)}${revision}`;
  },

  // The bucket is created in the environment's region; the S3 client of the Run:ai streamer needs it.
  modelStoreVariables(environment) {
    return [{ name: 'AWS_REGION', value: environment.region }];
  },

  workloadIdentity(environment, modelName) {
    return {
      serviceAccountAnnotations: { 'eks.amazonaws.com/role-arn': `arn:aws:iam::${asAws(environment).accountId}:role/${readerRoleName(environment, modelName)}` },
      podLabels: {},
    };
  },

  derivedNames(environment, modelNames) {
    const account = asAws(environment).accountId;
    const names: CloudDerivedName[] = poolNames(environment, NODE_GROUP_NAME, (pool) => nodeGroupName(environment, pool));
    names.push(cloudName(IAM_ROLE_NAME, nodeRoleName(environment), 'cluster', `AWS account ${account}`));
    for (const modelName of modelNames) {
      names.push(cloudName(IAM_ROLE_NAME, readerRoleName(environment, modelName), `deployments.${modelName}`, `AWS account ${account}`));
    }
    return names;
  },

  crossCheck(environment) {
    const issues: CloudIssue[] = [];
    environment.nodePools.forEach((pool, index) => {
      for (const zone of pool.zones ?? []) {
        if (!zone.startsWith(environment.region) || !/^[a-z]{2}(-[a-z]+)+-\d[a-z]$/.test(zone)) {
          issues.push({ path: `nodePools[${index}].zones`, message: `expected availability zones of ${environment.region}, such as "${environment.region}a" (got ${JSON.stringify(zone)})` });
        }
      }
    });
    return issues;
  },
};
