import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { loadFleet } from '../../fleet/load.ts';
import { preparedFixture, REPO_ROOT } from '../../testing/fixture-fleet.ts';
import { synthesize } from '../steps.ts';
import { destinationCluster, syncsAutomatically, waitedOn } from '../../testing/argocd-sync.ts';
import { PLATFORM_CLUSTER_KINDS } from './argocd-synthesizer.ts';
import { ADDON_CHARTS } from './cluster-addons.ts';

type Document = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string>; finalizers?: string[] };
  spec: any;
};

let tree: Map<string, string>;

beforeAll(async () => {
  const result = await loadFleet(await preparedFixture());
  if (!result.ok) throw new Error('the example fleet is invalid');
  tree = synthesize(result.fleet);
});

const documents = (file: string): Document[] => parseAllDocuments(tree.get(file) ?? '').map((document) => document.toJS());
const wave = (document: Document) => Number(document.metadata.annotations?.['argocd.argoproj.io/sync-wave'] ?? 0);
const applications = () =>
  [...tree.keys()]
    .filter((file) => file.startsWith('argocd/apps/') || file.startsWith('argocd/clusters/'))
    .flatMap(documents)
    .filter((document) => document.kind === 'Application');
const addons = (cluster: string) => documents(`argocd/clusters/${cluster}/platform.yaml`);
/** The documents an app of apps syncs: every YAML file of its source folder. */
const childrenOf = (application: Document) => {
  const folder = `${application.spec.source.path.replace(/^generated\//, '')}/`;
  return [...tree.keys()].filter((file) => file.startsWith(folder) && !file.slice(folder.length).includes('/')).flatMap(documents);
};
const appsOfApps = () => [documents('argocd/root.yaml')[1], ...applications().filter((application) => application.spec.project === 'llmops-root')];

