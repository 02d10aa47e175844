import { defineEnvironment } from 'llmops-gitops';

export default defineEnvironment({
  name: 'staging',
  cloud: 'azure',
  region: 'eastus',
  cluster: 'llm-staging',
  resourceGroup: 'rg-llm-staging',
  namespace: 'llm-staging',
  sync: 'auto',
  promotesFrom: 'dev',
  modelBucket: 'acmellmopsstaging',
  stateBackend: {
    type: 'azurerm',
    resourceGroupName: 'rg-terraform-state',
    storageAccountName: 'acmetfstate',
    containerName: 'tfstate',
    key: 'llmops/staging.tfstate',
  },
  nodePools: [
    { name: 'a100-spot', gpuType: 'nvidia-a100-80gb', gpusPerNode: 1, capacity: 'spot', minNodes: 0, maxNodes: 8 },
    { name: 'a100x2', gpuType: 'nvidia-a100-80gb', gpusPerNode: 2, capacity: 'on-demand', minNodes: 1, maxNodes: 3 },
  ],
  budget: { monthlyUsd: 20000 },
  slos: { ttftP95Ms: 1000, e2eP95Ms: 20000, interTokenP95Ms: 80, errorRateRatio: 0.02 },
  deployments: {
    'llama-3-1-8b-instruct': {
      policy: 'balanced',
      replicas: { min: 1, max: 3 },
      gpu: { type: 'nvidia-a100-80gb', count: 1 },
      engineArgs: { 'max-num-seqs': 256 },
    },
    'llama-3-1-70b-instruct': {
      policy: 'balanced',
      replicas: { min: 1, max: 2 },
      gpu: { type: 'nvidia-a100-80gb', count: 2 },
      engineArgs: { quantization: 'fp8', 'max-num-seqs': 128 },
    },
  },
});
