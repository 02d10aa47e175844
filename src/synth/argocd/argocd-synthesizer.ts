import type { Environment } from '../../declarations/environment.ts';
import type { Fleet } from '../../fleet/fleet.ts';
import { GENERATED_DIR } from '../write.ts';
import { kubernetesFolder } from '../kubernetes/kubernetes-synthesizer.ts';
import { MANAGED_BY, syncWave } from '../kubernetes/labels.ts';
import { yamlDocuments } from '../serialize.ts';
import type { OutputFile, Synthesizer } from '../synthesizer.ts';
import { ADDON_CHARTS, clusterAddons, clusterGroups, PLATFORM_MANIFESTS_WAVE, platformManifests, type ClusterGroup } from './cluster-addons.ts';

const ARGOCD_NAMESPACE = 'argocd';
const IN_CLUSTER = 'https://kubernetes.default.svc';
const TARGET_REVISION = 'HEAD';
const APPS_FOLDER = 'argocd/apps';

/** The three AppProjects: the root app's own, the environments', the cluster add-ons'. */
export const PROJECTS = { root: 'llmops-root', environments: 'llmops', platform: 'llmops-platform' } as const;

/** Waves of the app of apps: projects, then the add-ons (their own waves, all below 0), then the environments. */
const PROJECT_WAVE = -10;
const ENVIRONMENT_WAVE = 0;

/** Folder of a cluster's platform manifests, relative to generated/. */
export function platformFolder(slug: string): string {
  return `platform/${slug}`;
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
  // The bot's CronJob (an environment's `bot` with mode `schedule`).
  ['batch', 'CronJob'],
  ['gateway.networking.k8s.io', 'Gateway'],
  ['gateway.networking.k8s.io', 'HTTPRoute'],
  ['http.keda.sh', 'HTTPScaledObject'],
  ['keda.sh', 'ScaledObject'],
  ['monitoring.coreos.com', 'PrometheusRule'],
  ['monitoring.coreos.com', 'ServiceMonitor'],
  ['networking.k8s.io', 'NetworkPolicy'],
  ['policy', 'PodDisruptionBudget'],
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
        // Charts install CRDs, cluster roles and webhooks.
        clusterResourceWhitelist: [{ group: '*', kind: '*' }],
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
      name: `llmops-${environment.name}`,
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
 * Application of its platform manifests, in waves before the environments. No
 * deletion finalizer: deleting an add-on's Application must never delete its
 * CRDs and with them every Rollout or ScaledObject in the cluster. Add-ons sync
 * automatically unless an environment in the cluster syncs manually.
 */
function platformApplications(fleet: Fleet, group: ClusterGroup): object[] {
  const auto = group.environments.every((environment) => environment.sync === 'auto');
  const manage = group.environments[0].addons.manage;
  const application = (name: string, wave: number, namespace: string, source: object, syncOptions: string[]) => ({
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Application',
    metadata: { name: `platform-${group.slug}-${name}`, namespace: ARGOCD_NAMESPACE, labels: { ...MANAGED_BY, 'llmops.dev/cluster': group.slug }, annotations: syncWave(wave) },
    spec: {
      project: PROJECTS.platform,
      source,
      destination: { name: group.cluster, namespace },
      syncPolicy: { ...(auto ? { automated: { prune: true, selfHeal: true } } : {}), syncOptions, retry: RETRY },
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
  const manifests = application('manifests', PLATFORM_MANIFESTS_WAVE, 'default', { repoURL: fleet.repositoryUrl, targetRevision: TARGET_REVISION, path: `${GENERATED_DIR}/${platformFolder(group.slug)}` }, ['ServerSideApply=true']);
  return [...charts, manifests];
}

/** The root Application and its own project: apply `generated/argocd/root.yaml` once; it keeps everything under apps/ in sync. */
function root(fleet: Fleet): object[] {
  return [
    {
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'AppProject',
      metadata: { name: PROJECTS.root, namespace: ARGOCD_NAMESPACE, labels: MANAGED_BY },
      spec: {
        description: 'The llmops-gitops app of apps: AppProjects and Applications only',
        sourceRepos: [fleet.repositoryUrl],
        destinations: [{ server: IN_CLUSTER, namespace: ARGOCD_NAMESPACE }],
        clusterResourceWhitelist: [],
        namespaceResourceWhitelist: [
          { group: 'argoproj.io', kind: 'Application' },
          { group: 'argoproj.io', kind: 'AppProject' },
        ],
      },
    },
    {
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'Application',
      metadata: { name: 'llmops-root', namespace: ARGOCD_NAMESPACE, labels: MANAGED_BY },
      spec: {
        project: PROJECTS.root,
        source: { repoURL: fleet.repositoryUrl, targetRevision: TARGET_REVISION, path: `${GENERATED_DIR}/${APPS_FOLDER}` },
        destination: { server: IN_CLUSTER, namespace: ARGOCD_NAMESPACE },
        syncPolicy: { automated: { prune: true, selfHeal: true }, retry: RETRY },
      },
    },
  ];
}

/**
 * Writes `generated/argocd/` (the root app and its project; under apps/ the
 * AppProjects, each cluster's add-ons and one Application per environment) and
 * `generated/platform/<cluster>/` (cluster-scoped objects the models need).
 */
export const argocdSynthesizer: Synthesizer = {
  name: 'argocd',
  synthesize(fleet: Fleet): OutputFile[] {
    const groups = clusterGroups(fleet);
    return [
      { path: 'argocd/root.yaml', content: yamlDocuments(root(fleet)) },
      { path: `${APPS_FOLDER}/project.yaml`, content: yamlDocuments(appProjects(fleet)) },
      ...groups.map((group) => ({ path: `${APPS_FOLDER}/platform-${group.slug}.yaml`, content: yamlDocuments(platformApplications(fleet, group)) })),
      ...fleet.environments.map((environment) => ({ path: `${APPS_FOLDER}/${environment.name}.yaml`, content: yamlDocuments([environmentApplication(fleet, environment)]) })),
      ...groups.map((group) => ({ path: `${platformFolder(group.slug)}/platform.yaml`, content: yamlDocuments(platformManifests(fleet, group)) })),
    ];
  },
};
