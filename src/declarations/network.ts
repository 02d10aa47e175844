import { z } from 'zod';
import { expected } from './issues.ts';
import { DnsLabel } from './dns-label.ts';

/** An IPv4 address range. */
export const Cidr = z.string().regex(/^(\d{1,3}\.){3}\d{1,3}\/\d{1,2}$/, { error: expected('an IPv4 CIDR such as "10.0.0.0/8"') });

/** A source or destination of model-server traffic: pods of a namespace (optionally by label), or an address range. */
export const NetworkPeer = z.union([
  z.strictObject({
    /** Namespace of the pods. */
    namespace: DnsLabel,
    /** Labels the pods carry. Default: every pod of the namespace. */
    podLabels: z.record(z.string(), z.string()).optional(),
  }),
  z.strictObject({
    /** Address range. */
    cidr: Cidr,
  }),
]);
export type NetworkPeer = z.infer<typeof NetworkPeer>;

/**
 * What the model servers' NetworkPolicy admits besides Prometheus. Every field
 * defaults per cloud and gateway (src/fleet/cluster-defaults.ts):
 * the gateway's data plane (GKE's Google Front Ends, Envoy Gateway's proxies, or
 * the existing Gateway's namespace), kube-dns plus NodeLocal DNSCache, and the
 * GKE metadata server for Workload Identity.
 */
export const Network = z.strictObject({
  /** Where gateway traffic reaches the model servers from. Default: per cloud and gateway. */
  gatewaySources: z.array(NetworkPeer).min(1).optional(),
  /** Addresses of a node-local DNS cache the pods query besides kube-dns. Default: per cloud. */
  nodeLocalDnsCidrs: z.array(Cidr).optional(),
});
export type Network = z.infer<typeof Network>;
