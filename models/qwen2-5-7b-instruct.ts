import { defineModel } from 'llmops-gitops';

// Served from each environment's own model bucket: no Hugging Face token at run time.
export default defineModel({
  name: 'qwen2-5-7b-instruct',
  source: {
    kind: 'object-store',
    revision: 'a09a35458c702b33eeacc393d103063234e8bc28',
  },
  parametersBillions: 7.62,
  dtype: 'bfloat16',
  contextLengthTokens: 32768,
  layers: 28,
  kvDimension: 512,
  quantizations: {
    fp8: { qualityCostPct: 0.4 },
    awq: { qualityCostPct: 1.5 },
  },
  vllmImageTag: 'v0.26.0',
  engineArgs: {
    'max-model-len': 32768,
  },
});
