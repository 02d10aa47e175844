/**
 * Numbers and strings with bounds, so that no declared value overflows what
 * reads it (Kubernetes' int32 fields, Terraform, PromQL) and every message says
 * the unit: `expected at most 40000 replicas (got 3000000000)`.
 */
import { z } from 'zod';
import { expected } from './issues.ts';

/**
 * Kubernetes' tested limits for one cluster: at most 5,000 nodes
 * (https://kubernetes.io/docs/setup/best-practices/cluster-large/). A node
 * carries at most 8 GPUs (the GPU catalogue) and a replica at least one, so a
 * deployment never needs more than 40,000 replicas.
 */
export const MAX_NODES = 5000;
export const MAX_REPLICAS = MAX_NODES * 8;

/** A whole number of `unit` from `min` to `max`. */
export function wholeNumber(unit: string, min: number, max: number) {
  return z
    .int()
    .min(min, { error: expected(`at least ${min} ${unit}`) })
    .max(max, { error: expected(`at most ${max} ${unit}`) });
}

/** A number of `unit` above 0 (or from `min`, inclusive) up to `max`. */
export function amount(unit: string, max: number, min?: number) {
  const base = z.number();
  const floored = min === undefined ? base.positive({ error: expected(`more than 0 ${unit}`) }) : base.min(min, { error: expected(`at least ${min} ${unit}`) });
  return floored.max(max, { error: expected(`at most ${max} ${unit}`) });
}

/** Text that is not empty or blank, of at most `maxCharacters`. */
export function text(maxCharacters: number) {
  return z
    .string()
    .max(maxCharacters, { error: (issue) => `expected at most ${maxCharacters} characters (got ${String(issue.input).length})` })
    .regex(/\S/, { error: expected('text that is not empty or only spaces') });
}

/** Text of at most `maxBytes` bytes in UTF-8 (how Kubernetes counts a ConfigMap's size), not blank. */
export function textOfBytes(maxBytes: number) {
  return z
    .string()
    .regex(/\S/, { error: expected('text that is not empty or only spaces') })
    .refine((value) => new TextEncoder().encode(value).length <= maxBytes, {
      error: (issue) => `expected at most ${maxBytes} bytes in UTF-8 (got ${new TextEncoder().encode(String(issue.input)).length})`,
    });
}
