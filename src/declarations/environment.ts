import { z } from 'zod';
import { GpuType } from '../catalogue/gpus.ts';
import { CLOUD_PLUGINS, type CloudEnvironmentSchemas } from '../clouds/registry.ts';
import { definer } from './define.ts';
import { DnsLabel } from './dns-label.ts';
import { EngineArgs } from '../vllm/engine-args.ts';
import { expected } from './issues.ts';
import { Authentication } from './authentication.ts';
import { Availability } from './availability.ts';
import { ExpectedRequestsPerMinute } from './canary-evidence.ts';
import { Bot } from './bot.ts';
import { ClusterAddons } from './cluster-addons.ts';
import { Gateway } from './gateway.ts';
import { ImageRegistry } from './image.ts';
import { ModelCache } from './model-cache.ts';
import { Network } from './network.ts';
import { amount, MAX_NODES, MAX_REPLICAS, text, wholeNumber } from './bounds.ts';
import { Labels } from './kubernetes-labels.ts';

/** Spot (preemptible, cheaper, can be reclaimed) or on-demand capacity. */
export const Capacity = z.enum(['on-demand', 'spot']);
export type Capacity = z.infer<typeof Capacity>;

/** A GPU node pool in the environment's cluster (created by the Terraform output). */
export const NodePool = z.strictObject({
  /** Pool name. DNS-1123 label. */
  name: DnsLabel,
  /** GPU type of every node; must be offered by the environment's cloud. */
  gpuType: GpuType,
  /** GPUs per node; picks the machine type from the GPU catalogue. Default: 1. */
  gpusPerNode: wholeNumber('GPUs per node', 1, 8).default(1),
  /** Capacity type. Default: `on-demand`. */
  capacity: Capacity.default('on-demand'),
  /** Minimum nodes. Default: 0. */
  minNodes: wholeNumber('nodes', 0, MAX_NODES).default(0),
  /** Maximum nodes. */
  maxNodes: wholeNumber('nodes', 1, MAX_NODES),
  /**
   * Zones the nodes run in (`us-central1-a`; Azure `1`, `2`, `3`). Default: the
   * cloud's choice — on GCP the zones of the region that offer the GPU type
   * (from the catalogue), on AWS every cluster subnet whose zone sells the
   * instance type, none pinned on Azure; DigitalOcean has no zones.
   */
  zones: z.array(text(64)).min(1).optional(),
});
export type NodePool = z.infer<typeof NodePool>;

/** Service-level objectives every deployment of the environment must meet. */
export const Slos = z.strictObject({
  /** Time to first token, 95th percentile, in milliseconds. */
  ttftP95Ms: amount('ms', 3_600_000),
  /** End-to-end request latency, 95th percentile, in milliseconds. */
  e2eP95Ms: amount('ms', 3_600_000),
  /** Inter-token latency, 95th percentile, in milliseconds. */
  interTokenP95Ms: amount('ms', 3_600_000),
  /** Failed requests ÷ all requests (0–1). */
  errorRateRatio: amount('(a ratio)', 1, 0),
});
export type Slos = z.infer<typeof Slos>;

export const Budget = z.strictObject({
  /** Monthly GPU spend the environment may not exceed, USD. */
  monthlyUsd: amount('USD per month', 100_000_000),
});
export type Budget = z.infer<typeof Budget>;

/** Replica bounds; the autoscaler moves between them. */
export const Replicas = z.strictObject({
  /** Fewest replicas; 0 only where the environment allows scale to zero. */
  min: wholeNumber('replicas', 0, MAX_REPLICAS),
  /** Most replicas. */
  max: wholeNumber('replicas', 1, MAX_REPLICAS),
});

/**
 * One model served in the environment. The bot edits these blocks in place, so
 * they hold literal values only.
 */
export const Deployment = z.strictObject({
  /** The policy (a file in policies/) that governs changes to this deployment. */
  policy: DnsLabel,
  /** Replica bounds. */
  replicas: Replicas,
  /** GPUs of one replica. */
  gpu: z.strictObject({
    /** GPU type; a node pool of the environment must carry it. */
    type: GpuType,
    /** GPUs per replica (all on one node). */
    count: wholeNumber('GPUs', 1, 8),
  }),
  /** Engine arguments, over the model's own. Default: none. */
  engineArgs: EngineArgs.default({}),
  /** Requests per minute at the quietest time a rollout may run (see canary-evidence.ts). Default: not declared. */
  expectedRequestsPerMinute: ExpectedRequestsPerMinute.optional(),
});
export type Deployment = z.infer<typeof Deployment>;

/** The monitoring stack in the cluster (kube-prometheus-stack or any Prometheus Operator install). */
export const Monitoring = z.strictObject({
  /** Namespace of Prometheus; the only other namespace admitted to the model servers. Default: `monitoring`. */
  namespace: DnsLabel.default('monitoring'),
  /** Prometheus URL for Argo Rollouts analysis and KEDA. Default: `http://prometheus-operated.monitoring.svc:9090`. */
  prometheusUrl: z.url().default('http://prometheus-operated.monitoring.svc:9090'),
  /** Labels Prometheus selects ServiceMonitors and PrometheusRules by. Default: `release: kube-prometheus-stack`. */
  selectorLabels: Labels.default({ release: 'kube-prometheus-stack' }),
});
export type Monitoring = z.infer<typeof Monitoring>;

