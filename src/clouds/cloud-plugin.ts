/**
 * What a cloud is to the compiler: one plug-in per cloud in
 * `src/clouds/<cloud>/`, behind this interface (like Renovate's
 * `platform/<name>/`). Everything cloud-specific lives in the plug-in — its
 * part of the environment schema, machines and GPU offerings, prices, where a
 * GPU type runs, workload identity, the object store's URIs and the variables
 * vLLM's loader needs there, derived names and their rules, and cross-checks.
 * Its Terraform lives beside it (`terraform.ts`, see cloud-terraform.ts) so
 * that loading declarations never imports cdktf. Nothing outside src/clouds/
 * branches on a cloud's name.
 */
import type { z } from 'zod';
import type { GpuType } from '../catalogue/gpus.ts';
import type { MachinePrice } from '../catalogue/prices.ts';
import type { Environment, NodePool } from '../declarations/environment.ts';
import type { GatewayExposure } from '../declarations/gateway.ts';
import type { NetworkPeer } from '../declarations/network.ts';
import type { NodeStorageNeed } from '../fleet/storage.ts';
import type { CloudDerivedName } from './names.ts';

/** The environment fields only this cloud has: its `cloud` literal, its state backend, its own settings. */
export type CloudEnvironmentFields = { readonly cloud: z.ZodLiteral<string>; readonly stateBackend: z.ZodType } & Readonly<Record<string, z.ZodType>>;

/** One machine (instance type, machine type, VM size or Droplet size) that carries GPUs. */
export interface GpuMachine {
  /** Cloud name of the machine: `g6.xlarge`, `g2-standard-8`, `Standard_NC24ads_A100_v4`. */
  readonly machineType: string;
  /** GPUs on one machine. */
  readonly gpus: number;
  /** vCPUs on one machine. */
  readonly vcpus: number;
  /** Host memory of one machine, GiB. */
  readonly memoryGiB: number;
  /**
   * Larger hosts with the same GPUs, which a spot pool may also take so that one
   * reclaimed instance type does not stall it. Default: none.
   */
  readonly spotAlternatives?: readonly string[];
  /** Local SSDs (375 GiB each on GCP) the machine comes with. Default: none. */
  readonly localSsds?: number;
  /** Sold only as Spot (or Flex-start and reservations, which these node pools do not use): no on-demand pool of it. Default: false. */
  readonly spotOnly?: boolean;
}

/** How a pool's nodes hold what the pods write and the images: sized by the cloud plug-in from what may land on them. */
export interface NodeStorage {
  /** Boot disk of a node, GiB; undefined where the machine fixes it. */
  readonly bootDiskGiB?: number;
  /** Local SSDs that back ephemeral storage instead of the boot disk, where the machine bundles them. */
  readonly localSsdCount?: number;
  /** Ephemeral storage a node offers pods (its allocatable), GiB; undefined where not known. */
  readonly allocatableGiB?: number;
}

/** A node taint a cloud sets by itself. */
export interface NodeTaint {
  readonly key: string;
  readonly value: string;
  readonly effect: 'NoSchedule' | 'NoExecute' | 'PreferNoSchedule';
}

/** Where a pool's nodes run and how many there are, as the Terraform output provisions them. */
export interface PoolPlacement {
  /** Zones the nodes run in; empty when the cloud picks (zones are not pinned, or the cloud has none). */
  readonly zones: readonly string[];
  /** How the zones were chosen, for `llmops ls` and the README. */
  readonly zonesSource: string;
  /** Fewest nodes of the whole pool (all zones together). */
  readonly minNodes: number;
  /** Most nodes of the whole pool (all zones together). */
  readonly maxNodes: number;
}

/** What the nodes' image brings for GPUs, so the cluster add-ons install only what is missing. */
export interface GpuNodeImage {
  /** Image or setting that provides the GPU software. */
  readonly description: string;
  /** The NVIDIA driver is installed on the node. */
  readonly driver: boolean;
  /** Something already advertises `nvidia.com/gpu` (a device plugin the cloud manages). */
  readonly devicePlugin: boolean;
  /**
   * containerd's default runtime is NVIDIA's, so a pod that requests no GPU (the
   * DCGM exporter) still sees every GPU with `NVIDIA_VISIBLE_DEVICES=all`, as
   * the standalone dcgm-exporter chart requires.
   */
  readonly nvidiaDefaultRuntime: boolean;
}

/** Who adds and removes a cluster's GPU nodes between the pools' bounds. */
export type NodeAutoscaler =
  /** The cloud's own autoscaler (GKE, AKS and DOKS autoscale their node pools). */
  | { readonly kind: 'cloud' }
  /** The Kubernetes cluster-autoscaler, installed with the add-ons; its Helm values for the environment's cluster. */
  | { readonly kind: 'cluster-autoscaler'; values(environment: Environment): Record<string, unknown> };

/**
 * A Service only the cluster's private network reaches (Envoy Gateway puts its
 * proxies behind one for an internal Gateway): a LoadBalancer the cloud makes
 * internal through annotations, or a ClusterIP Service where the cloud has no
 * internal load balancer.
 */
export type InternalService = { readonly type: 'LoadBalancer'; readonly annotations: Readonly<Record<string, string>> } | { readonly type: 'ClusterIP' };

