/**
 * How a model server reaches its model in the environment's object store: the
 * cloud identity its ServiceAccount is bound to (the reader the Terraform output
 * creates) and the variables vLLM's loader needs, each from the cloud's plug-in.
 */
import type { ModelStoreVariable, WorkloadIdentityBinding } from '../clouds/cloud-plugin.ts';
import { cloudPlugin } from '../clouds/registry.ts';
import type { Environment } from '../declarations/environment.ts';
import type { Model } from '../declarations/model.ts';

export type { ModelStoreVariable, WorkloadIdentityBinding };

/** Annotations of the model server's ServiceAccount and labels of its pods. */
export function workloadIdentity(environment: Environment, modelName: string): WorkloadIdentityBinding {
  return cloudPlugin(environment.cloud).workloadIdentity(environment, modelName);
}

/** Variables vLLM's object-store loader needs; none for a model from the Hugging Face Hub. */
export function modelStoreVariables(environment: Environment, model: Model): readonly ModelStoreVariable[] {
  return model.source.kind === 'object-store' ? cloudPlugin(environment.cloud).modelStoreVariables(environment, model.name) : [];
}
