import { z } from 'zod';

/**
 * How much the canary must have served before its analysis counts. Evidence
 * accumulates over a step's analysis: each measurement counts the canary's
 * requests over the whole analysis window (`analysisIntervalSeconds` ×
 * measurements, at least two minutes). Until the canary has served
 * `minRequests` a measurement is inconclusive; if the analysis ends without
 * them the step fails and Argo Rollouts aborts the rollout (never a silent
 * pass). A step at 1 % of a deployment's traffic needs a hundred times
 * `minRequests` per window: declare each deployment's
 * `expectedRequestsPerMinute` and the loader rejects a step that cannot
 * gather its evidence.
 */
export const CanaryEvidence = z.strictObject({
  /** Requests the canary must have served within a step's analysis window for its measurements to count. Default: 20. */
  minRequests: z.int().min(1).default(20),
  /** Fewest measurements a step's analysis takes (its length with the interval); without enough canary requests by the last, the step fails. Default: 5. */
  inconclusiveTries: z.int().min(1).max(100).default(5),
});
export type CanaryEvidence = z.infer<typeof CanaryEvidence>;

/**
 * Requests per minute a deployment serves at the quietest time a rollout may
 * run. Lets the loader check that every analysed canary step can gather the
 * policy's evidence at its traffic share. Default: not declared (not checked).
 */
export const ExpectedRequestsPerMinute = z.number().positive();
