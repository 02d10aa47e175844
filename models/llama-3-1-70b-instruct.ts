import { defineModel } from 'llmops-gitops';

// 141 GB of weights at bfloat16: needs tensor parallelism over several GPUs.
export default defineModel({
  name: 'llama-3-1-70b-instruct',
  source: {
    kind: 'huggingface',
    id: 'meta-llama/Llama-3.1-70B-Instruct',
    revision: '1605565b47bb9346c5515c34102e054115b4f98b',
  },
  parametersBillions: 70.6,
  dtype: 'bfloat16',
  contextLengthTokens: 131072,
  layers: 80,
  kvDimension: 1024,
  quantizations: {
    fp8: { qualityCostPct: 0.5 },
  },
  vllmImageTag: 'v0.26.0',
  engineArgs: {
    'max-model-len': 32768,
    'enable-prefix-caching': true,
  },
});
