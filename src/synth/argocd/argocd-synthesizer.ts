import type { Environment } from '../../declarations/environment.ts';
import type { Fleet } from '../../fleet/fleet.ts';
import { argocdApplicationName, clusterApplicationName, platformApplicationName, ROOT_APPLICATION_NAME } from '../../fleet/naming.ts';
import { GENERATED_DIR } from '../write.ts';
import { kubernetesFolder } from '../kubernetes/kubernetes-synthesizer.ts';
import { MANAGED_BY, syncWave } from '../kubernetes/labels.ts';
import { yamlFile } from '../serialize.ts';
import type { OutputFile } from '../synthesizer.ts';
import { ADDON_CHARTS, clusterAddons, clusterGroups, PLATFORM_MANIFESTS_WAVE, platformManifests, type ClusterGroup } from './cluster-addons.ts';

const ARGOCD_NAMESPACE = 'argocd';
const IN_CLUSTER = 'https://kubernetes.default.svc';
const TARGET_REVISION = 'HEAD';
const APPS_FOLDER = 'argocd/apps';

/** The three AppProjects: the root apps' own, the environments', the cluster add-ons'. */
export const PROJECTS = { root: 'llmops-root', environments: 'llmops', platform: 'llmops-platform' } as const;

/**
 * Waves. Argo CD (gitops-engine pkg/sync/sync_context.go) syncs a multi-wave
 * app wave by wave and holds each wave until its resources are Healthy (a
 * Degraded one fails the sync; a Missing or Progressing one waits forever); only
 * the last wave is applied without waiting. So the root app holds the
 * AppProjects (no health) and, in its last wave, one app per cluster; a
 * cluster's app holds its add-ons (their own waves, all below 0, always synced
 * automatically so they can become Healthy without a person) and, in its last
 * wave, the environments — `manual` ones wait for a person without holding
 * anything else up.
 */
const PROJECT_WAVE = -10;
const CLUSTER_WAVE = 0;
const ENVIRONMENT_WAVE = 0;

/** Folder of a cluster's platform manifests, relative to generated/. */
export function platformFolder(slug: string): string {
  return `platform/${slug}`;
}

/** Folder of a cluster's Applications (its add-ons and environments), relative to generated/. */
export function clusterAppsFolder(slug: string): string {
  return `argocd/clusters/${slug}`;
}

/** Kinds the environment Applications may create, by API group. */
const NAMESPACED_KINDS: readonly [string, string][] = [
  ['', 'ConfigMap'],
  ['', 'PersistentVolumeClaim'],
  ['', 'Service'],
  ['', 'ServiceAccount'],
  ['apps', 'Deployment'],
  ['argoproj.io', 'AnalysisTemplate'],
  ['argoproj.io', 'Rollout'],
  ['gateway.envoyproxy.io', 'EnvoyProxy'],
  // The bot's CronJob (an environment's `bot` with mode `schedule`).
  ['batch', 'CronJob'],
  ['gateway.networking.k8s.io', 'Gateway'],
  ['gateway.networking.k8s.io', 'HTTPRoute'],
  ['http.keda.sh', 'InterceptorRoute'],
  ['keda.sh', 'ScaledObject'],
  ['monitoring.coreos.com', 'PrometheusRule'],
  ['monitoring.coreos.com', 'ServiceMonitor'],
  ['networking.gke.io', 'GCPBackendPolicy'],
  ['networking.gke.io', 'HealthCheckPolicy'],
  ['networking.k8s.io', 'NetworkPolicy'],
  ['policy', 'PodDisruptionBudget'],
];

/**
 * Cluster-scoped kinds the add-on charts and the platform manifests create
 * (from the templates and crds/ of each pinned chart: CRDs, RBAC, admission
 * webhooks, KEDA's metrics APIService, the GPU Operator's ClusterPolicy,
 * NVIDIADriver and GPUCluster and its Node Feature Discovery rules), plus the
 * namespaces Argo CD creates; nothing else.
 */
export const PLATFORM_CLUSTER_KINDS: readonly [string, string][] = [
  ['', 'Namespace'],
  ['admissionregistration.k8s.io', 'MutatingWebhookConfiguration'],
  ['admissionregistration.k8s.io', 'ValidatingWebhookConfiguration'],
  ['apiextensions.k8s.io', 'CustomResourceDefinition'],
  ['apiregistration.k8s.io', 'APIService'],
  ['gateway.networking.k8s.io', 'GatewayClass'],
  ['nfd.k8s-sigs.io', 'NodeFeatureRule'],
  ['nvidia.com', 'ClusterPolicy'],
  ['nvidia.com', 'GPUCluster'],
  ['nvidia.com', 'NVIDIADriver'],
  ['rbac.authorization.k8s.io', 'ClusterRole'],
  ['rbac.authorization.k8s.io', 'ClusterRoleBinding'],
  ['scheduling.k8s.io', 'PriorityClass'],
];

const RETRY = { limit: 5, backoff: { duration: '10s', factor: 2, maxDuration: '3m' } };

