import { z } from 'zod';
import { definer } from './define.ts';
import { DnsLabel } from './dns-label.ts';
import { amount, textOfBytes, wholeNumber } from './bounds.ts';

/**
 * Each prompt version becomes one ConfigMap, and Kubernetes caps a ConfigMap's
 * keys and values at 1 MiB together (`ValidateConfigMap`, `MaxSecretSize`);
 * two texts of at most 500 KiB each and the small sampling key stay under it.
 */
const MAX_PROMPT_TEXT_BYTES = 500 * 1024;

/** One version of a prompt template. */
export const PromptVersion = z.strictObject({
  /** System message. */
  system: textOfBytes(MAX_PROMPT_TEXT_BYTES),
  /** User message template; `{{variable}}` placeholders are filled by the caller. */
  template: textOfBytes(MAX_PROMPT_TEXT_BYTES),
  /** Sampling temperature. Default: 0.7. */
  temperature: amount('(a sampling temperature)', 2, 0).default(0.7),
  /** Maximum output tokens. Default: 1024. */
  maxOutputTokens: wholeNumber('tokens', 1, 10_000_000).default(1024),
});
export type PromptVersion = z.infer<typeof PromptVersion>;

export const Prompt = z.strictObject({
  /** Prompt name. DNS-1123 label. */
  name: DnsLabel,
  /** The model the prompt is written for (a file in models/). */
  model: DnsLabel,
  /** Versions by label (`v1`, `v2`); labels are DNS-1123 labels. */
  versions: z.record(DnsLabel, PromptVersion).refine((versions) => Object.keys(versions).length > 0, {
    error: 'expected at least one version',
  }),
  /**
   * Traffic per version in percent, summing to 100 (an A/B split).
   * Default: all traffic to the last version listed.
   */
  traffic: z.record(DnsLabel, wholeNumber('%', 0, 100)).optional(),
});
export type Prompt = z.infer<typeof Prompt>;

/** Declares a prompt: `export default definePrompt({ … })` in `prompts/<name>.ts`. */
export const definePrompt = definer('prompt', Prompt);

/** The effective traffic split of a prompt, percent per version. */
export function promptTraffic(prompt: Prompt): Record<string, number> {
  if (prompt.traffic) return prompt.traffic;
  const labels = Object.keys(prompt.versions);
  return { [labels[labels.length - 1]]: 100 };
}
