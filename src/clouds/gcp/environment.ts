/** The environment fields of a GCP (GKE) environment. */
import { z } from 'zod';
import { expected } from '../../declarations/issues.ts';
import { text } from '../../declarations/bounds.ts';
import { Cidr } from '../../declarations/network.ts';

/** Terraform state in a GCS bucket (GCS locks the state itself). */
export const GcsStateBackend = z.strictObject({
  type: z.literal('gcs'),
  /** State bucket. */
  bucket: z.string().min(3).max(222),
  /** Object prefix. */
  prefix: text(1024),
});

export const GCP_ENVIRONMENT_FIELDS = {
  cloud: z.literal('gcp'),
  /** GCP project id of the cluster and the model bucket. */
  project: z.string().regex(/^[a-z][-a-z0-9]{4,28}[a-z0-9]$/, { error: expected('a GCP project id: 6–30 lower-case letters, digits and "-", starting with a letter') }),
  /**
   * The region's proxy-only subnet (purpose `REGIONAL_MANAGED_PROXY`): GKE's
   * regional and internal Gateways (`gke-l7-rilb`, the default internal class)
   * reach the pods from its addresses. Required for such a Gateway unless
   * `network.gatewaySources` is declared. Default: none.
   */
  proxyOnlySubnet: Cidr.optional(),
  /** Terraform remote state backend: GCS. */
  stateBackend: z.discriminatedUnion('type', [GcsStateBackend]),
};
