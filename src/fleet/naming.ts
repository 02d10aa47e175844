/**
 * Every name the compiler derives from a declared one, in one place, so that
 * the outputs agree with each other (Kubernetes and Terraform) and the loader
 * can check each name before anything is written (derived-names.ts).
 */
import { createHash } from 'node:crypto';
import type { Environment } from '../declarations/environment.ts';
import type { Prompt } from '../declarations/prompt.ts';
import { stableJson } from './stable-json.ts';

/** Kubernetes ServiceAccount of a model's servers (one per deployment, so each reads only its model). */
export function modelServerServiceAccount(modelName: string): string {
  return `${modelName}-server`;
}

/**
 * Names of a deployment's Services: `root` reaches every pod (Prometheus scrapes through it; the route uses it without a
 * traffic router); Argo Rollouts pins `stable` and `canary` to their pods, and its Gateway API router weights them.
 */
export function serviceNames(modelName: string): { root: string; stable: string; canary: string } {
  return { root: modelName, stable: `${modelName}-stable`, canary: `${modelName}-canary` };
}

/**
 * The canary's AnalysisTemplates: `<model>-canary` judges the canary on its own
 * (enough requests, server-error ratio, absolute quality); `<model>-canary-vs-stable`
 * compares it with the stable pods (latency, relative quality). A step at which
 * the canary takes every request has no stable pods left to compare with
 * (`dynamicStableScale` scales them to zero; a basic canary at 100 % too), so it
 * runs the first only — a comparison there would be NaN, inconclusive, and
 * pause every rollout.
 */
export function analysisTemplateNames(modelName: string): { canary: string; versusStable: string } {
  return { canary: `${modelName}-canary`, versusStable: `${modelName}-canary-vs-stable` };
}

/** ConfigMap of one prompt version; the name carries a content hash, so an edit makes a new object and rolls its consumers. */
export function promptConfigMapName(prompt: Prompt, version: string): string {
  const hash = createHash('sha256').update(stableJson(prompt.versions[version])).digest('hex').slice(0, 8);
  return `prompt-${prompt.name}-${version}-${hash}`;
}

/** The environment's model registry ConfigMap. */
export const MODEL_REGISTRY_NAME = 'llmops-model-registry';

/** The in-cluster bot's objects (Deployment or CronJob, ServiceAccount, Service, NetworkPolicy, ServiceMonitor) and its file. */
export const BOT_NAME = 'llmops-bot';
/** The ConfigMap of the bot's git configuration. */
export const BOT_GIT_CONFIG_NAME = `${BOT_NAME}-gitconfig`;

/** The environment's NetworkPolicy that denies what no other policy admits. */
export const DEFAULT_DENY_POLICY_NAME = 'default-deny';

/** The Argo CD Application of an environment, and the app of apps over them. */
export function argocdApplicationName(environmentName: string): string {
  return `llmops-${environmentName}`;
}
export const ROOT_APPLICATION_NAME = 'llmops-root';

/** A cluster's name as it appears in file and Application names: lower case, runs of other characters as '-'. */
export function clusterSlug(cluster: string): string {
  return cluster
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '');
}

/** The app of apps of one cluster (its add-ons, then its environments). */
export function clusterApplicationName(cluster: string): string {
  return `llmops-cluster-${clusterSlug(cluster)}`;
}

/** The Application of one cluster add-on (`keda`, `argo-rollouts`, `manifests` for the platform manifests). */
export function platformApplicationName(cluster: string, addon: string): string {
  return `platform-${clusterSlug(cluster)}-${addon}`;
}

/** Object prefix of a model's artifacts in the environment's model bucket. */
export function modelArtifactPrefix(modelName: string): string {
  return `models/${modelName}/`;
}

/** Labels (tags) every cloud resource carries. */
export function resourceLabels(environment: Environment, extra: Record<string, string> = {}): Record<string, string> {
  return { environment: environment.name, 'managed-by': 'llmops-gitops', ...extra };
}

/** The Kubernetes workload-identity subject of a model's servers. */
export function serviceAccountSubject(environment: Environment, modelName: string): string {
  return `system:serviceaccount:${environment.namespace}:${modelServerServiceAccount(modelName)}`;
}
