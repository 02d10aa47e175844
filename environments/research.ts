import { defineEnvironment } from 'llmops-gitops';

// DigitalOcean Kubernetes: the 70B at FP8 on one H100 per replica. The model bucket is in
// Spaces, whose region is declared on its own (Spaces and GPU Droplets differ in regions).
export default defineEnvironment({
  name: 'research',
  cloud: 'digitalocean',
  region: 'tor1',
  cluster: 'llm-research',
  namespace: 'llm-research',
  sync: 'auto',
  promotesFrom: 'dev',
  modelBucket: 'acme-llmops-research-models',
  spacesRegion: 'nyc3',
  stateBackend: { type: 'spaces', bucket: 'acme-terraform-state', key: 'llmops/research/terraform.tfstate', region: 'nyc3' },
  nodePools: [{ name: 'h100', gpuType: 'nvidia-h100-80gb', gpusPerNode: 1, capacity: 'on-demand', minNodes: 1, maxNodes: 3 }],
  budget: { monthlyUsd: 8000 },
  slos: { ttftP95Ms: 2000, e2eP95Ms: 30000, interTokenP95Ms: 100, errorRateRatio: 0.02 },
  deployments: {
    'llama-3-1-70b-instruct': {
      policy: 'balanced',
      replicas: { min: 1, max: 2 },
      gpu: { type: 'nvidia-h100-80gb', count: 1 },
      engineArgs: { quantization: 'fp8', 'max-num-seqs': 64 },
    },
  },
});
