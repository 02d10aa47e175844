/**
 * How long the gateway lets a request run: long generations and, for a model
 * that scales to zero, waking a replica, instead of the gateways' own defaults
 * (Envoy Gateway: 15 s route timeout; GKE: 30 s backend-service timeout).
 */
import type { FleetDeployment } from '../../fleet/fleet.ts';
import { startupBudgetSeconds } from './model-server.ts';
import { scaledFromZero } from './scale-from-zero.ts';

/** Multiple of the environment's p95 end-to-end SLO a request may take before the gateway cuts it (see the `gateway.requestTimeoutSeconds` declaration). */
const REQUEST_TIMEOUT_SLO_MULTIPLE = 4;

/** Longest a request may take once a replica serves it, seconds: declared, else four times the p95 end-to-end SLO. */
export function serveTimeoutSeconds(deployment: FleetDeployment): number {
  const { environment } = deployment;
  return environment.gateway.requestTimeoutSeconds ?? Math.ceil((REQUEST_TIMEOUT_SLO_MULTIPLE * environment.slos.e2eP95Ms) / 1000);
}

/** Longest a request may take at the gateway, seconds: serving it, plus waking a replica for a model that scales to zero. */
export function requestTimeoutSeconds(deployment: FleetDeployment): number {
  return serveTimeoutSeconds(deployment) + (scaledFromZero(deployment) ? startupBudgetSeconds(deployment) : 0);
}
