import { z } from 'zod';

/**
 * How many replicas a deployment may fall to. With one replica a node drain or
 * upgrade evicts the only server, and the model is offline until a new pod has
 * loaded its weights (tens of minutes for a 70B model).
 */
export const Availability = z.strictObject({
  /** Accept deployments whose `replicas.min` is 1. Default: false where `sync` is `manual` (production), true elsewhere. */
  acceptSingleReplica: z.boolean().optional(),
});
export type Availability = z.infer<typeof Availability>;
