import { z } from 'zod';
import { Cloud } from '../catalogue/clouds.ts';
import { GpuType } from '../catalogue/gpus.ts';
import { definer } from './define.ts';
import { DnsLabel } from './dns-label.ts';
import { EngineArgs } from '../vllm/engine-args.ts';
import { expected } from './issues.ts';
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

/** Where Terraform keeps the environment's state. */
export const StateBackend = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('s3'),
    /** State bucket. */
    bucket: z.string().min(3).max(63),
    /** State object key. */
    key: text(1024),
    /** Bucket region. */
    region: text(64),
  }),
  z.strictObject({
    type: z.literal('gcs'),
    /** State bucket. */
    bucket: z.string().min(3).max(222),
    /** Object prefix. */
    prefix: text(1024),
  }),
  z.strictObject({
    type: z.literal('azurerm'),
    resourceGroupName: text(90),
    storageAccountName: z.string().regex(/^[a-z0-9]{3,24}$/),
    containerName: z.string().min(3).max(63),
    /** State blob name. */
    key: text(1024),
  }),
]);
export type StateBackend = z.infer<typeof StateBackend>;

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
});
export type Deployment = z.infer<typeof Deployment>;

/** The gateway in front of the model servers (it must already exist in the cluster). */
export const Gateway = z.strictObject({
  /** Gateway API `Gateway` name. */
  name: DnsLabel,
  /** Namespace of the gateway; the only namespace admitted to the model servers. */
  namespace: DnsLabel,
});

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

export const Environment = z.strictObject({
  /** Environment name (`dev`, `staging`, `production`). DNS-1123 label. */
  name: DnsLabel,
  /** Cloud the environment runs on. */
  cloud: Cloud,
  /** Cloud region (`us-east-1`, `us-central1`, `eastus`). */
  region: text(64),
  /** Name of the existing Kubernetes cluster (EKS, GKE or AKS). */
  cluster: text(253),
  /** GCP project id. Required on gcp. */
  project: text(63).optional(),
  /** Azure resource group of the cluster. Required on azure. */
  resourceGroup: text(90).optional(),
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
   * Model-artifact bucket the Terraform output creates (S3 / GCS bucket name; on
   * Azure the storage account name: 3–24 lower-case letters and digits). Names
   * are global, so you choose it.
   */
  modelBucket: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, { error: expected('a bucket name: 3–63 lower-case letters, digits, "." and "-"') }),
  /** AWS account id (12 digits), for the model servers' IAM role ARN. Required on aws. */
  accountId: z.string().regex(/^\d{12}$/, { error: expected('a 12-digit AWS account id') }).optional(),
  /**
   * Client id of the model servers' Azure managed identity (a Terraform output of
   * this environment's stack). Required on azure once the stack is applied.
   */
  workloadIdentityClientId: z.string().uuid().optional(),
  /** Terraform remote state backend. */
  stateBackend: StateBackend,
  /** GPU node pools. */
  nodePools: z.array(NodePool).min(1),
  /** Gateway routing traffic to the model servers. Default: `inference-gateway` in `gateway-system`. */
  gateway: Gateway.default({ name: 'inference-gateway', namespace: 'gateway-system' }),
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
});
export type Environment = z.infer<typeof Environment>;

/** Declares an environment: `export default defineEnvironment({ … })` in `environments/<name>.ts`. */
export const defineEnvironment = definer('environment', Environment);
