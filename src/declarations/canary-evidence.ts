import { z } from 'zod';

/**
 * How much the canary must have served before its analysis counts. A step
 * whose canary saw fewer requests than `minRequests` in a measurement window is
 * inconclusive; after `inconclusiveTries` such windows without enough traffic
 * the step fails and Argo Rollouts aborts the rollout (never a silent pass).
 */
export const CanaryEvidence = z.strictObject({
  /** Requests the canary must serve within one analysis interval for a measurement to count. Default: 20. */
  minRequests: z.int().min(1).default(20),
  /** Intervals without enough canary requests before the step fails. Default: 5. */
  inconclusiveTries: z.int().min(1).max(100).default(5),
});
export type CanaryEvidence = z.infer<typeof CanaryEvidence>;
