/**
 * Validation of generated documents against the upstream schemas: core
 * Kubernetes (kubernetes-models) and the CRDs we emit (Argo Rollouts, Argo CD,
 * Prometheus Operator, KEDA, Gateway API, GKE's policies, the KEDA HTTP add-on,
 * Envoy Gateway). Two checks, both needed:
 * - the models' runtime validators (JSON Schema): types, formats, required
 *   fields, but unknown fields pass (the generated schemas allow them);
 * - a strict check: every document is compiled by TypeScript as an object
 *   literal of the upstream model's interface, so an unknown field anywhere
 *   fails (excess-property check), for every kind.
 * A kind without a schema is an error, never a silent pass.
 */
import { AnalysisTemplate, Rollout } from '@kubernetes-models/argo-rollouts/argoproj.io/v1alpha1';
import { Application, AppProject } from '@kubernetes-models/argo-cd/argoproj.io/v1alpha1';
import { Gateway, GatewayClass, HTTPRoute } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1';
import { ReferenceGrant } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1beta1';
import { GCPBackendPolicy, HealthCheckPolicy } from '@kubernetes-models/gke/networking.gke.io/v1';
import { ScaledObject } from '@kubernetes-models/keda/keda.sh/v1alpha1';
import { PrometheusRule, ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';
import { Deployment } from 'kubernetes-models/apps/v1';
import { CronJob } from 'kubernetes-models/batch/v1';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { PriorityClass } from 'kubernetes-models/scheduling.k8s.io/v1';
import { ConfigMap, Namespace, PersistentVolumeClaim, Service, ServiceAccount } from 'kubernetes-models/v1';
import path from 'node:path';
import ts from 'typescript';
import { REPO_ROOT } from './fixture-fleet.ts';

type Validatable = new (data: never) => { validate(): void };

/** Each kind: its runtime model (when the package ships one) and the module and interface the strict check compiles against. */
const KINDS: Record<string, { readonly model?: Validatable; readonly module: string; readonly type: string }> = {
  'v1/ConfigMap': { model: ConfigMap, module: 'kubernetes-models/v1/ConfigMap', type: 'IConfigMap' },
  'v1/Namespace': { model: Namespace, module: 'kubernetes-models/v1/Namespace', type: 'INamespace' },
  'v1/PersistentVolumeClaim': { model: PersistentVolumeClaim, module: 'kubernetes-models/v1/PersistentVolumeClaim', type: 'IPersistentVolumeClaim' },
  'v1/Service': { model: Service, module: 'kubernetes-models/v1/Service', type: 'IService' },
  'v1/ServiceAccount': { model: ServiceAccount, module: 'kubernetes-models/v1/ServiceAccount', type: 'IServiceAccount' },
  'apps/v1/Deployment': { model: Deployment, module: 'kubernetes-models/apps/v1/Deployment', type: 'IDeployment' },
  'batch/v1/CronJob': { model: CronJob, module: 'kubernetes-models/batch/v1/CronJob', type: 'ICronJob' },
  'networking.k8s.io/v1/NetworkPolicy': { model: NetworkPolicy, module: 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy', type: 'INetworkPolicy' },
  'policy/v1/PodDisruptionBudget': { model: PodDisruptionBudget, module: 'kubernetes-models/policy/v1/PodDisruptionBudget', type: 'IPodDisruptionBudget' },
  'scheduling.k8s.io/v1/PriorityClass': { model: PriorityClass, module: 'kubernetes-models/scheduling.k8s.io/v1/PriorityClass', type: 'IPriorityClass' },
  'argoproj.io/v1alpha1/Rollout': { model: Rollout, module: '@kubernetes-models/argo-rollouts/argoproj.io/v1alpha1/Rollout', type: 'IRollout' },
  'argoproj.io/v1alpha1/AnalysisTemplate': { model: AnalysisTemplate, module: '@kubernetes-models/argo-rollouts/argoproj.io/v1alpha1/AnalysisTemplate', type: 'IAnalysisTemplate' },
  'argoproj.io/v1alpha1/Application': { model: Application, module: '@kubernetes-models/argo-cd/argoproj.io/v1alpha1/Application', type: 'IApplication' },
  'argoproj.io/v1alpha1/AppProject': { model: AppProject, module: '@kubernetes-models/argo-cd/argoproj.io/v1alpha1/AppProject', type: 'IAppProject' },
  'monitoring.coreos.com/v1/ServiceMonitor': { model: ServiceMonitor, module: '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor', type: 'IServiceMonitor' },
  'monitoring.coreos.com/v1/PrometheusRule': { model: PrometheusRule, module: '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule', type: 'IPrometheusRule' },
  'keda.sh/v1alpha1/ScaledObject': { model: ScaledObject, module: '@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject', type: 'IScaledObject' },
  'gateway.networking.k8s.io/v1/Gateway': { model: Gateway, module: '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/Gateway', type: 'IGateway' },
  'gateway.networking.k8s.io/v1/GatewayClass': { model: GatewayClass, module: '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/GatewayClass', type: 'IGatewayClass' },
  'gateway.networking.k8s.io/v1/HTTPRoute': { model: HTTPRoute, module: '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/HTTPRoute', type: 'IHTTPRoute' },
  'gateway.networking.k8s.io/v1beta1/ReferenceGrant': { model: ReferenceGrant, module: '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1beta1/ReferenceGrant', type: 'IReferenceGrant' },
  'networking.gke.io/v1/HealthCheckPolicy': { model: HealthCheckPolicy, module: '@kubernetes-models/gke/networking.gke.io/v1/HealthCheckPolicy', type: 'IHealthCheckPolicy' },
  'networking.gke.io/v1/GCPBackendPolicy': { model: GCPBackendPolicy, module: '@kubernetes-models/gke/networking.gke.io/v1/GCPBackendPolicy', type: 'IGCPBackendPolicy' },
  // No @kubernetes-models package covers the KEDA HTTP add-on or Envoy Gateway: their interfaces are written from the upstream Go types.
  'http.keda.sh/v1beta1/InterceptorRoute': { module: './interceptor-route.ts', type: 'IInterceptorRoute' },
  'gateway.envoyproxy.io/v1alpha1/EnvoyProxy': { module: './envoy-proxy.ts', type: 'IEnvoyProxy' },
};

type Document = { apiVersion?: string; kind?: string; metadata?: { name?: string } };

const keyOf = (document: Document) => `${document.apiVersion}/${document.kind}`;

/** Validates one document with the upstream model's runtime validator; returns the problem, or undefined when it conforms. */
export function upstreamSchemaProblem(document: Document): string | undefined {
  const key = keyOf(document);
  const kind = KINDS[key];
  if (!kind) return `no upstream schema known for ${key}`;
  if (!kind.model) return undefined; // checked by strictSchemaProblems only
  try {
    new kind.model(document as never).validate();
    return undefined;
  } catch (error) {
    return `${key}: ${error instanceof Error ? error.message : String(error)}`;
  }
}

/** A document and where it came from, for messages. */
export interface LabelledDocument {
  readonly label: string;
  readonly document: Document;
}

/**
 * Compiles every document as `const dN: I<Kind> = <document>;` in one
 * TypeScript program against the upstream interfaces and returns one problem
 * per diagnostic (unknown fields, wrong types, missing required fields).
 */
export function strictSchemaProblems(documents: readonly LabelledDocument[]): string[] {
  const problems: string[] = [];
  const aliases = new Map<string, string>();
  const declarations: { label: string; start: number; end: number }[] = [];
  let body = '';
  documents.forEach(({ label, document }, index) => {
    const kind = KINDS[keyOf(document)];
    if (!kind) {
      problems.push(`${label}: no upstream schema known for ${keyOf(document)}`);
      return;
    }
    if (!aliases.has(kind.module)) aliases.set(kind.module, `T${aliases.size}`);
    const statement = `export const d${index}: ${aliases.get(kind.module)} = ${JSON.stringify(document)};\n`;
    declarations.push({ label, start: body.length, end: body.length + statement.length });
    body += statement;
  });
  const typeOf = new Map(Object.values(KINDS).map((kind) => [kind.module, kind.type]));
  const header = `${[...aliases].map(([module, alias]) => `import type { ${typeOf.get(module)} as ${alias} } from '${module}';`).join('\n')}\n`;
  const file = path.join(REPO_ROOT, 'src/testing/strict-schema-check.ts');
  const source = header + body;
  const options: ts.CompilerOptions = {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    allowImportingTsExtensions: true,
    types: [],
  };
  const host = ts.createCompilerHost(options);
  const readFile = host.readFile.bind(host);
  const getSourceFile = host.getSourceFile.bind(host);
  host.fileExists = (
    (exists) => (name: string) =>
      name === file || exists(name)
  )(host.fileExists.bind(host));
  host.readFile = (name) => (name === file ? source : readFile(name));
  host.getSourceFile = (name, language, onError, create) => (name === file ? ts.createSourceFile(name, source, language) : getSourceFile(name, language, onError, create));
  const program = ts.createProgram([file], options, host);
  for (const diagnostic of ts.getPreEmitDiagnostics(program)) {
    const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, ' ');
    if (diagnostic.file?.fileName !== file || diagnostic.start === undefined) {
      problems.push(`strict check: ${message}`);
      continue;
    }
    const offset = diagnostic.start - header.length;
    const where = declarations.find((declaration) => offset >= declaration.start && offset < declaration.end);
    problems.push(`${where?.label ?? 'strict check'}: ${message}`);
  }
  return problems;
}
