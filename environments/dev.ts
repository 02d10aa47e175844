import { defineEnvironment } from 'llmops-gitops';

export default defineEnvironment({
  name: 'dev',
  cloud: 'aws',
  region: 'us-east-1',
  cluster: 'llm-dev',
  namespace: 'llm-dev',
  sync: 'auto',
  canary: false,
  scaleToZero: true,
  accountId: '111122223333',
  modelBucket: 'acme-llmops-dev-models',
  stateBackend: { type: 's3', bucket: 'acme-terraform-state', key: 'llmops/dev/terraform.tfstate', region: 'us-east-1' },
  nodePools: [
    { name: 'l4-spot', gpuType: 'nvidia-l4', gpusPerNode: 1, capacity: 'spot', minNodes: 0, maxNodes: 4 },
    { name: 'a10g-spot', gpuType: 'nvidia-a10g', gpusPerNode: 1, capacity: 'spot', minNodes: 0, maxNodes: 5 },
  ],
  budget: { monthlyUsd: 3000 },
  slos: { ttftP95Ms: 2000, e2eP95Ms: 30000, interTokenP95Ms: 150, errorRateRatio: 0.05 },
  deployments: {
    'llama-3-1-8b-instruct': {
      policy: 'aggressive',
      replicas: { min: 0, max: 2 },
      gpu: { type: 'nvidia-l4', count: 1 },
      engineArgs: { 'max-num-seqs': 64 },
    },
    'qwen2-5-7b-instruct': {
      policy: 'aggressive',
      replicas: { min: 0, max: 1 },
      gpu: { type: 'nvidia-a10g', count: 1 },
      engineArgs: { 'max-num-seqs': 32, 'max-model-len': 8192 },
    },
  },
});