/** Pod Security "restricted" on the namespace Argo CD creates (`managedNamespaceMetadata`). */
export function namespaceLabels(environment: Environment): Record<string, string> {
  return {
    ...MANAGED_BY,
    'llmops.dev/environment': environment.name,
    'pod-security.kubernetes.io/enforce': 'restricted',
    'pod-security.kubernetes.io/enforce-version': 'v1.28',
    'pod-security.kubernetes.io/audit': 'restricted',
    'pod-security.kubernetes.io/warn': 'restricted',
  };
}

function appProjects(fleet: Fleet): object[] {
  const metadata = (name: string) => ({ name, namespace: ARGOCD_NAMESPACE, labels: MANAGED_BY, annotations: syncWave(PROJECT_WAVE) });
  const charts = [...new Set(Object.values(ADDON_CHARTS).map((chart) => chart.repoURL))].sort();
  return [
    {
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'AppProject',
      metadata: metadata(PROJECTS.environments),
      spec: {
        description: 'LLM serving fleet compiled by llmops-gitops: one Application per environment',
        sourceRepos: [fleet.repositoryUrl],
        destinations: fleet.environments.map((environment) => ({ name: environment.cluster, namespace: environment.namespace })),
        clusterResourceWhitelist: [{ group: '', kind: 'Namespace' }],
        namespaceResourceWhitelist: NAMESPACED_KINDS.map(([group, kind]) => ({ group, kind })),
        orphanedResources: { warn: true },
      },
    },
    {
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'AppProject',
      metadata: metadata(PROJECTS.platform),
      spec: {
        description: 'Cluster add-ons the model servers need (Helm charts pinned by llmops-gitops)',
        sourceRepos: [fleet.repositoryUrl, ...charts],
        destinations: clusterGroups(fleet).map((group) => ({ name: group.cluster, namespace: '*' })),
        clusterResourceWhitelist: PLATFORM_CLUSTER_KINDS.map(([group, kind]) => ({ group, kind })),
        namespaceResourceWhitelist: [{ group: '*', kind: '*' }],
      },
    },
  ];
}

/** Argo CD ignores what Argo Rollouts' Gateway API plugin changes during a canary (the route's backend weights), or self-heal would undo the canary. */
function ignoredDifferences(environment: Environment): object[] {
  if (!environment.canary || environment.gateway.canaryTraffic !== 'gateway-api') return [];
  return [{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', jqPathExpressions: ['.spec.rules[].backendRefs[].weight'] }];
}

/**
 * One Application per environment on its kubernetes folder, after the add-ons.
 * `auto` environments sync, prune and self-heal on merge; `manual` ones
 * (production) wait for a person. Argo CD creates the namespace with its Pod
 * Security labels and owns every object in the folder. No deletion finalizer:
 * deleting the Application never cascades into the namespace, whose Secrets
 * (`hf-token`) live outside git; delete workloads explicitly
 * (`argocd app delete --cascade`) when you mean it.
 */
function environmentApplication(fleet: Fleet, environment: Environment): object {
  const auto = environment.sync === 'auto';
  const ignored = ignoredDifferences(environment);
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Application',
    metadata: {
      name: argocdApplicationName(environment.name),
      namespace: ARGOCD_NAMESPACE,
      labels: { ...MANAGED_BY, 'llmops.dev/environment': environment.name },
      annotations: syncWave(ENVIRONMENT_WAVE),
    },
    spec: {
      project: PROJECTS.environments,
      source: { repoURL: fleet.repositoryUrl, targetRevision: TARGET_REVISION, path: `${GENERATED_DIR}/${kubernetesFolder(environment.name)}` },
      destination: { name: environment.cluster, namespace: environment.namespace },
      syncPolicy: {
        ...(auto ? { automated: { prune: true, selfHeal: true } } : {}),
        syncOptions: ['CreateNamespace=true', 'ServerSideApply=true', 'PruneLast=true', 'ApplyOutOfSyncOnly=true', ...(ignored.length > 0 ? ['RespectIgnoreDifferences=true'] : [])],
        managedNamespaceMetadata: { labels: namespaceLabels(environment) },
        retry: RETRY,
      },
      ...(ignored.length > 0 ? { ignoreDifferences: ignored } : {}),
      revisionHistoryLimit: 10,
    },
  };
}

/**
 * A cluster's add-on Applications (one Helm chart each, pinned) and the
 * Application of its platform manifests, in waves before the environments.
 * They always sync automatically, also in a cluster whose environments sync by
 * hand: the cluster's app waits for each wave to be Healthy, and an add-on that
 * waited for a person would hold every later wave (the environments) forever. A
 * chart version changes only through a reviewed pull request, like everything
 * else in git. No deletion finalizer: deleting an add-on's Application must
 * never delete its CRDs and with them every Rollout or ScaledObject in the
 * cluster.
 */
function platformApplications(fleet: Fleet, group: ClusterGroup): object[] {
  const manage = group.environments[0].addons.manage;
  const application = (name: string, wave: number, namespace: string, source: object, syncOptions: string[]) => ({
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Application',
    metadata: { name: platformApplicationName(group.cluster, name), namespace: ARGOCD_NAMESPACE, labels: { ...MANAGED_BY, 'llmops.dev/cluster': group.slug }, annotations: syncWave(wave) },
    spec: {
      project: PROJECTS.platform,
      source,
      destination: { name: group.cluster, namespace },
      syncPolicy: { automated: { prune: true, selfHeal: true }, syncOptions, retry: RETRY },
    },
  });
  const charts = manage
    ? clusterAddons(fleet, group).map(({ chart, values }) =>
        application(chart.name, chart.wave, chart.namespace, { repoURL: chart.repoURL, chart: chart.chart, targetRevision: chart.version, helm: { releaseName: chart.name, valuesObject: values } }, [
          'CreateNamespace=true',
          // Large CRDs (kube-prometheus-stack's) exceed client-side apply's annotation limit.
          'ServerSideApply=true',
        ]),
      )
    : [];
  const manifests = application(
    'manifests',
    PLATFORM_MANIFESTS_WAVE,
    'default',
    { repoURL: fleet.repositoryUrl, targetRevision: TARGET_REVISION, path: `${GENERATED_DIR}/${platformFolder(group.slug)}` },
    ['ServerSideApply=true'],
  );
  return [...charts, manifests];
}

/** An app of apps in the Argo CD namespace: it only creates Applications and AppProjects, from a folder of generated/. */
function appOfApps(fleet: Fleet, name: string, folder: string, labels: Record<string, string>, annotations: Record<string, string> = {}): object {
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Application',
    metadata: { name, namespace: ARGOCD_NAMESPACE, labels: { ...MANAGED_BY, ...labels }, ...(Object.keys(annotations).length > 0 ? { annotations } : {}) },
    spec: {
      project: PROJECTS.root,
      source: { repoURL: fleet.repositoryUrl, targetRevision: TARGET_REVISION, path: `${GENERATED_DIR}/${folder}` },
      destination: { server: IN_CLUSTER, namespace: ARGOCD_NAMESPACE },
      syncPolicy: { automated: { prune: true, selfHeal: true }, retry: RETRY },
    },
  };
}

