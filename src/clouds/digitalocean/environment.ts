/** The environment fields of a DigitalOcean (DOKS) environment. */
import { z } from 'zod';
import { text } from '../../declarations/bounds.ts';

/**
 * Terraform state in a Spaces bucket through Terraform's S3 backend (Spaces is
 * S3-compatible). Spaces is not known to support the conditional writes
 * Terraform's S3 lock file needs, so state locking is not enabled.
 */
export const SpacesStateBackend = z.strictObject({
  type: z.literal('spaces'),
  /** State bucket. */
  bucket: z.string().min(3).max(63),
  /** State object key. */
  key: text(1024),
  /** Spaces region of the state bucket (`nyc3`). */
  region: z.string().regex(/^[a-z]{3}\d$/),
});

export const DIGITALOCEAN_ENVIRONMENT_FIELDS = {
  cloud: z.literal('digitalocean'),
  /**
   * Spaces region of the model bucket (`nyc3`): Spaces is offered in fewer
   * regions than GPU Droplets, so it is declared, not derived.
   */
  spacesRegion: z.string().regex(/^[a-z]{3}\d$/),
  /** Terraform remote state backend: a Spaces bucket. */
  stateBackend: z.discriminatedUnion('type', [SpacesStateBackend]),
};
