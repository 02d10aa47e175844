/**
 * Every place the Kubernetes output reaches past cdk8s-plus-28, in one file.
 * cdk8s-plus has no GPU resource, no nodeSelector, no topology spread, no
 * pod-level seccomp profile and no priority class; each is added here with a JSON patch on the
 * synthesized object. Values are k8s Quantities: a plain number or string in a
 * resource map is dropped silently by the generated mappers (cdk8s #2172).
 */
import { ApiObject, JsonPatch } from 'cdk8s';
import type { Construct } from 'constructs';
import { GPU_RESOURCE_NAME } from '../../catalogue/gpus.ts';
import { kplus } from './plus.ts';

const POD = '/spec/template/spec';
const escapeKey = (key: string): string => key.replace(/~/g, '~0').replace(/\//g, '~1');

/** `nvidia.com/gpu` request and limit (equal: GPUs cannot be overcommitted) on the first container. */
export function requestGpus(workload: Construct, count: number): void {
  const quantity = kplus.k8s.Quantity.fromString(String(count));
  const resources = `${POD}/containers/0/resources`;
  ApiObject.of(workload).addJsonPatch(JsonPatch.add(`${resources}/limits/${escapeKey(GPU_RESOURCE_NAME)}`, quantity), JsonPatch.add(`${resources}/requests/${escapeKey(GPU_RESOURCE_NAME)}`, quantity));
}

/** Plain `nodeSelector` (cdk8s-plus only renders node affinity). */
export function selectNodes(workload: Construct, labels: Record<string, string>): void {
  ApiObject.of(workload).addJsonPatch(JsonPatch.add(`${POD}/nodeSelector`, labels));
}

/** Spread replicas across nodes and zones, best effort. */
export function spreadAcrossNodes(workload: Construct, selector: Record<string, string>): void {
  const constraint = (topologyKey: string) => ({ maxSkew: 1, topologyKey, whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: selector } });
  ApiObject.of(workload).addJsonPatch(JsonPatch.add(`${POD}/topologySpreadConstraints`, [constraint('kubernetes.io/hostname'), constraint('topology.kubernetes.io/zone')]));
}

/** Pod-level `seccompProfile: RuntimeDefault` (Pod Security "restricted"). */
export function runtimeDefaultSeccomp(workload: Construct): void {
  ApiObject.of(workload).addJsonPatch(JsonPatch.add(`${POD}/securityContext/seccompProfile`, { type: 'RuntimeDefault' }));
}

/** A size limit on an emptyDir volume, by volume name. */
export function limitEmptyDir(workload: Construct, volumeIndex: number, sizeLimit: string): void {
  ApiObject.of(workload).addJsonPatch(JsonPatch.add(`${POD}/volumes/${volumeIndex}/emptyDir/sizeLimit`, kplus.k8s.Quantity.fromString(sizeLimit)));
}

/** `priorityClassName` of the pod (cdk8s-plus has no field for it). */
export function setPriorityClass(workload: Construct, priorityClassName: string): void {
  ApiObject.of(workload).addJsonPatch(JsonPatch.add(`${POD}/priorityClassName`, priorityClassName));
}

/** cdk8s-plus labels pods with its construct address even when it does not select on it; the label means nothing in a cluster. */
export function dropConstructAddressLabel(workload: Construct): void {
  ApiObject.of(workload).addJsonPatch(JsonPatch.remove(`/spec/template/metadata/labels/${escapeKey('cdk8s.io/metadata.addr')}`));
}