/**
 * One cluster's app of apps (`llmops-cluster-<cluster>`): its add-ons, then its
 * environments. A cluster that is unreachable, or whose add-ons are unhealthy,
 * holds up only its own app.
 */
function clusterApplication(fleet: Fleet, group: ClusterGroup): object {
  return appOfApps(fleet, clusterApplicationName(group.cluster), clusterAppsFolder(group.slug), { 'llmops.dev/cluster': group.slug }, syncWave(CLUSTER_WAVE));
}

/** The root Application and its own project: apply `generated/argocd/root.yaml` once; it keeps the AppProjects and one app per cluster in sync. */
function root(fleet: Fleet): object[] {
  return [
    {
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'AppProject',
      metadata: { name: PROJECTS.root, namespace: ARGOCD_NAMESPACE, labels: MANAGED_BY },
      spec: {
        description: 'The llmops-gitops apps of apps: AppProjects and Applications only',
        sourceRepos: [fleet.repositoryUrl],
        destinations: [{ server: IN_CLUSTER, namespace: ARGOCD_NAMESPACE }],
        clusterResourceWhitelist: [],
        namespaceResourceWhitelist: [
          { group: 'argoproj.io', kind: 'Application' },
          { group: 'argoproj.io', kind: 'AppProject' },
        ],
      },
    },
    appOfApps(fleet, ROOT_APPLICATION_NAME, APPS_FOLDER, {}),
  ];
}

/**
 * `generated/argocd/`: the root app and its project (root.yaml); under apps/
 * the AppProjects and one app of apps per cluster; under clusters/<cluster>/
 * that cluster's add-ons (platform.yaml) and one Application per environment.
 * And `generated/platform/<cluster>/`, the cluster-scoped objects the models
 * need. Made from the whole fleet, on the main thread (no cdk8s).
 */
export function argocdFiles(fleet: Fleet): OutputFile[] {
  const groups = clusterGroups(fleet);
  return [
    yamlFile('argocd/root.yaml', root(fleet)),
    yamlFile(`${APPS_FOLDER}/project.yaml`, appProjects(fleet)),
    ...groups.flatMap((group) => [
      yamlFile(`${APPS_FOLDER}/cluster-${group.slug}.yaml`, [clusterApplication(fleet, group)]),
      yamlFile(`${clusterAppsFolder(group.slug)}/platform.yaml`, platformApplications(fleet, group)),
      ...group.environments.map((environment) => yamlFile(`${clusterAppsFolder(group.slug)}/${environment.name}.yaml`, [environmentApplication(fleet, environment)])),
      yamlFile(`${platformFolder(group.slug)}/platform.yaml`, platformManifests(fleet, group)),
    ]),
  ];
}
