import { z } from 'zod';
import { DnsLabel } from './dns-label.ts';

/**
 * Who may call the models. `api-key` (the default): vLLM's OpenAI server
 * requires `Authorization: Bearer <key>` on every `/v1` path, with the key read
 * from a Secret through `VLLM_API_KEY` (vLLM api_server: `args.api_key or
 * envs.VLLM_API_KEY`; `/health` and `/metrics` stay open for probes and
 * Prometheus). The pods do not start until the Secret exists. `none`: no
 * authentication — allowed only behind an internal Gateway.
 */
export const Authentication = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('api-key'),
    /** Secret in the environment's namespace holding the key (never in git). Default: `llmops-api-key`. */
    secretName: DnsLabel.default('llmops-api-key'),
    /** Key of the Secret. Default: `api-key`. */
    secretKey: z.string().min(1).default('api-key'),
  }),
  z.strictObject({ kind: z.literal('none') }),
]);
export type Authentication = z.infer<typeof Authentication>;