/**
 * The fields every environment has, whatever its cloud. Each cloud plug-in
 * (src/clouds/<cloud>/environment.ts) adds its own: the `cloud` literal, the
 * state backend it supports and its identity settings.
 */
export const ENVIRONMENT_COMMON_FIELDS = {
  /** Environment name (`dev`, `staging`, `production`). DNS-1123 label. */
  name: DnsLabel,
  /** Cloud region (`us-east-1`, `us-central1`, `eastus`, `tor1`). */
  region: text(64),
  /** Name of the existing Kubernetes cluster (EKS, GKE, AKS or DOKS). */
  cluster: text(253),
  /** Namespace the model servers run in. DNS-1123 label. */
  namespace: DnsLabel,
  /** Argo CD sync: `auto` (prune and self-heal) or `manual` (a person syncs). */
  sync: z.enum(['auto', 'manual']),
  /** Environment whose tested configuration is promoted here. Default: none. */
  promotesFrom: DnsLabel.optional(),
  /** Roll out with Argo Rollouts canaries; false gives plain Deployments. Default: true. */
  canary: z.boolean().default(true),
  /** Allow deployments to scale to zero replicas when idle. Default: false. */
  scaleToZero: z.boolean().default(false),
  /**
   * Model-artifact bucket the Terraform output creates (S3 / GCS / Spaces bucket
   * name; on Azure the storage account name: 3–24 lower-case letters and
   * digits). Names are global, so you choose it.
   */
  modelBucket: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, { error: expected('a bucket name: 3–63 lower-case letters, digits, "." and "-"') }),
  /** GPU node pools. */
  nodePools: z.array(NodePool).min(1),
  /** Gateway routing traffic to the model servers. Default: a managed, internal `inference-gateway` of the cloud's default class, exact canary weights. */
  gateway: Gateway.default({ mode: 'managed', name: 'inference-gateway', canaryTraffic: 'gateway-api' }),
  /** Who may call the models. Default: an API key from the Secret `llmops-api-key` (key `api-key`). */
  authentication: Authentication.default({ kind: 'api-key', secretName: 'llmops-api-key', secretKey: 'api-key' }),
  /** What the model servers' NetworkPolicy admits. Default: per cloud and gateway. */
  network: Network.default({}),
  /** Where downloaded weights live. Default: `node-disk`. */
  modelCache: ModelCache.default({ kind: 'node-disk' }),
  /** Cluster add-ons Argo CD installs before the models. Default: managed, GPU stack per cloud. */
  addons: ClusterAddons.default({ manage: true }),
  /** Replica floor. Default: at least 2 replicas where `sync` is `manual`. */
  availability: Availability.default({}),
  /** Registry mirroring Docker Hub for the vLLM image. Default: Docker Hub. */
  imageRegistry: ImageRegistry.optional(),
  /** The bot running in this environment's cluster, where its Prometheus is. Default: none (it runs in GitHub Actions). */
  bot: Bot.optional(),
  /** Prometheus in the cluster. Default: kube-prometheus-stack in `monitoring`. */
  monitoring: Monitoring.default({
    namespace: 'monitoring',
    prometheusUrl: 'http://prometheus-operated.monitoring.svc:9090',
    selectorLabels: { release: 'kube-prometheus-stack' },
  }),
  /** Monthly budget. */
  budget: Budget,
  /** Service-level objectives. */
  slos: Slos,
  /** Models served here, keyed by model name. */
  deployments: z.record(DnsLabel, Deployment),
  /** Price overrides by machine type (negotiated rates), USD/hour. Default: none. */
  prices: z
    .record(
      text(128),
      z.strictObject({
        /** On-demand price of the machine, USD/hour. */
        onDemandUsdPerHour: amount('USD per hour', 1000),
        /** Spot price of the machine, USD/hour. */
        spotUsdPerHour: amount('USD per hour', 1000).optional(),
      }),
    )
    .default({}),
};

/** An environment: the common fields and, chosen by `cloud`, that cloud's own fields. */
export const Environment = z.discriminatedUnion(
  'cloud',
  CLOUD_PLUGINS.map((plugin) => z.strictObject({ ...ENVIRONMENT_COMMON_FIELDS, ...plugin.environmentFields })) as unknown as CloudEnvironmentSchemas<typeof ENVIRONMENT_COMMON_FIELDS>,
);
export type Environment = z.infer<typeof Environment>;

/** Where Terraform keeps an environment's state: the backend its cloud supports. */
export type StateBackend = Environment['stateBackend'];

/** Declares an environment: `export default defineEnvironment({ … })` in `environments/<name>.ts`. */
export const defineEnvironment = definer('environment', Environment);
