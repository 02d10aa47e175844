import { defineModel } from 'llmops-gitops';

// The workhorse: small enough for one 24 GB GPU, the first model most teams serve.
export default defineModel({
  name: 'llama-3-1-8b-instruct',
  source: {
    kind: 'huggingface',
    id: 'meta-llama/Llama-3.1-8B-Instruct',
    revision: '0e9e39f249a16976918f6564b8830bc894c89659',
  },
  parametersBillions: 8.03,
  dtype: 'bfloat16',
  contextLengthTokens: 131072,
  layers: 32,
  kvDimension: 1024,
  quantizations: {
    fp8: { qualityCostPct: 0.3 },
    awq: { qualityCostPct: 1.2 },
  },
  vllmImageTag: 'v0.26.0',
  engineArgs: {
    'max-model-len': 16384,
    'enable-prefix-caching': true,
  },
});
