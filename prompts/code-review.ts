import { definePrompt } from 'llmops-gitops';

export default definePrompt({
  name: 'code-review',
  model: 'llama-3-1-70b-instruct',
  versions: {
    v1: {
      system: 'You review pull requests. Point out bugs first, then style.',
      template: 'Diff:\n{{diff}}',
      temperature: 0.1,
      maxOutputTokens: 2048,
    },
    v2: {
      system: 'You review pull requests like a senior engineer: correctness, security, then readability. Quote the lines you mean.',
      template: 'Repository: {{repository}}\nDiff:\n{{diff}}',
      temperature: 0.1,
      maxOutputTokens: 2048,
    },
  },
  traffic: { v1: 50, v2: 50 },
});
