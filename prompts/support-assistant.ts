import { definePrompt } from 'llmops-gitops';

export default definePrompt({
  name: 'support-assistant',
  model: 'llama-3-1-8b-instruct',
  versions: {
    v1: {
      system: 'You are a helpful support assistant for Acme Cloud. Answer briefly and link to the docs.',
      template: 'Customer question: {{question}}\nAccount tier: {{tier}}',
      temperature: 0.3,
      maxOutputTokens: 512,
    },
    v2: {
      system: 'You are Acme Cloud support. Answer in at most five sentences, cite the relevant doc page, and never invent limits or prices.',
      template: 'Customer question: {{question}}\nAccount tier: {{tier}}\nRecent tickets: {{history}}',
      temperature: 0.2,
      maxOutputTokens: 512,
    },
  },
  // A/B test: a tenth of the traffic tries v2.
  traffic: { v1: 90, v2: 10 },
});