/** What the cluster around the model servers looks like by default on this cloud; an environment overrides each (`gateway`, `network`, `modelCache`). */
export interface ClusterDefaults {
  /** The cloud's own GatewayClass per exposure (GKE's managed load balancers); absent where Envoy Gateway, installed by the add-ons, is the default. */
  readonly gatewayClasses?: Readonly<Record<GatewayExposure, string>>;
  /** How a Service is made internal on this cloud. */
  readonly internalService: InternalService;
  /**
   * Node-local DNS cache addresses the pods may query: 169.254.20.10 is the link-local address of NodeLocal
   * DNSCache (kubernetes/dns nodelocaldns manifest; GKE's managed add-on uses it too). Empty where the cloud
   * runs none by default.
   */
  readonly nodeLocalDnsCidrs: readonly string[];
  /** A StorageClass the cloud ships that offers ReadWriteMany, if any. */
  readonly readWriteManyStorageClass?: string;
}

/** A Service a route sends requests to, as the cloud's load balancer sees it. */
export interface BackendService {
  readonly name: string;
  readonly namespace: string;
  /** Port and path that answer 200 while the backend can serve. */
  readonly health: { readonly port: number; readonly path: string };
  /** Longest a request may take, seconds. */
  readonly timeoutSeconds: number;
  /** Class of the Gateway whose routes use it; undefined for an existing Gateway of unknown class. */
  readonly gatewayClass?: string;
}

/** A variable vLLM's object-store loader needs: a literal, or a key of a Secret the operator creates. */
export type ModelStoreVariable = { readonly name: string; readonly value: string } | { readonly name: string; readonly secret: { readonly name: string; readonly key: string } };

/** What the ServiceAccount and the pods carry so the cloud hands them the model reader's identity. */
export interface WorkloadIdentityBinding {
  readonly serviceAccountAnnotations: Record<string, string>;
  readonly podLabels: Record<string, string>;
}

/** A declaration problem found by a cloud's own rules. */
export interface CloudIssue {
  /** Field path inside the environment declaration. */
  readonly path: string;
  readonly message: string;
}

export interface CloudPlugin<Fields extends CloudEnvironmentFields = CloudEnvironmentFields> {
  /** Name used in declarations (`cloud: 'aws'`). */
  readonly name: z.infer<Fields['cloud']>;
  /** Cloud and Kubernetes service, for tables: `AWS (EKS)`. */
  readonly displayName: string;
  /** The environment schema's fields for this cloud (merged with the common fields into one member of the union). */
  readonly environmentFields: Fields;
  /** Machines per GPU type, fewest GPUs first (the first machine of a GPU count is the one priced and sized). */
  readonly gpuMachines: Partial<Record<GpuType, readonly GpuMachine[]>>;
  /** Dated machine prices. */
  readonly prices: readonly MachinePrice[];
  /** Whether spot (preemptible) capacity is sold. */
  readonly sellsSpot: boolean;
  /** Taint the cloud puts on spot nodes by itself, which model servers must tolerate. */
  readonly spotNodeTaint?: NodeTaint;
  /** Link-local metadata endpoint pods must reach for workload identity, if any. */
  readonly metadataEndpoint?: { readonly cidr: string; readonly ports: readonly number[] };
  /** What the GPU nodes' image brings. */
  readonly gpuNodeImage: GpuNodeImage;
  /** Who scales the node pools. */
  readonly nodeAutoscaler: NodeAutoscaler;
  /** The cluster around the model servers, by default. */
  readonly clusterDefaults: ClusterDefaults;
  /**
   * Where one of the cloud's own GatewayClasses reaches the pods from; an issue
   * naming the field to declare when that depends on the environment (a GKE
   * regional class's proxy-only subnet); undefined for a class the cloud does
   * not know.
   */
  gatewaySources?(environment: Environment, className: string): readonly NetworkPeer[] | CloudIssue | undefined;
  /**
   * Objects the cloud's own load balancer needs beside a Service a route uses
   * (GKE: a HealthCheckPolicy on the health path, a GCPBackendPolicy with the
   * request timeout), as plain Kubernetes objects; none elsewhere.
   */
  backendServicePolicies?(backend: BackendService): readonly Record<string, unknown>[];
  /**
   * The disks of a pool's nodes for what may land on them: the smallest boot
   * disk whose allocatable ephemeral storage, under this cloud's reservation
   * rule, holds the replicas' requests and whose capacity holds the images, or
   * the machine's bundled local SSDs.
   */
  nodeStorage(machine: GpuMachine, need: NodeStorageNeed): NodeStorage;
  /** Where a pool's nodes run and the node counts Terraform provisions; an issue when the cloud cannot place it. */
  placement(environment: Environment, pool: NodePool): PoolPlacement | CloudIssue;
  /** URI vLLM loads an object-store model from, matching the bucket layout the Terraform output creates. */
  modelUri(environment: Environment, modelName: string, revision: string): string;
  /** Variables vLLM's Run:ai streamer needs to read the environment's object store. */
  modelStoreVariables(environment: Environment, modelName: string): readonly ModelStoreVariable[];
  /** How a model server's ServiceAccount gets the model reader's cloud identity. */
  workloadIdentity(environment: Environment, modelName: string): WorkloadIdentityBinding;
  /** Every cloud name derived from the declaration, with the rule it must follow. */
  derivedNames(environment: Environment, modelNames: readonly string[]): readonly CloudDerivedName[];
  /** Rules only this cloud has (bucket names, identity fields, …). */
  crossCheck(environment: Environment, modelNames: readonly string[]): readonly CloudIssue[];
}

/** The environment as its own cloud's type; a plug-in calls it on environments of its cloud only. */
export function environmentOf<C extends Environment['cloud']>(environment: Environment, cloud: C): Extract<Environment, { cloud: C }> {
  if (environment.cloud !== cloud) throw new Error(`expected a ${cloud} environment (got ${environment.cloud})`);
  return environment as Extract<Environment, { cloud: C }>;
}

export function isCloudIssue<T extends object>(value: T | CloudIssue): value is CloudIssue {
  return !Array.isArray(value) && 'message' in value;
}
