/**
 * The KEDA HTTP add-on's InterceptorRoute (http.keda.sh/v1beta1, added in
 * v0.14 to replace HTTPScaledObject, whose use the operator now logs as
 * deprecated) as a TypeScript interface, written from the upstream Go types
 * (kedacore/http-add-on v0.15.0 operator/apis/http/v1beta1/interceptorroute_types.go),
 * for the strict schema check: no @kubernetes-models package covers it.
 */
import type { IIoK8sApimachineryPkgApisMetaV1ObjectMeta } from '@kubernetes-models/apimachinery/apis/meta/v1/ObjectMeta';

interface ServiceRef {
  name: string;
  port?: number;
  portName?: string;
}

interface StaticResponse {
  statusCode?: number;
  body?: string;
  bodyFromConfigMap?: { name: string; key?: string };
  headers?: Record<string, string>;
}

export interface IInterceptorRoute {
  apiVersion: 'http.keda.sh/v1beta1';
  kind: 'InterceptorRoute';
  metadata?: IIoK8sApimachineryPkgApisMetaV1ObjectMeta;
  spec: {
    target: { service: string; port?: number; portName?: string };
    coldStart?: { fallback?: { service?: ServiceRef }; placeholder?: { response?: StaticResponse } };
    timeouts?: { readiness?: string; request?: string; responseHeader?: string };
    rules?: { hosts?: string[]; paths?: { value: string }[]; headers?: { name: string; value?: string }[] }[];
    scalingMetric: { concurrency?: { targetValue: number }; requestRate?: { granularity?: string; targetValue: number; window?: string } };
  };
}
