import { z } from 'zod';
import { DnsLabel } from './dns-label.ts';

/**
 * Where model servers keep downloaded weights (`HF_HOME`), like vLLM
 * production-stack's `pvcStorage` / `pvcExistingClaimName`:
 * - `node-disk`: an emptyDir on the node's disk, with an `ephemeral-storage`
 *   request sized from the weights so the scheduler only picks nodes with room
 *   (the weights are downloaded again on every new pod);
 * - `shared-volume`: one ReadWriteMany PersistentVolumeClaim per environment
 *   that every replica shares (GKE Filestore `standard-rwx`, AKS `azurefile-csi`;
 *   on EKS name your EFS StorageClass), downloaded once;
 * - `existing-claim`: a claim you manage, e.g. a pre-populated ReadOnlyMany
 *   volume (GKE Hyperdisk ML), mounted read-only.
 */
export const ModelCache = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('node-disk') }),
  z.strictObject({
    kind: z.literal('shared-volume'),
    /** StorageClass offering ReadWriteMany. Default: `standard-rwx` on GCP, `azurefile-csi` on Azure; required on AWS. */
    storageClassName: z.string().min(1).optional(),
  }),
  z.strictObject({
    kind: z.literal('existing-claim'),
    /** Name of the PersistentVolumeClaim in the environment's namespace. */
    claimName: DnsLabel,
    /** Mount read-only (a pre-populated ReadOnlyMany volume). Default: true. */
    readOnly: z.boolean().default(true),
  }),
]);
export type ModelCache = z.infer<typeof ModelCache>;
