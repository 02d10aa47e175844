import type { Environment } from '../../declarations/environment.ts';
import type { Fleet } from '../../fleet/fleet.ts';
import { argocdApplicationName, ROOT_APPLICATION_NAME } from '../../fleet/naming.ts';
import { GENERATED_DIR } from '../write.ts';
import { kubernetesFolder } from '../kubernetes/kubernetes-synthesizer.ts';
import { MANAGED_BY } from '../kubernetes/labels.ts';
import { yamlDocuments } from '../serialize.ts';
import type { OutputFile, Synthesizer } from '../synthesizer.ts';

const ARGOCD_NAMESPACE = 'argocd';
const PROJECT = 'llmops';
const TARGET_REVISION = 'HEAD';
const APPS_FOLDER = 'argocd/apps';

/** Kinds the environment Applications may create, by API group. */
const NAMESPACED_KINDS: readonly [string, string][] = [
  ['', 'ConfigMap'],
  ['', 'Service'],
  ['', 'ServiceAccount'],
  ['apps', 'Deployment'],
  ['argoproj.io', 'AnalysisTemplate'],
  ['argoproj.io', 'Rollout'],
  ['gateway.networking.k8s.io', 'HTTPRoute'],
  ['keda.sh', 'ScaledObject'],
  ['monitoring.coreos.com', 'PrometheusRule'],
  ['monitoring.coreos.com', 'ServiceMonitor'],
  ['networking.k8s.io', 'NetworkPolicy'],
  ['policy', 'PodDisruptionBudget'],
];

function appProject(fleet: Fleet): object {
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'AppProject',
    metadata: { name: PROJECT, namespace: ARGOCD_NAMESPACE, labels: MANAGED_BY },
    spec: {
      description: 'LLM serving fleet compiled by llmops-gitops',
      sourceRepos: [fleet.repositoryUrl],
      destinations: fleet.environments.map((environment) => ({ name: environment.cluster, namespace: environment.namespace })),
      clusterResourceWhitelist: [{ group: '', kind: 'Namespace' }],
      namespaceResourceWhitelist: NAMESPACED_KINDS.map(([group, kind]) => ({ group, kind })),
      orphanedResources: { warn: true },
    },
  };
}

/**
 * One Application per environment on its kubernetes folder. `auto` environments
 * sync, prune and self-heal on merge; `manual` ones (production) wait for a
 * person to press sync, and keep their resources if the Application is deleted.
 */
function environmentApplication(fleet: Fleet, environment: Environment): object {
  const auto = environment.sync === 'auto';
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Application',
    metadata: {
      name: argocdApplicationName(environment.name),
      namespace: ARGOCD_NAMESPACE,
      labels: { ...MANAGED_BY, 'llmops.dev/environment': environment.name },
      ...(auto ? { finalizers: ['resources-finalizer.argocd.argoproj.io'] } : {}),
    },
    spec: {
      project: PROJECT,
      source: { repoURL: fleet.repositoryUrl, targetRevision: TARGET_REVISION, path: `${GENERATED_DIR}/${kubernetesFolder(environment.name)}` },
      destination: { name: environment.cluster, namespace: environment.namespace },
      syncPolicy: {
        ...(auto ? { automated: { prune: true, selfHeal: true } } : {}),
        syncOptions: ['ServerSideApply=true', 'PruneLast=true', 'ApplyOutOfSyncOnly=true'],
        retry: { limit: 5, backoff: { duration: '10s', factor: 2, maxDuration: '3m' } },
      },
      revisionHistoryLimit: 10,
    },
  };
}

/** The app of apps: apply `generated/argocd/root.yaml` once; it keeps the project and the environment Applications in sync. */
function rootApplication(fleet: Fleet): object {
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Application',
    metadata: { name: ROOT_APPLICATION_NAME, namespace: ARGOCD_NAMESPACE, labels: MANAGED_BY },
    spec: {
      project: 'default',
      source: { repoURL: fleet.repositoryUrl, targetRevision: TARGET_REVISION, path: `${GENERATED_DIR}/${APPS_FOLDER}` },
      destination: { server: 'https://kubernetes.default.svc', namespace: ARGOCD_NAMESPACE },
      syncPolicy: { automated: { prune: true, selfHeal: true }, retry: { limit: 5, backoff: { duration: '10s', factor: 2, maxDuration: '3m' } } },
    },
  };
}

/** Writes `generated/argocd/`: the root Application and, under apps/, the AppProject and one Application per environment. */
export const argocdSynthesizer: Synthesizer = {
  name: 'argocd',
  synthesize(fleet: Fleet): OutputFile[] {
    return [
      { path: 'argocd/root.yaml', content: yamlDocuments([rootApplication(fleet)]) },
      { path: `${APPS_FOLDER}/project.yaml`, content: yamlDocuments([appProject(fleet)]) },
      ...fleet.environments.map((environment) => ({ path: `${APPS_FOLDER}/${environment.name}.yaml`, content: yamlDocuments([environmentApplication(fleet, environment)]) })),
    ];
  },
};
