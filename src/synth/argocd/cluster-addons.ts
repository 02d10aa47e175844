/**
 * The platform a GPU cluster needs before any model, as Argo CD Applications of
 * pinned Helm charts (the app of apps syncs them in waves before the
 * environments), plus the cluster-scoped objects the models reference. The
 * README's "What must exist in the cluster" lists exactly this table; a test
 * keeps the two equal.
 */
import type { Environment } from '../../declarations/environment.ts';
import { ENVOY_GATEWAY } from '../../catalogue/envoy-gateway.ts';
import { GPU_NODE_TAINT, GPU_TYPE_NODE_LABEL } from '../../catalogue/gpus.ts';
import { cloudPlugin } from '../../clouds/registry.ts';
import { gatewayClassOf, gpuStackOf } from '../../fleet/cluster-defaults.ts';
import { deploymentsOf, type Fleet } from '../../fleet/fleet.ts';
import { MANAGED_BY } from '../kubernetes/labels.ts';
import { MODEL_SERVER_PRIORITY_CLASS } from '../kubernetes/model-server.ts';
import { requestTimeoutSeconds } from '../kubernetes/request-timeouts.ts';
import { HTTP_ADD_ON, scaledFromZero } from '../kubernetes/scale-from-zero.ts';
import { GATEWAY_API_PLUGIN } from '../kubernetes/workload.ts';
import { clusterSlug } from '../../fleet/naming.ts';

/** One add-on: a Helm chart pinned to a version (checked in each chart repository's Chart.yaml). */
export interface AddonChart {
  /** Application name suffix and Helm release name. */
  readonly name: string;
  /** Helm repository (an OCI registry host/path for OCI charts: Argo CD needs a repository Secret with `enableOCI: "true"`). */
  readonly repoURL: string;
  readonly chart: string;
  readonly version: string;
  readonly namespace: string;
  /** Argo CD sync wave in the app of apps: CRD providers first. */
  readonly wave: number;
  /** What it is for. */
  readonly purpose: string;
}

/**
 * The pinned charts. Sources: argoproj/argo-helm charts/argo-rollouts/Chart.yaml
 * (2.41.0 = Argo Rollouts v1.9.0); kedacore/charts keda/Chart.yaml (2.20.2) and
 * http-add-on/Chart.yaml (0.15.0); prometheus-community/helm-charts
 * charts/kube-prometheus-stack/Chart.yaml (88.5.3); NVIDIA/gpu-operator tag
 * v26.7.0; envoyproxy/gateway tag v1.9.0 (charts/gateway-helm, published as
 * oci://docker.io/envoyproxy/gateway-helm); kubernetes/autoscaler tag
 * cluster-autoscaler-chart-9.59.0 (Cluster Autoscaler 1.35.0); NVIDIA/dcgm-exporter
 * tag 4.5.3-4.8.2 (deployment/Chart.yaml 4.8.2, published at
 * https://nvidia.github.io/dcgm-exporter/helm-charts).
 */
