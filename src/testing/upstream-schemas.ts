/**
 * Validation of generated documents against the upstream schemas: core
 * Kubernetes (kubernetes-models) and the CRDs we emit (Argo Rollouts, Argo CD,
 * Prometheus Operator, KEDA, Gateway API). A kind without a schema is an error,
 * never a silent pass.
 */
import { AnalysisTemplate, Rollout } from '@kubernetes-models/argo-rollouts/argoproj.io/v1alpha1';
import { Application, AppProject } from '@kubernetes-models/argo-cd/argoproj.io/v1alpha1';
import { HTTPRoute } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1';
import { ScaledObject } from '@kubernetes-models/keda/keda.sh/v1alpha1';
import { PrometheusRule, ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';
import { Deployment } from 'kubernetes-models/apps/v1';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ConfigMap, Namespace, Service, ServiceAccount } from 'kubernetes-models/v1';

type Validatable = new (data: never) => { validate(): void };

const SCHEMAS: Record<string, Validatable> = {
  'v1/ConfigMap': ConfigMap,
  'v1/Namespace': Namespace,
  'v1/Service': Service,
  'v1/ServiceAccount': ServiceAccount,
  'apps/v1/Deployment': Deployment,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'argoproj.io/v1alpha1/Rollout': Rollout,
  'argoproj.io/v1alpha1/AnalysisTemplate': AnalysisTemplate,
  'argoproj.io/v1alpha1/Application': Application,
  'argoproj.io/v1alpha1/AppProject': AppProject,
  'monitoring.coreos.com/v1/ServiceMonitor': ServiceMonitor,
  'monitoring.coreos.com/v1/PrometheusRule': PrometheusRule,
  'keda.sh/v1alpha1/ScaledObject': ScaledObject,
  'gateway.networking.k8s.io/v1/HTTPRoute': HTTPRoute,
};

/** Validates one document; returns the problem, or undefined when it conforms. */
export function upstreamSchemaProblem(document: { apiVersion?: string; kind?: string }): string | undefined {
  const key = `${document.apiVersion}/${document.kind}`;
  const Model = SCHEMAS[key];
  if (!Model) return `no upstream schema known for ${key}`;
  try {
    new Model(document as never).validate();
    return undefined;
  } catch (error) {
    return `${key}: ${error instanceof Error ? error.message : String(error)}`;
  }
}
