/**
 * Kubernetes label syntax, as the API server checks it (apimachinery
 * `validation.IsQualifiedName` for keys, `IsValidLabelValue` for values):
 * labels the declarations give are copied onto objects, and one the API server
 * rejects would fail the whole sync.
 */
import { z } from 'zod';
import { expected } from './issues.ts';

const NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const DNS_1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

function isLabelKey(key: string): boolean {
  const parts = key.split('/');
  if (parts.length > 2) return false;
  const name = parts.pop()!;
  const prefix = parts[0];
  if (prefix !== undefined && !(prefix.length <= 253 && DNS_1123_SUBDOMAIN.test(prefix))) return false;
  return name.length <= 63 && NAME.test(name);
}

/** A label key: an optional DNS-subdomain prefix and `/`, then a name of at most 63 characters. */
export const LabelKey = z.string().refine(isLabelKey, {
  error: expected('a Kubernetes label key: an optional DNS subdomain and "/", then at most 63 letters, digits, "-", "_" or ".", starting and ending with a letter or digit'),
});
export type LabelKey = z.infer<typeof LabelKey>;

/** A label value: empty, or at most 63 letters, digits, `-`, `_` or `.`, starting and ending with a letter or digit. */
export const LabelValue = z.string().refine((value) => value === '' || (value.length <= 63 && NAME.test(value)), {
  error: expected('a Kubernetes label value: at most 63 letters, digits, "-", "_" or ".", starting and ending with a letter or digit (or empty)'),
});
export type LabelValue = z.infer<typeof LabelValue>;

export const Labels = z.record(LabelKey, LabelValue);
export type Labels = z.infer<typeof Labels>;
