import { z } from 'zod';

/** The clouds the compiler can target. */
export const Cloud = z.enum(['aws', 'gcp', 'azure']);
export type Cloud = z.infer<typeof Cloud>;

export const CLOUDS: readonly Cloud[] = Cloud.options;

/** A node taint a cloud sets by itself. */
export interface NodeTaint {
  readonly key: string;
  readonly value: string;
  readonly effect: 'NoSchedule' | 'NoExecute' | 'PreferNoSchedule';
}

/** Facts about a cloud that the Kubernetes output needs (the Terraform side lives in src/synth/terraform/). */
export interface CloudTraits {
  /** URI scheme vLLM's Run:ai streamer reads the cloud's object store with. */
  readonly objectStoreScheme: 's3' | 'gs' | 'az';
  /** Taint the cloud puts on spot nodes by itself, which model servers must tolerate. */
  readonly spotNodeTaint?: NodeTaint;
  /** Link-local metadata endpoint pods must reach for workload identity, if any. */
  readonly metadataEndpoint?: { readonly cidr: string; readonly ports: readonly number[] };
}

export const CLOUD_TRAITS: Readonly<Record<Cloud, CloudTraits>> = {
  aws: { objectStoreScheme: 's3' },
  // GKE Workload Identity answers on the node's metadata server.
  gcp: { objectStoreScheme: 'gs', metadataEndpoint: { cidr: '169.254.169.254/32', ports: [80, 988] } },
  // AKS taints spot pools with this taint and refuses to create them without it.
  azure: { objectStoreScheme: 'az', spotNodeTaint: { key: 'kubernetes.azure.com/scalesetpriority', value: 'spot', effect: 'NoSchedule' } },
};