export const ADDON_CHARTS = {
  prometheus: {
    name: 'kube-prometheus-stack',
    repoURL: 'https://prometheus-community.github.io/helm-charts',
    chart: 'kube-prometheus-stack',
    version: '88.5.3',
    namespace: 'monitoring',
    wave: -5,
    purpose: 'Prometheus Operator and Prometheus: ServiceMonitor and PrometheusRule CRDs, the metrics analysis and KEDA read',
  },
  gpuOperator: {
    name: 'gpu-operator',
    repoURL: 'https://helm.ngc.nvidia.com/nvidia',
    chart: 'gpu-operator',
    version: 'v26.7.0',
    namespace: 'gpu-operator',
    wave: -4,
    purpose: 'NVIDIA device plugin (nodes advertise nvidia.com/gpu) and DCGM exporter; the node image brings the driver and container toolkit',
  },
  envoyGateway: {
    name: 'envoy-gateway',
    repoURL: 'docker.io/envoyproxy',
    chart: 'gateway-helm',
    version: 'v1.9.0',
    namespace: ENVOY_GATEWAY.namespace,
    wave: -4,
    purpose: 'Gateway API CRDs and the gateway implementation behind the `envoy-gateway` GatewayClass',
  },
  keda: {
    name: 'keda',
    repoURL: 'https://kedacore.github.io/charts',
    chart: 'keda',
    version: '2.20.2',
    namespace: 'keda',
    wave: -4,
    purpose: "KEDA: ScaledObject CRD and the autoscaler on vLLM's queue",
  },
  argoRollouts: {
    name: 'argo-rollouts',
    repoURL: 'https://argoproj.github.io/argo-helm',
    chart: 'argo-rollouts',
    version: '2.41.0',
    namespace: 'argo-rollouts',
    wave: -3,
    purpose: `Argo Rollouts with the ${GATEWAY_API_PLUGIN} traffic router: Rollout and AnalysisTemplate CRDs, canaries with exact weights`,
  },
  clusterAutoscaler: {
    name: 'cluster-autoscaler',
    repoURL: 'https://kubernetes.github.io/autoscaler',
    chart: 'cluster-autoscaler',
    version: '9.59.0',
    namespace: 'kube-system',
    wave: -4,
    purpose: 'Kubernetes cluster-autoscaler: adds GPU nodes for pending replicas and removes idle ones, where the cloud does not scale node pools itself (EKS)',
  },
  dcgmExporter: {
    name: 'dcgm-exporter',
    repoURL: 'https://nvidia.github.io/dcgm-exporter/helm-charts',
    chart: 'dcgm-exporter',
    version: '4.8.2',
    namespace: 'dcgm-exporter',
    wave: -4,
    purpose: 'NVIDIA DCGM exporter (GPU utilisation per pod for the bot) where the GPU Operator is not installed',
  },
  kedaHttp: {
    name: 'keda-add-ons-http',
    repoURL: 'https://kedacore.github.io/charts',
    chart: 'keda-add-ons-http',
    version: '0.15.0',
    namespace: HTTP_ADD_ON.namespace,
    wave: -3,
    purpose: 'KEDA HTTP add-on: the interceptor that wakes a model scaled to zero',
  },
} as const satisfies Record<string, AddonChart>;

/** The Gateway API traffic-router plugin, copied into the Argo Rollouts controller by an init container (no download at start-up). */
export const GATEWAY_API_PLUGIN_IMAGE = 'ghcr.io/argoproj-labs/rollouts-plugin-trafficrouter-gatewayapi:v0.15.0';

/** Wave of the cluster-scoped objects (PriorityClass, GatewayClass, ReferenceGrant): after the charts that bring their CRDs. */
export const PLATFORM_MANIFESTS_WAVE = -2;

/** The environments of one cluster. */
export interface ClusterGroup {
  /** Name usable in file and Application names. */
  readonly slug: string;
  readonly cluster: string;
  readonly environments: readonly Environment[];
}

/** Environments grouped by the cluster they run in, sorted by cluster. */
export function clusterGroups(fleet: Fleet): ClusterGroup[] {
  const groups = new Map<string, Environment[]>();
  for (const environment of fleet.environments) groups.set(environment.cluster, [...(groups.get(environment.cluster) ?? []), environment]);
  return [...groups].sort(([a], [b]) => a.localeCompare(b)).map(([cluster, environments]) => ({ cluster, slug: clusterSlug(cluster), environments }));
}

/** Copies the object's own namespace (which Prometheus renames `exported_namespace` next to the target's) back into `namespace`, so alerts select the model's namespace. */
const KEEP_OBJECT_NAMESPACE = [
  { sourceLabels: ['exported_namespace'], regex: '(.+)', targetLabel: 'namespace', replacement: '$1', action: 'replace' },
  { regex: 'exported_namespace', action: 'labeldrop' },
];

