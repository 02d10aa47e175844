import { Registry } from 'prom-client';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { loadFleet } from '../fleet/load.ts';
import { synthesize } from '../synth/steps.ts';
import { preparedFixture } from '../testing/fixture-fleet.ts';
import { choosePromptVersion, parseModelRegistry, PromptClient, type ModelRegistry } from './prompt-client.ts';

let registry: ModelRegistry;

beforeAll(async () => {
  const loaded = await loadFleet(await preparedFixture());
  if (!loaded.ok) throw new Error('the example fleet is invalid');
  const namespace = parseAllDocuments(synthesize(loaded.fleet).get('production/kubernetes/namespace.yaml')!).map((document) => document.toJS());
  registry = parseModelRegistry(namespace.find((document) => document.kind === 'ConfigMap' && document.metadata.name === 'llmops-model-registry').data['models.json']);
});

const users = Array.from({ length: 10_000 }, (_, index) => `user-${index}`);
const variables = { question: 'Why is my bill higher?', tier: 'pro', history: 'none' };

describe('the prompt client', () => {
  it('splits callers by the declared weights and renders the version each one gets (support-assistant: 90 % v1, 10 % v2)', () => {
    const client = new PromptClient(registry, new Registry());

    const rendered = users.map((user) => client.render('llama-3-1-8b-instruct', 'support-assistant', user, variables));
    const v2 = rendered.filter((request) => request.version === 'v2');

    expect(v2.length / users.length).toBeGreaterThan(0.09);
    expect(v2.length / users.length).toBeLessThan(0.11);
    expect(v2[0].body.messages[0].content).toMatch(/^You are Acme Cloud support\. Answer in at most five sentences/);
    expect(v2[0].body.messages[1].content).toBe('Customer question: Why is my bill higher?\nAccount tier: pro\nRecent tickets: none');
    expect(rendered.find((request) => request.version === 'v1')!.body.messages[1].content).toBe('Customer question: Why is my bill higher?\nAccount tier: pro');
    expect(v2[0]).toMatchObject({
      path: '/llama-3-1-8b-instruct/v1/chat/completions',
      headers: { 'x-llmops-prompt': 'support-assistant', 'x-llmops-prompt-version': 'v2' },
      body: { model: 'llama-3-1-8b-instruct', temperature: 0.2, max_tokens: 512 },
    });
  });

  it('is sticky per user key, and a change of weights changes what is rendered', () => {
    const traffic = registry.models.find((model) => model.name === 'llama-3-1-8b-instruct')!.prompts['support-assistant'].traffic;
    const allOnV2: ModelRegistry = structuredClone(registry);
    allOnV2.models.find((model) => model.name === 'llama-3-1-8b-instruct')!.prompts['support-assistant'].traffic = { v1: 0, v2: 100 };

    const first = users.map((user) => choosePromptVersion('support-assistant', traffic, user));
    const again = users.map((user) => choosePromptVersion('support-assistant', traffic, user));
    const shifted = users.map((user) => choosePromptVersion('support-assistant', { v1: 80, v2: 20 }, user));
    const afterChange = new PromptClient(allOnV2, new Registry()).render('llama-3-1-8b-instruct', 'support-assistant', 'user-1', variables);

    expect(again).toEqual(first);
    // Moving 10 points of traffic moves only users from v1 to v2, never back.
    expect(users.filter((_, index) => first[index] === 'v2' && shifted[index] === 'v1')).toEqual([]);
    expect(afterChange.version).toBe('v2');
    expect(afterChange.body.messages[1].content).toContain('Recent tickets: none');
  });

  it('labels every choice and outcome with the version, so Prometheus can compare the versions', async () => {
    const metrics = new Registry();
    const client = new PromptClient(registry, metrics);

    for (const user of users.slice(0, 200)) {
      const request = client.render('llama-3-1-8b-instruct', 'support-assistant', user, variables);
      client.recordOutcome(request, { latencySeconds: request.version === 'v2' ? 1.5 : 0.8, ok: true });
    }
    const exposition = await metrics.metrics();

    expect(exposition).toMatch(/^llmops_prompt_selections_total\{model="llama-3-1-8b-instruct",prompt="support-assistant",version="v2"\} \d+$/m);
    expect(exposition).toMatch(/^llmops_prompt_requests_total\{model="llama-3-1-8b-instruct",prompt="support-assistant",version="v1",outcome="ok"\} \d+$/m);
    expect(exposition).toMatch(/^llmops_prompt_request_duration_seconds_bucket\{le="1",model="llama-3-1-8b-instruct",prompt="support-assistant",version="v1"\} \d+$/m);
  });

  it('says what is missing: an unknown prompt or model, a template variable without a value', () => {
    const client = new PromptClient(registry, new Registry());

    expect(() => client.render('llama-3-1-8b-instruct', 'support-assistant', 'user-1', { question: 'q' })).toThrow(/the prompt template needs \{\{tier\}\} \(got variables: question\)/);
    expect(() => client.render('llama-3-1-8b-instruct', 'sales', 'user-1', variables)).toThrow('prompt sales is not written for llama-3-1-8b-instruct (has support-assistant)');
    expect(() => client.render('mistral', 'sales', 'user-1', variables)).toThrow(/^model mistral is not served in production/);
    expect(() => parseModelRegistry('{"models": 3}')).toThrow(/^not an llmops model registry/);
  });
});
