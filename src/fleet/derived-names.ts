/**
 * The Kubernetes and Argo CD names the synthesizers will write, listed from the
 * declarations with the field that causes each, for the name checker. It
 * follows what src/synth/kubernetes and src/synth/argocd make: Services
 * (stable and canary ones with a canary), the AnalysisTemplate, the
 * ServiceAccount, NetworkPolicies, prompt ConfigMaps and Argo CD
 * Applications; objects named after the model alone (Rollout, ScaledObject,
 * PodDisruptionBudget, ServiceMonitor, HTTPRoute) are unique because
 * deployments are keyed by model.
 */
import type { Declarations } from './cross-check.ts';
import { DNS_1035_LABEL, DNS_1123_SUBDOMAIN, type DerivedName } from './name-check.ts';
import {
  analysisTemplateNames,
  argocdApplicationName,
  BOT_GIT_CONFIG_NAME,
  BOT_NAME,
  clusterApplicationName,
  platformApplicationName,
  DEFAULT_DENY_POLICY_NAME,
  MODEL_REGISTRY_NAME,
  modelServerServiceAccount,
  promptConfigMapName,
  ROOT_APPLICATION_NAME,
  serviceNames,
} from './naming.ts';
import { cloudPlugin } from '../clouds/registry.ts';

export function kubernetesNames(declarations: Declarations): DerivedName[] {
  const names: DerivedName[] = [];
  for (const { file, value: environment } of declarations.environments) {
    const scope = `namespace ${environment.namespace} of cluster ${environment.cluster}`;
    const add = (kind: string, name: string, rule = DNS_1123_SUBDOMAIN, fieldPath = '', declarationFile = file, role?: string) =>
      names.push({ name, rule, kind, scope, declarationFile, fieldPath, ...(role ? { role } : {}) });
    // The environment's own objects first: a deployment that collides with one is the one reported.
    add('ConfigMap', MODEL_REGISTRY_NAME, DNS_1123_SUBDOMAIN, '', '');
    add('NetworkPolicy', DEFAULT_DENY_POLICY_NAME, DNS_1123_SUBDOMAIN, '', '');
    if (environment.bot) {
      for (const kind of ['ServiceAccount', 'NetworkPolicy', 'ServiceMonitor']) add(kind, BOT_NAME, DNS_1123_SUBDOMAIN, 'bot', file, `bot ${kind}`);
      add('Service', BOT_NAME, DNS_1035_LABEL, 'bot', file, 'bot Service');
      add('ConfigMap', BOT_GIT_CONFIG_NAME, DNS_1123_SUBDOMAIN, 'bot', file, 'bot ConfigMap');
    }
    for (const modelName of Object.keys(environment.deployments)) {
      const at = `deployments.${modelName}`;
      const services = serviceNames(modelName);
      add('Service', services.root, DNS_1035_LABEL, at);
      if (environment.canary) {
        add('Service', services.stable, DNS_1035_LABEL, at, file, 'stable Service');
        add('Service', services.canary, DNS_1035_LABEL, at, file, 'canary Service');
        const templates = analysisTemplateNames(modelName);
        add('AnalysisTemplate', templates.canary, DNS_1123_SUBDOMAIN, at, file, 'canary AnalysisTemplate');
        add('AnalysisTemplate', templates.versusStable, DNS_1123_SUBDOMAIN, at, file, 'canary-vs-stable AnalysisTemplate');
      }
      add('ServiceAccount', modelServerServiceAccount(modelName), DNS_1123_SUBDOMAIN, at);
      add('NetworkPolicy', modelName, DNS_1123_SUBDOMAIN, at);
      for (const { file: promptFile, value: prompt } of declarations.prompts.filter(({ value }) => value.model === modelName)) {
        for (const version of Object.keys(prompt.versions)) add('ConfigMap', promptConfigMapName(prompt, version), DNS_1123_SUBDOMAIN, `versions.${version}`, promptFile, 'prompt ConfigMap');
      }
    }
  }
  // Argo CD Applications live in one namespace; names up to 253 characters (Argo CD 3 tracks resources by annotation).
  const argocd = 'the argocd namespace';
  names.push({ name: ROOT_APPLICATION_NAME, rule: DNS_1123_SUBDOMAIN, kind: 'Application', scope: argocd, declarationFile: '', fieldPath: '' });
  const clusters = new Map<string, string>();
  for (const { file, value } of declarations.environments) {
    names.push({ name: argocdApplicationName(value.name), rule: DNS_1123_SUBDOMAIN, kind: 'Application', scope: argocd, declarationFile: file, fieldPath: 'name' });
    // Environments sharing a cluster share its Applications; two clusters whose names give one slug would not.
    if (clusters.get(value.cluster) === undefined) {
      clusters.set(value.cluster, file);
      names.push({
        name: clusterApplicationName(value.cluster),
        rule: DNS_1123_SUBDOMAIN,
        kind: 'Application',
        role: 'cluster app of apps',
        scope: argocd,
        declarationFile: file,
        fieldPath: 'cluster',
      });
      names.push({
        name: platformApplicationName(value.cluster, 'manifests'),
        rule: DNS_1123_SUBDOMAIN,
        kind: 'Application',
        role: 'cluster platform Application',
        scope: argocd,
        declarationFile: file,
        fieldPath: 'cluster',
      });
    }
  }
  return names;
}

/**
 * Every cloud name the Terraform output derives from the environments (node
 * pools, IAM roles, service accounts, buckets), each cloud's plug-in listing its
 * own; scopes can span environments, as two environments can share an AWS
 * account or a cluster.
 */
export function cloudNames(declarations: Declarations): DerivedName[] {
  return declarations.environments.flatMap(({ file, value }) =>
    cloudPlugin(value.cloud)
      .derivedNames(value, Object.keys(value.deployments))
      .map((name) => ({ ...name, declarationFile: file })),
  );
}
