import { z } from 'zod';
import { expected } from './issues.ts';

const DNS_1123_LABEL = /^(?=.{1,63}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/**
 * A DNS-1123 label (lower-case letters, digits and '-', at most 63 characters):
 * names become Kubernetes object names.
 */
export const DnsLabel = z.string().regex(DNS_1123_LABEL, {
  error: expected("a DNS-1123 label: lower-case letters, digits and '-', starting and ending with a letter or digit, at most 63 characters"),
});
export type DnsLabel = z.infer<typeof DnsLabel>;