/**
 * Tolerations for DaemonSets that must run on every GPU node: the GPU taint the
 * node pools carry, and the taint a cloud puts on spot nodes by itself (AKS).
 */
function gpuNodeTolerations(group: ClusterGroup): Record<string, string>[] {
  const spotTaints = [...new Map(group.environments.flatMap((environment) => cloudPlugin(environment.cloud).spotNodeTaint ?? []).map((taint) => [taint.key, taint])).values()];
  return [
    { key: GPU_NODE_TAINT.key, operator: 'Exists', effect: GPU_NODE_TAINT.effect },
    ...spotTaints.map((taint) => ({ key: taint.key, operator: 'Equal', value: taint.value, effect: taint.effect })),
  ];
}

/**
 * The standalone DCGM exporter (its chart's values.yaml): on the GPU nodes only
 * (they carry the pool-shape label), seeing every GPU through the NVIDIA
 * runtime, mapping each GPU to the pod that holds it (`DCGM_EXPORTER_KUBERNETES`,
 * set by the chart), and scraped with `honorLabels` so Prometheus keeps that
 * pod's `namespace`, `pod` and `container` labels instead of renaming them
 * `exported_*` next to the exporter's own.
 */
function dcgmExporterValues(promLabels: Record<string, string>, tolerations: Record<string, string>[]): Record<string, unknown> {
  return {
    serviceMonitor: { enabled: true, honorLabels: true, additionalLabels: promLabels },
    tolerations,
    affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: GPU_TYPE_NODE_LABEL, operator: 'Exists' }] }] } } },
    extraEnv: [{ name: 'NVIDIA_VISIBLE_DEVICES', value: 'all' }],
  };
}

/** The charts a cluster needs and their values. */
export function clusterAddons(fleet: Fleet, group: ClusterGroup): { chart: AddonChart; values: Record<string, unknown> }[] {
  const [first] = group.environments;
  const promLabels = first.monitoring.selectorLabels;
  const serviceMonitor = { enabled: true, additionalLabels: promLabels, metricRelabelings: KEEP_OBJECT_NAMESPACE };
  const addons: { chart: AddonChart; values: Record<string, unknown> }[] = [
    { chart: { ...ADDON_CHARTS.prometheus, namespace: first.monitoring.namespace }, values: {} },
    {
      chart: ADDON_CHARTS.keda,
      values: { prometheus: { operator: { enabled: true, serviceMonitor } } },
    },
    {
      chart: ADDON_CHARTS.argoRollouts,
      values: {
        controller: {
          initContainers: [
            {
              name: 'copy-gateway-api-plugin',
              image: GATEWAY_API_PLUGIN_IMAGE,
              command: ['/bin/sh', '-c'],
              args: ['cp /bin/rollouts-plugin-trafficrouter-gatewayapi /plugins'],
              volumeMounts: [{ name: 'gateway-api-plugin', mountPath: '/plugins' }],
            },
          ],
          trafficRouterPlugins: [{ name: GATEWAY_API_PLUGIN, location: 'file:///plugins/rollouts-plugin-trafficrouter-gatewayapi' }],
          volumes: [{ name: 'gateway-api-plugin', emptyDir: {} }],
          volumeMounts: [{ name: 'gateway-api-plugin', mountPath: '/plugins' }],
          metrics: { enabled: true, serviceMonitor },
        },
      },
    },
  ];
  const autoscaler = cloudPlugin(first.cloud).nodeAutoscaler;
  if (autoscaler.kind === 'cluster-autoscaler') addons.push({ chart: ADDON_CHARTS.clusterAutoscaler, values: autoscaler.values(first) });
  const gpuTolerations = gpuNodeTolerations(group);
  if (group.environments.some((environment) => gpuStackOf(environment) === 'gpu-operator')) {
    addons.push({
      chart: ADDON_CHARTS.gpuOperator,
      values: {
        driver: { enabled: false },
        toolkit: { enabled: false },
        dcgmExporter: { serviceMonitor: { enabled: true, additionalLabels: promLabels, honorLabels: true } },
        daemonsets: { tolerations: gpuTolerations },
      },
    });
  } else if (cloudPlugin(first.cloud).gpuNodeImage.nvidiaDefaultRuntime) {
    addons.push({ chart: ADDON_CHARTS.dcgmExporter, values: dcgmExporterValues(promLabels, gpuTolerations) });
  }
  if (group.environments.some((environment) => gatewayClassOf(environment) === ENVOY_GATEWAY.className)) addons.push({ chart: ADDON_CHARTS.envoyGateway, values: {} });
  if (group.environments.some((environment) => deploymentsOf(fleet, environment.name).some(scaledFromZero))) addons.push({ chart: ADDON_CHARTS.kedaHttp, values: {} });
  return addons.sort((a, b) => a.chart.wave - b.chart.wave || a.chart.name.localeCompare(b.chart.name));
}

