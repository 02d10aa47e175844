/**
 * Waking a model that scaled to zero, with the KEDA HTTP add-on
 * (kedacore/http-add-on v0.15): the gateway sends the model's requests to the
 * add-on's interceptor, which holds them while KEDA scales the workload from
 * zero and then forwards them to the model's Service. The HTTPScaledObject only
 * registers the route (its own ScaledObject is skipped with the add-on's
 * `skip-scaledobject-creation` annotation); the model's ScaledObject adds the
 * add-on's external scaler as a second trigger beside vLLM's queue.
 */
import { ApiObject } from 'cdk8s';
import type { Construct } from 'constructs';
import type { FleetDeployment } from '../../fleet/fleet.ts';
import { deploymentLabels, syncWave, SyncWave, VLLM_PORT } from './labels.ts';
import { startupBudgetSeconds } from './model-server.ts';
import { serviceNames } from '../../fleet/naming.ts';
import type { WorkloadRef } from './workload.ts';

/** The add-on as its Helm chart (keda-add-ons-http 0.15.0, installed in `keda`) names it. */
export const HTTP_ADD_ON = {
  namespace: 'keda',
  /** `<chart>-interceptor-proxy`, port `interceptor.proxy.port`. */
  proxyService: 'keda-add-ons-http-interceptor-proxy',
  proxyPort: 8080,
  /** `<chart>-external-scaler`, port `scaler.grpcPort`. */
  scalerAddress: 'keda-add-ons-http-external-scaler.keda:9090',
  interceptorLabels: { 'app.kubernetes.io/component': 'interceptor', 'app.kubernetes.io/name': 'http-add-on' },
} as const;

/** Requests in flight per replica the add-on's trigger aims for while a model wakes (vLLM's queue trigger takes over once a pod reports). */
const WAKE_CONCURRENCY_PER_REPLICA = 100;

/** Whether a deployment may scale to zero (and so needs the wake path). */
export function scaledFromZero(deployment: FleetDeployment): boolean {
  return deployment.spec.replicas.min === 0;
}

/** Name of the wake trigger in the ScaledObject. */
export function wakeTriggerName(): string {
  return 'wake-on-request';
}

/** The host the interceptor routes a model's requests by; the HTTPRoute rewrites requests to it. */
export function wakeHost(deployment: FleetDeployment): string {
  return `${serviceNames(deployment.model.name).root}.${deployment.environment.namespace}.svc.cluster.local`;
}

/** The HTTPScaledObject registering a scale-to-zero model with the interceptor. */
export function addWakeRoute(scope: Construct, deployment: FleetDeployment, target: WorkloadRef): void {
  if (!scaledFromZero(deployment)) return;
  const { model, spec, policy } = deployment;
  new ApiObject(scope, 'wake-route', {
    apiVersion: 'http.keda.sh/v1alpha1',
    kind: 'HTTPScaledObject',
    metadata: {
      name: model.name,
      labels: deploymentLabels(deployment),
      annotations: { 'httpscaledobject.keda.sh/skip-scaledobject-creation': 'true', ...syncWave(SyncWave.routing) },
    },
    spec: {
      hosts: [wakeHost(deployment)],
      scaleTargetRef: { ...target, service: serviceNames(model.name).root, port: VLLM_PORT },
      replicas: { min: 0, max: spec.replicas.max },
      scalingMetric: { concurrency: { targetValue: WAKE_CONCURRENCY_PER_REPLICA } },
      scaledownPeriod: policy.autoscaling.cooldownSeconds,
      // A cold start loads the weights first: hold the waking requests that long instead of failing them after 20 s.
      timeouts: { conditionWait: `${startupBudgetSeconds(deployment)}s` },
    },
  });
}
