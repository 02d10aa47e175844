/**
 * The caller's side of a prompt A/B test. The gateway cannot choose a prompt
 * version for a caller that has already rendered its prompt, so the caller
 * chooses: this client reads the environment's model registry (the
 * `llmops-model-registry` ConfigMap, key `models.json`), picks a version by the
 * declared weights — sticky per user key, so one user sees one version —
 * renders it, and counts each choice and outcome with the version as a label,
 * so Prometheus can compare the versions.
 *
 *   const prompts = new PromptClient(parseModelRegistry(await readFile('/etc/llmops/models.json', 'utf8')));
 *   const request = prompts.render('llama-3-1-8b-instruct', 'support-assistant', userId, { question, tier });
 *   // POST request.body to <gateway>/llama-3-1-8b-instruct/v1/chat/completions with request.headers
 *   prompts.recordOutcome(request, { latencySeconds, ok: response.ok });
 */
import { createHash } from 'node:crypto';
import { Counter, Histogram, register as defaultRegistry, type Registry } from 'prom-client';
import { z } from 'zod';

const PromptVersionEntry = z.object({
  configMap: z.string(),
  system: z.string(),
  template: z.string(),
  temperature: z.number(),
  maxOutputTokens: z.number(),
});

const ModelEntry = z.object({
  name: z.string(),
  servedModelName: z.string(),
  gatewayPathPrefix: z.string(),
  prompts: z.record(z.string(), z.object({ traffic: z.record(z.string(), z.number()), versions: z.record(z.string(), PromptVersionEntry) })),
});

/** The model registry as synth writes it (src/synth/kubernetes/model-registry.ts); fields the client does not use are ignored. */
export const ModelRegistry = z.object({ environment: z.string(), models: z.array(ModelEntry) });
export type ModelRegistry = z.infer<typeof ModelRegistry>;

/** Parses the registry's JSON, with a clear error when it is not one. */
export function parseModelRegistry(json: string): ModelRegistry {
  const parsed = ModelRegistry.safeParse(JSON.parse(json));
  if (!parsed.success) throw new Error(`not an llmops model registry: ${z.prettifyError(parsed.error).replace(/\n/g, ' ')}`);
  return parsed.data;
}

/** Request header naming the prompt, and the version the caller rendered (for gateway logs and traces). */
export const PROMPT_HEADER = 'x-llmops-prompt';
export const PROMPT_VERSION_HEADER = 'x-llmops-prompt-version';

const BUCKETS = 10_000;

/**
 * The version a user gets: the user key and prompt hash to one of 10,000
 * buckets, and the versions (in name order) own consecutive ranges sized by
 * their weights. Deterministic, so sticky per user; a shift of weights moves
 * only the users in the ranges that changed owner.
 */
export function choosePromptVersion(promptName: string, traffic: Readonly<Record<string, number>>, userKey: string): string {
  const versions = Object.keys(traffic)
    .filter((version) => traffic[version] > 0)
    .sort();
  if (versions.length === 0) throw new Error(`prompt ${promptName} has no version with traffic`);
  const total = versions.reduce((sum, version) => sum + traffic[version], 0);
  const bucket = createHash('sha256').update(`${promptName}\u0000${userKey}`).digest().readUInt32BE(0) % BUCKETS;
  let upTo = 0;
  for (const version of versions) {
    upTo += (traffic[version] / total) * BUCKETS;
    if (bucket < upTo) return version;
  }
  return versions[versions.length - 1];
}

/** A rendered chat request: what to send, and which version it is. */
export interface RenderedPrompt {
  readonly model: string;
  readonly prompt: string;
  readonly version: string;
  /** Path under the gateway (`/<model>/v1/chat/completions`). */
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  /** OpenAI chat-completions body. */
  readonly body: {
    readonly model: string;
    readonly messages: readonly { readonly role: 'system' | 'user'; readonly content: string }[];
    readonly temperature: number;
    readonly max_tokens: number;
  };
}

/** Fills `{{variable}}` placeholders; a placeholder without a value is an error naming it. */
export function renderTemplate(template: string, variables: Readonly<Record<string, string>>): string {
  return template.replace(/\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g, (_, name: string) => {
    if (!(name in variables)) throw new Error(`the prompt template needs {{${name}}} (got variables: ${Object.keys(variables).join(', ') || 'none'})`);
    return variables[name];
  });
}

/** Chooses, renders and counts prompt versions for one environment's registry. */
export class PromptClient {
  private readonly selections: Counter<'model' | 'prompt' | 'version'>;
  private readonly outcomes: Counter<'model' | 'prompt' | 'version' | 'outcome'>;
  private readonly latency: Histogram<'model' | 'prompt' | 'version'>;

  constructor(
    private readonly registry: ModelRegistry,
    metrics: Registry = defaultRegistry,
  ) {
    const existing = <T>(name: string) => metrics.getSingleMetric(name) as T | undefined;
    this.selections =
      existing('llmops_prompt_selections_total') ??
      new Counter({ name: 'llmops_prompt_selections_total', help: 'Prompt versions chosen for requests, by version.', labelNames: ['model', 'prompt', 'version'], registers: [metrics] });
    this.outcomes =
      existing('llmops_prompt_requests_total') ??
      new Counter({
        name: 'llmops_prompt_requests_total',
        help: 'Completed requests by prompt version and outcome (ok, error).',
        labelNames: ['model', 'prompt', 'version', 'outcome'],
        registers: [metrics],
      });
    this.latency =
      existing('llmops_prompt_request_duration_seconds') ??
      new Histogram({
        name: 'llmops_prompt_request_duration_seconds',
        help: 'Request latency seen by the caller, by prompt version.',
        labelNames: ['model', 'prompt', 'version'],
        buckets: [0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120],
        registers: [metrics],
      });
  }

  /** The version `userKey` gets and the request to send, rendered with `variables`. */
  render(modelName: string, promptName: string, userKey: string, variables: Readonly<Record<string, string>>): RenderedPrompt {
    const model = this.registry.models.find((candidate) => candidate.name === modelName);
    if (!model) throw new Error(`model ${modelName} is not served in ${this.registry.environment} (serves ${this.registry.models.map((candidate) => candidate.name).join(', ')})`);
    const prompt = model.prompts[promptName];
    if (!prompt) throw new Error(`prompt ${promptName} is not written for ${modelName} (has ${Object.keys(model.prompts).join(', ') || 'none'})`);
    const version = choosePromptVersion(promptName, prompt.traffic, userKey);
    const body = prompt.versions[version];
    this.selections.inc({ model: modelName, prompt: promptName, version });
    return {
      model: modelName,
      prompt: promptName,
      version,
      path: `${model.gatewayPathPrefix}/chat/completions`,
      headers: { [PROMPT_HEADER]: promptName, [PROMPT_VERSION_HEADER]: version },
      body: {
        model: model.servedModelName,
        messages: [
          { role: 'system', content: body.system },
          { role: 'user', content: renderTemplate(body.template, variables) },
        ],
        temperature: body.temperature,
        max_tokens: body.maxOutputTokens,
      },
    };
  }

  /** Counts the outcome of a request made with `rendered`, labelled by its version. */
  recordOutcome(rendered: RenderedPrompt, outcome: { readonly latencySeconds: number; readonly ok: boolean }): void {
    const labels = { model: rendered.model, prompt: rendered.prompt, version: rendered.version };
    this.outcomes.inc({ ...labels, outcome: outcome.ok ? 'ok' : 'error' });
    this.latency.observe(labels, outcome.latencySeconds);
  }
}