describe('the Argo CD app of apps', () => {
  it('keeps the root app in its own project, and syncs the AppProjects first, then one app per cluster', () => {
    const [rootProject, rootApp] = documents('argocd/root.yaml');
    const projects = documents('argocd/apps/project.yaml');
    const clusters = applications().filter((application) => application.spec.project === 'llmops-root');

    expect(rootProject).toMatchObject({
      kind: 'AppProject',
      metadata: { name: 'llmops-root' },
      spec: {
        namespaceResourceWhitelist: [
          { group: 'argoproj.io', kind: 'Application' },
          { group: 'argoproj.io', kind: 'AppProject' },
        ],
      },
    });
    expect(rootApp.spec).toMatchObject({ project: 'llmops-root', source: { path: 'generated/argocd/apps' } });
    expect(projects.map((project) => [project.metadata.name, wave(project)])).toEqual([
      ['llmops', -10],
      ['llmops-platform', -10],
    ]);
    expect(clusters.map((application) => [application.metadata.name, application.spec.source.path])).toEqual([
      ['llmops-cluster-llm-dev', 'generated/argocd/clusters/llm-dev'],
      ['llmops-cluster-llm-prod', 'generated/argocd/clusters/llm-prod'],
      ['llmops-cluster-llm-research', 'generated/argocd/clusters/llm-research'],
      ['llmops-cluster-llm-staging', 'generated/argocd/clusters/llm-staging'],
    ]);
  });

  it("syncs each cluster's add-ons in waves before its environments", () => {
    const cluster = applications().find((application) => application.metadata.name === 'llmops-cluster-llm-prod')!;
    const children = childrenOf(cluster);
    const platform = children.filter((application) => application.spec.project === 'llmops-platform');
    const environments = children.filter((application) => application.spec.project === 'llmops');

    expect(environments.map((application) => application.metadata.name)).toEqual(['llmops-production']);
    expect(platform.length).toBeGreaterThan(3);
    expect(Math.max(...platform.map(wave))).toBeLessThan(Math.min(...environments.map(wave)));
    expect(Math.min(...platform.map(wave))).toBeGreaterThan(-10);
  });

  it('never lets a manual sync or one unreachable cluster hold up another: every app a sync waits on syncs by itself and deploys to one cluster', () => {
    const problems: string[] = [];
    for (const parent of appsOfApps()) {
      const held = waitedOn(childrenOf(parent)).filter((child) => child.kind === 'Application');
      for (const child of held) if (!syncsAutomatically(child)) problems.push(`${parent.metadata.name} waits on ${child.metadata.name}, which waits for a person`);
      const clusters = new Set(held.map(destinationCluster));
      if (clusters.size > 1) problems.push(`${parent.metadata.name} waits on apps of ${[...clusters].join(', ')}`);
    }

    expect(appsOfApps().map((parent) => parent.metadata.name)).toContain('llmops-root');
    // Production syncs by hand; its cluster's add-ons still sync by themselves.
    expect(documents('argocd/clusters/llm-prod/production.yaml')[0].spec.syncPolicy.automated).toBeUndefined();
    expect(addons('llm-prod').every(syncsAutomatically)).toBe(true);
    expect(problems).toEqual([]);
  });

  it('lets the add-ons create only the cluster-scoped kinds their charts and the platform manifests need', () => {
    const platform = documents('argocd/apps/project.yaml').find((project) => project.metadata.name === 'llmops-platform')!;
    const allowed = new Set(platform.spec.clusterResourceWhitelist.map((entry: { group: string; kind: string }) => `${entry.group}/${entry.kind}`));
    const manifests = [...tree.keys()].filter((file) => file.startsWith('platform/')).flatMap(documents);

    expect(allowed.has('*/*')).toBe(false);
    expect(platform.spec.clusterResourceWhitelist).toEqual(PLATFORM_CLUSTER_KINDS.map(([group, kind]) => ({ group, kind })));
    for (const manifest of manifests.filter((document) => !document.metadata.namespace)) {
      expect(allowed, `${manifest.kind}/${manifest.metadata.name}`).toContain(`${manifest.apiVersion.includes('/') ? manifest.apiVersion.split('/')[0] : ''}/${manifest.kind}`);
    }
  });

  it('syncs auto environments automatically and leaves production to a person; Argo CD creates each namespace with Pod Security "restricted"', () => {
    const production = documents('argocd/clusters/llm-prod/production.yaml')[0];
    const dev = documents('argocd/clusters/llm-dev/dev.yaml')[0];

    expect(production.spec.syncPolicy.automated).toBeUndefined();
    expect(dev.spec.syncPolicy.automated).toEqual({ prune: true, selfHeal: true });
    expect(dev.spec.source).toEqual({ repoURL: 'https://github.com/acme/llmops-gitops.git', targetRevision: 'HEAD', path: 'generated/dev/kubernetes' });
    for (const application of [production, dev]) {
      expect(application.spec.syncPolicy.syncOptions).toContain('CreateNamespace=true');
      expect(application.spec.syncPolicy.managedNamespaceMetadata.labels).toMatchObject({ 'pod-security.kubernetes.io/enforce': 'restricted' });
    }
    expect(documents('argocd/apps/project.yaml')[0].spec.sourceRepos).toEqual(['https://github.com/acme/llmops-gitops.git']);
  });

  it("never cascade-deletes: no Application carries a deletion finalizer (the namespace's out-of-band hf-token Secret and the add-ons' CRDs survive)", () => {
    const all = [...applications(), ...documents('argocd/root.yaml')];

    expect(all.length).toBeGreaterThan(20);

    expect(all.filter((document) => document.metadata.finalizers !== undefined).map((document) => document.metadata.name)).toEqual([]);
  });

  it("lets Argo Rollouts move the route's weights during a canary without Argo CD undoing them", () => {
    const production = documents('argocd/clusters/llm-prod/production.yaml')[0];
    const dev = documents('argocd/clusters/llm-dev/dev.yaml')[0];

    expect(production.spec.ignoreDifferences).toEqual([{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', jqPathExpressions: ['.spec.rules[].backendRefs[].weight'] }]);
    expect(production.spec.syncPolicy.syncOptions).toContain('RespectIgnoreDifferences=true');
    expect(dev.spec.ignoreDifferences).toBeUndefined();
  });

  it("installs each cluster's add-ons from pinned Helm charts: the GPU stack, gateway and HTTP add-on only where the cluster needs them", () => {
    const charts = (cluster: string) =>
      addons(cluster)
        .filter((document) => document.spec.source.chart)
        .map((document) => `${document.spec.source.chart}@${document.spec.source.targetRevision}`);

    // GKE: the driver and device plugin come with the node pool, the Gateway is Google's.
    expect(charts('llm-prod')).toEqual(['kube-prometheus-stack@88.5.3', 'keda@2.20.2', 'argo-rollouts@2.41.0']);
    // AKS: the NVIDIA device plugin and Envoy Gateway come from the add-ons.
    expect(charts('llm-staging')).toEqual(['kube-prometheus-stack@88.5.3', 'gateway-helm@v1.9.0', 'gpu-operator@v26.7.0', 'keda@2.20.2', 'argo-rollouts@2.41.0']);
    expect(charts('llm-dev')).toContain('keda-add-ons-http@0.15.0');
    expect(charts('llm-staging')).not.toContain('keda-add-ons-http@0.15.0');
    for (const application of addons('llm-staging')) expect(application.metadata.name).toMatch(/^platform-llm-staging-/);
  });

  it("scales EKS node groups with the cluster-autoscaler, assuming the IRSA role the cluster's first stack creates; the other clouds scale their own pools", () => {
    const autoscaler = addons('llm-dev').find((document) => document.spec.source.chart === 'cluster-autoscaler')!;

    expect(autoscaler.spec.source).toMatchObject({ repoURL: 'https://kubernetes.github.io/autoscaler', targetRevision: '9.59.0' });
    expect(autoscaler.spec.destination.namespace).toBe('kube-system');
    expect(autoscaler.spec.source.helm.valuesObject).toEqual({
      cloudProvider: 'aws',
      awsRegion: 'us-east-1',
      autoDiscovery: { clusterName: 'llm-dev' },
      rbac: { serviceAccount: { name: 'cluster-autoscaler', annotations: { 'eks.amazonaws.com/role-arn': 'arn:aws:iam::111122223333:role/llm-dev-cluster-autoscaler' } } },
    });
    expect(wave(autoscaler)).toBeLessThan(0);
    for (const cluster of ['llm-prod', 'llm-staging', 'llm-research']) expect(addons(cluster).map((document) => document.spec.source.chart)).not.toContain('cluster-autoscaler');
  });

  it("exports DCGM GPU metrics with the workload's namespace and pod labels (honorLabels), from the GPU Operator or, where it is not installed and the NVIDIA runtime is the default, standalone", () => {
    const dev = addons('llm-dev').find((document) => document.spec.source.chart === 'dcgm-exporter')!.spec.source.helm.valuesObject;
    const staging = addons('llm-staging').find((document) => document.spec.source.chart === 'gpu-operator')!.spec.source.helm.valuesObject;

    expect(dev.serviceMonitor).toEqual({ enabled: true, honorLabels: true, additionalLabels: { release: 'kube-prometheus-stack' } });
    expect(dev.extraEnv).toEqual([{ name: 'NVIDIA_VISIBLE_DEVICES', value: 'all' }]);
    expect(dev.tolerations).toContainEqual({ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' });
    expect(staging.dcgmExporter.serviceMonitor).toMatchObject({ enabled: true, honorLabels: true });
    expect(addons('llm-staging').map((document) => document.spec.source.chart)).not.toContain('dcgm-exporter');
  });

  it("configures the add-ons for the models: Argo Rollouts' Gateway API plugin, the GPU Operator on node-image drivers, metrics Prometheus joins", () => {
    const rollouts = addons('llm-prod').find((document) => document.spec.source.chart === 'argo-rollouts')!.spec.source.helm.valuesObject;
    const gpu = addons('llm-staging').find((document) => document.spec.source.chart === 'gpu-operator')!.spec.source.helm.valuesObject;

    expect(rollouts.controller.trafficRouterPlugins).toEqual([{ name: 'argoproj-labs/gatewayAPI', location: 'file:///plugins/rollouts-plugin-trafficrouter-gatewayapi' }]);
    expect(rollouts.controller.initContainers[0].image).toBe('ghcr.io/argoproj-labs/rollouts-plugin-trafficrouter-gatewayapi:v0.15.0');
    expect(rollouts.controller.metrics.serviceMonitor).toMatchObject({ enabled: true, additionalLabels: { release: 'kube-prometheus-stack' } });
    expect(gpu).toMatchObject({ driver: { enabled: false }, toolkit: { enabled: false } });
    expect(gpu.daemonsets.tolerations).toContainEqual({ key: 'kubernetes.azure.com/scalesetpriority', operator: 'Equal', value: 'spot', effect: 'NoSchedule' });
  });

  it('puts the cluster-scoped objects the models reference in a platform Application: PriorityClass, GatewayClass, ReferenceGrant', () => {
    const manifests = addons('llm-dev').find((document) => document.metadata.name === 'platform-llm-dev-manifests')!;
    const kinds = (cluster: string) => documents(`platform/${cluster}/platform.yaml`).map((document) => document.kind);

    expect(manifests.spec.source.path).toBe('generated/platform/llm-dev');
    expect(kinds('llm-dev')).toEqual(['PriorityClass', 'GatewayClass', 'ReferenceGrant']);
    expect(kinds('llm-prod')).toEqual(['PriorityClass']);
  });

  it('matches the README\'s "What must exist in the cluster" table exactly', async () => {
    const readme = await readFile(path.join(REPO_ROOT, 'README.md'), 'utf8');
    const section = readme.split('\n## What must exist in the cluster\n')[1]?.split('\n## ')[0] ?? '';
    const rows = section
      .split('\n')
      .filter((line) => /^\| `/.test(line))
      .map((line) =>
        line
          .split('|')
          .slice(1, 6)
          .map((cell) => cell.trim().replace(/`/g, '')),
      );
    const generated = new Set(
      applications()
        .filter((application) => application.spec.source.chart)
        .map((application) => `${application.spec.source.chart}|${application.spec.source.repoURL}|${application.spec.source.targetRevision}`),
    );

    expect(rows).toEqual(
      Object.values(ADDON_CHARTS)
        .sort((a, b) => a.wave - b.wave || a.name.localeCompare(b.name))
        .map((chart) => [chart.chart, chart.repoURL, chart.version, chart.namespace, String(chart.wave)]),
    );
    for (const entry of generated) expect(rows.map((row) => row.slice(0, 3).join('|'))).toContain(entry);
  });
});
