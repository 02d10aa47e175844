/**
 * Loader rules about how a deployment is served in its cluster: availability,
 * scale to zero, the model cache, the gateway's traffic sources and the shared
 * cluster add-ons. Each reports the file and field, what was expected and what
 * was found, and how to fix it.
 */
import type { Environment } from '../declarations/environment.ts';
import { resolvePolicy, type Policy } from '../declarations/policy.ts';
import { canaryTraffic, evidenceWindowSeconds, expectedCanaryRequests } from './canary-traffic.ts';
import { isDeepStrictEqual } from 'node:util';
import { isCloudIssue } from '../clouds/cloud-plugin.ts';
import { exposureOf, gatewaySourcesOrIssue, sharedCacheStorageClass } from './cluster-defaults.ts';
import type { Loaded } from './cross-check.ts';

type Report = (file: string, path: string, message: string) => void;

/** Whether an environment accepts deployments with a single replica: declared, else only where Argo CD syncs automatically (not production). */
export function acceptsSingleReplica(environment: Environment): boolean {
  return environment.availability.acceptSingleReplica ?? environment.sync !== 'manual';
}

/** The fewest replicas a deployment of the environment may declare as `replicas.min` (0 where it may scale to zero). */
export function replicaFloor(environment: Environment): number {
  if (environment.scaleToZero) return 0;
  return acceptsSingleReplica(environment) ? 1 : 2;
}

export function checkServing({ file, value: environment }: Loaded<Environment>, report: Report): void {
  for (const [modelName, deployment] of Object.entries(environment.deployments)) {
    const at = `deployments.${modelName}.replicas.min`;
    const { min } = deployment.replicas;
    if (min < 2 && !acceptsSingleReplica(environment) && (min > 0 || !environment.scaleToZero)) {
      report(
        file,
        at,
        `expected at least 2 where sync is "manual": with one replica a node drain or upgrade evicts the only server and the model is offline until a replacement has loaded its weights; raise replicas.min to 2, or accept that with availability: { acceptSingleReplica: true } (got ${min})`,
      );
    }
    if (min === 0 && environment.canary && environment.gateway.canaryTraffic === 'gateway-api') {
      report(
        file,
        at,
        'expected at least 1 with exact canary weights: a model that scales to zero is reached through the KEDA HTTP add-on\'s interceptor (which wakes it), and the Gateway API traffic router cannot split that route; keep replicas.min at 1, or set gateway.canaryTraffic: "replica-count" or canary: false (got 0)',
      );
    }
  }
  const cache = environment.modelCache;
  if (cache.kind === 'shared-volume' && !sharedCacheStorageClass(environment)) {
    report(
      file,
      'modelCache.storageClassName',
      `required on ${environment.cloud}: expected a StorageClass that offers ReadWriteMany (on EKS, the one you created for the EFS CSI driver) (got nothing)`,
    );
  }
  const sources = gatewaySourcesOrIssue(environment);
  if (isCloudIssue(sources)) report(file, sources.path, sources.message);
  checkExposure({ file, value: environment }, report);
}

/** A public Gateway serves HTTPS only and never lets an unauthenticated request through. */
function checkExposure({ file, value: environment }: Loaded<Environment>, report: Report): void {
  const { gateway } = environment;
  if (exposureOf(environment) !== 'public' || gateway.mode !== 'managed') return;
  if (!gateway.tls) {
    report(
      file,
      'gateway.tls',
      'required with exposure "public": expected the certificate of the HTTPS listener, { certificateSecret: "<kubernetes.io/tls Secret in the namespace>" } (got nothing); a public Gateway has no plain-HTTP listener',
    );
  }
  if (environment.authentication.kind === 'none') {
    report(
      file,
      'authentication',
      'expected "api-key" with exposure "public": anyone on the internet could call the models (got "none"); set authentication: { kind: "api-key" } or gateway.exposure: "internal"',
    );
  }
}

/** Environments in one cluster share its add-ons (and the Prometheus their ServiceMonitors join): they must declare the same. */
export function checkSharedClusters(environments: readonly Loaded<Environment>[], report: Report): void {
  const first = new Map<string, Loaded<Environment>>();
  for (const loaded of environments) {
    const { value } = loaded;
    const key = `${value.cloud}/${value.cluster}`;
    const owner = first.get(key);
    if (!owner) {
      first.set(key, loaded);
      continue;
    }
    for (const field of ['addons', 'monitoring'] as const) {
      if (!isDeepStrictEqual(value[field], owner.value[field])) {
        report(loaded.file, field, `expected the same ${field} as ${owner.file}, which shares cluster ${value.cluster}: one cluster has one set of add-ons (got ${JSON.stringify(value[field])})`);
      }
    }
  }
}

/**
 * A deployment whose expected traffic is declared must be able to gather the
 * canary evidence its policy asks for at every analysed step: at the step's
 * traffic share (exact with the traffic router; the canary's share of the pods
 * at the minimum replicas without), within the step's evidence window.
 */
export function checkCanaryEvidence(environments: readonly Loaded<Environment>[], policies: readonly Loaded<Policy>[], report: Report): void {
  for (const { file, value: environment } of environments) {
    if (!environment.canary) continue;
    for (const [modelName, deployment] of Object.entries(environment.deployments)) {
      const loadedPolicy = policies.find(({ value }) => value.name === deployment.policy);
      const rpm = deployment.expectedRequestsPerMinute;
      if (!loadedPolicy || rpm === undefined) continue;
      const policy = resolvePolicy(loadedPolicy.value);
      const plan = canaryTraffic(policy.canarySteps, environment.gateway.canaryTraffic, deployment.replicas);
      const { minRequests } = policy.canaryEvidence;
      const windowMinutes = evidenceWindowSeconds(policy) / 60;
      for (const step of plan.steps.filter((candidate) => candidate.analysis)) {
        const share = Math.min(step.trafficPct.atMin, step.trafficPct.atMax);
        const gathered = expectedCanaryRequests(policy, rpm, share);
        if (gathered >= minRequests) continue;
        const neededShare = Math.ceil((minRequests * 100) / (rpm * windowMinutes));
        report(
          file,
          `deployments.${modelName}.expectedRequestsPerMinute`,
          `expected traffic that lets every canary step gather canaryEvidence.minRequests (${minRequests}) requests: the ${step.declaredWeightPct} % step of ${loadedPolicy.file} gives the canary ${Number(share.toFixed(2))} % of ${rpm} requests/min, ${Number(gathered.toFixed(1))} in its ${Number(windowMinutes.toFixed(1))}-minute analysis, so the step would always fail (got ${rpm}); raise that step's weightPct to ${neededShare} or more, lengthen the analysis (canary.analysisCount), or lower canaryEvidence.minRequests`,
        );
        break;
      }
    }
  }
}
