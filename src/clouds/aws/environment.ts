/** The environment fields of an AWS (EKS) environment. */
import { z } from 'zod';
import { expected } from '../../declarations/issues.ts';
import { text } from '../../declarations/bounds.ts';

/** Terraform state in S3 with S3-native locking (Terraform >= 1.10). */
export const S3StateBackend = z.strictObject({
  type: z.literal('s3'),
  /** State bucket. */
  bucket: z.string().min(3).max(63),
  /** State object key. */
  key: text(1024),
  /** Bucket region. */
  region: text(64),
});

export const AWS_ENVIRONMENT_FIELDS = {
  cloud: z.literal('aws'),
  /** AWS account id (12 digits), for the model servers' IAM role ARNs. */
  accountId: z.string().regex(/^\d{12}$/, { error: expected('a 12-digit AWS account id') }),
  /** Terraform remote state backend: S3. */
  stateBackend: z.discriminatedUnion('type', [S3StateBackend]),
};