/**
 * What the cloud's own load balancer needs beside the HTTP add-on's interceptor
 * when a scale-to-zero route sends requests to it (GKE: a health check on the
 * interceptor's admin `/readyz`, and the longest request timeout of the models
 * it wakes).
 */
function interceptorPolicies(fleet: Fleet, waking: readonly Environment[]): Record<string, unknown>[] {
  if (waking.length === 0) return [];
  const timeoutSeconds = Math.max(...waking.flatMap((environment) => deploymentsOf(fleet, environment.name).filter(scaledFromZero).map(requestTimeoutSeconds)));
  const backend = { name: HTTP_ADD_ON.proxyService, namespace: HTTP_ADD_ON.namespace, health: HTTP_ADD_ON.health, timeoutSeconds, gatewayClass: gatewayClassOf(waking[0]) };
  return [...(cloudPlugin(waking[0].cloud).backendServicePolicies?.(backend) ?? [])];
}

/**
 * The objects of the platform the models reference: their PriorityClass, the
 * `envoy-gateway` GatewayClass where a managed Gateway uses it, a
 * ReferenceGrant letting the scale-to-zero routes reach the HTTP add-on's
 * interceptor in its namespace, and the cloud load balancer's policies for that
 * interceptor.
 */
export function platformManifests(fleet: Fleet, group: ClusterGroup): object[] {
  const labels = { ...MANAGED_BY, 'llmops.dev/cluster': group.slug };
  const manifests: object[] = [
    {
      apiVersion: 'scheduling.k8s.io/v1',
      kind: 'PriorityClass',
      metadata: { name: MODEL_SERVER_PRIORITY_CLASS, labels },
      value: 100000,
      globalDefault: false,
      preemptionPolicy: 'PreemptLowerPriority',
      description: 'vLLM model servers: a GPU replica outranks batch and best-effort work on the GPU nodes.',
    },
  ];
  if (group.environments.some((environment) => gatewayClassOf(environment) === ENVOY_GATEWAY.className)) {
    manifests.push({ apiVersion: 'gateway.networking.k8s.io/v1', kind: 'GatewayClass', metadata: { name: ENVOY_GATEWAY.className, labels }, spec: { controllerName: ENVOY_GATEWAY.controllerName } });
  }
  const waking = group.environments.filter((environment) => deploymentsOf(fleet, environment.name).some(scaledFromZero));
  manifests.push(...interceptorPolicies(fleet, waking));
  if (waking.length > 0) {
    manifests.push({
      apiVersion: 'gateway.networking.k8s.io/v1beta1',
      kind: 'ReferenceGrant',
      metadata: { name: 'llmops-routes-to-interceptor', namespace: HTTP_ADD_ON.namespace, labels },
      spec: {
        from: waking.map((environment) => ({ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', namespace: environment.namespace })),
        to: [{ group: '', kind: 'Service', name: HTTP_ADD_ON.proxyService }],
      },
    });
  }
  return manifests;
}
