/**
 * The KEDA HTTP add-on's HTTPScaledObject (http.keda.sh/v1alpha1) as a
 * TypeScript interface, written from the upstream Go types
 * (kedacore/http-add-on v0.15.0 operator/apis/http/v1alpha1/httpscaledobject_types.go),
 * for the strict schema check: no @kubernetes-models package covers it.
 */
import type { IIoK8sApimachineryPkgApisMetaV1ObjectMeta } from '@kubernetes-models/apimachinery/apis/meta/v1/ObjectMeta';

export interface IHTTPScaledObject {
  apiVersion: 'http.keda.sh/v1alpha1';
  kind: 'HTTPScaledObject';
  metadata?: IIoK8sApimachineryPkgApisMetaV1ObjectMeta;
  spec: {
    hosts?: string[];
    pathPrefixes?: string[];
    headers?: { name: string; value?: string }[];
    scaleTargetRef: { name?: string; apiVersion?: string; kind?: string; service: string; port?: number; portName?: string };
    coldStartTimeoutFailoverRef?: { service: string; port?: number; portName?: string; timeoutSeconds?: number };
    replicas?: { min?: number; max?: number };
    targetPendingRequests?: number;
    scaledownPeriod?: number;
    initialCooldownPeriod?: number;
    scalingMetric?: { concurrency?: { targetValue: number }; requestRate?: { targetValue: number; window: string; granularity: string } };
    timeouts?: { conditionWait?: string; responseHeader?: string };
  };
}
