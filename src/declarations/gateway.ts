import { z } from 'zod';
import { DnsLabel } from './dns-label.ts';

/**
 * How a canary's traffic share is set: `gateway-api` routes exact weights
 * through Argo Rollouts' Gateway API traffic-router plugin
 * (argoproj-labs/rollouts-plugin-trafficrouter-gatewayapi), which rewrites the
 * HTTPRoute's `<model>-stable` / `<model>-canary` backend weights; `replica-count`
 * has no router, so the share is the canary's fraction of the pods (Argo
 * Rollouts' basic canary), and the canary steps say the share that really results.
 */
export const CanaryTraffic = z.enum(['gateway-api', 'replica-count']);
export type CanaryTraffic = z.infer<typeof CanaryTraffic>;

/**
 * Who can reach a managed Gateway: `internal` — only the cluster's private
 * network, through the cloud's internal load balancer (GKE's regional internal
 * Application Load Balancer `gke-l7-rilb`; Envoy Gateway behind an internal
 * LoadBalancer Service on EKS and AKS, a ClusterIP Service on DOKS, which has
 * no internal load balancer); `public` — the internet, over HTTPS only.
 */
export const GatewayExposure = z.enum(['internal', 'public']);
export type GatewayExposure = z.infer<typeof GatewayExposure>;

/** The certificate a Gateway's HTTPS listener serves. */
export const GatewayTls = z.strictObject({
  /** A `kubernetes.io/tls` Secret in the environment's namespace (created by you or cert-manager, never in git). */
  certificateSecret: DnsLabel,
});
export type GatewayTls = z.infer<typeof GatewayTls>;

/**
 * Longest a request may take at the gateway once a replica serves it, seconds.
 * Default: four times the environment's `slos.e2eP95Ms` (a request four times
 * slower than the 95th percentile the SLO allows is stuck, not long). A model
 * that scales to zero gets its start-up budget on top (its first request waits
 * for a replica to load). Gateways cut requests much earlier by themselves:
 * Envoy Gateway's route timeout defaults to 15 s, a GKE backend service's to 30 s.
 */
const RequestTimeoutSeconds = z.int().min(1).max(86400);

/**
 * The Gateway API `Gateway` in front of the model servers. `managed`: llmops
 * declares it in the environment's namespace with a GatewayClass (default per
 * cloud and exposure: GKE's `gke-l7-rilb` or `gke-l7-global-external-managed`,
 * Envoy Gateway's `envoy-gateway` on EKS, AKS and DOKS, installed by the
 * cluster add-ons). `existing`: a Gateway someone else runs; llmops only
 * attaches routes to it.
 */
export const Gateway = z.discriminatedUnion('mode', [
  z.strictObject({
    mode: z.literal('managed'),
    /** Gateway name. Default: `inference-gateway`. */
    name: DnsLabel.default('inference-gateway'),
    /** Who can reach it. Default: `internal`. */
    exposure: GatewayExposure.optional(),
    /** GatewayClass. Default: per cloud and exposure (see above). */
    className: z.string().min(1).optional(),
    /** HTTPS listener on port 443. Required where `exposure` is `public` (then the Gateway has no plain-HTTP listener); optional otherwise. */
    tls: GatewayTls.optional(),
    /** Request timeout at the gateway, seconds. Default: see above. */
    requestTimeoutSeconds: RequestTimeoutSeconds.optional(),
    /** Canary traffic split. Default: `gateway-api` (exact weights). */
    canaryTraffic: CanaryTraffic.default('gateway-api'),
  }),
  z.strictObject({
    mode: z.literal('existing'),
    /** Gateway name. */
    name: DnsLabel,
    /** Namespace of the Gateway. */
    namespace: DnsLabel,
    /** Request timeout at the gateway, seconds (the HTTPRoute's `timeouts.request`). Default: see above. */
    requestTimeoutSeconds: RequestTimeoutSeconds.optional(),
    /** Canary traffic split. Default: `gateway-api` (weighted backendRefs are Core Gateway API). */
    canaryTraffic: CanaryTraffic.default('gateway-api'),
  }),
]);
export type Gateway = z.infer<typeof Gateway>;
