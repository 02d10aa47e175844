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
 * The Gateway API `Gateway` in front of the model servers. `managed`: llmops
 * declares it in the environment's namespace with a GatewayClass (default per
 * cloud: GKE's `gke-l7-global-external-managed`, Envoy Gateway's `envoy-gateway`
 * on EKS and AKS, installed by the cluster add-ons). `existing`: a Gateway
 * someone else runs; llmops only attaches routes to it.
 */
export const Gateway = z.discriminatedUnion('mode', [
  z.strictObject({
    mode: z.literal('managed'),
    /** Gateway name. Default: `inference-gateway`. */
    name: DnsLabel.default('inference-gateway'),
    /** GatewayClass. Default: per cloud (see above). */
    className: z.string().min(1).optional(),
    /** Canary traffic split. Default: `gateway-api` (exact weights). */
    canaryTraffic: CanaryTraffic.default('gateway-api'),
  }),
  z.strictObject({
    mode: z.literal('existing'),
    /** Gateway name. */
    name: DnsLabel,
    /** Namespace of the Gateway. */
    namespace: DnsLabel,
    /** Canary traffic split. Default: `gateway-api` (weighted backendRefs are Core Gateway API). */
    canaryTraffic: CanaryTraffic.default('gateway-api'),
  }),
]);
export type Gateway = z.infer<typeof Gateway>;
