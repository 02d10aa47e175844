import { defineEnvironment } from 'llmops-gitops';

export default defineEnvironment({
  name: 'production',
  cloud: 'gcp',
  region: 'us-central1',
  project: 'acme-llm-prod',
  cluster: 'llm-prod',
  namespace: 'llm-prod',
  sync: 'manual',
  promotesFrom: 'staging',
  // The bot may scale a small model to one replica when traffic is low; a node drain then takes it offline until a replacement loads.
  availability: { acceptSingleReplica: true },
  // GKE's internal Gateway (gke-l7-rilb) reaches the pods from the region's proxy-only subnet.
  proxyOnlySubnet: '10.129.0.0/23',
  modelBucket: 'acme-llmops-production-models',
  stateBackend: { type: 'gcs', bucket: 'acme-llm-prod-tfstate', prefix: 'llmops/production' },
  nodePools: [
    { name: 'l4-ondemand', gpuType: 'nvidia-l4', gpusPerNode: 1, capacity: 'on-demand', minNodes: 2, maxNodes: 16 },
    // Google sells A3 High on demand only with 8 GPUs: each node carries two 4-GPU replicas of the 70B.
    { name: 'h100x8', gpuType: 'nvidia-h100-80gb', gpusPerNode: 8, capacity: 'on-demand', minNodes: 1, maxNodes: 2 },
  ],
  // The bot runs in this cluster, next to the Prometheus it reads (README, "Where the bot runs"); create the Secret
  // llmops-bot in llm-prod first (keys github-app-private-key: the App's PEM, signing-key: openssl rand -hex 32).
  bot: {
    mode: 'service',
    image: { repository: 'ghcr.io/acme/llmops-gitops', tag: 'v0.1.0' },
    githubApp: { clientId: 'Iv23liAcmeLlmopsBot' },
  },
  budget: { monthlyUsd: 75000 },
  slos: { ttftP95Ms: 800, e2eP95Ms: 30000, interTokenP95Ms: 150, errorRateRatio: 0.01 },
  // expectedRequestsPerMinute: the quietest traffic a rollout may meet; at 1 % the canary must still gather
  // canaryEvidence.minRequests (20) requests in its 10-minute analysis (the loader checks it).
  deployments: {
    'llama-3-1-8b-instruct': {
      policy: 'conservative',
      expectedRequestsPerMinute: 600,
      replicas: { min: 2, max: 8 },
      gpu: { type: 'nvidia-l4', count: 1 },
      engineArgs: { 'max-num-seqs': 128, 'max-num-batched-tokens': 4096 },
    },
    'llama-3-1-70b-instruct': {
      policy: 'conservative',
      expectedRequestsPerMinute: 240,
      // Two replicas: a cold start loads 131.5 GiB of weights (~50 min), so a drain must never take the only one.
      replicas: { min: 2, max: 3 },
      gpu: { type: 'nvidia-h100-80gb', count: 4 },
      engineArgs: { 'tensor-parallel-size': 4, 'max-num-seqs': 256 },
    },
    'qwen2-5-7b-instruct': {
      policy: 'conservative',
      expectedRequestsPerMinute: 300,
      replicas: { min: 2, max: 4 },
      gpu: { type: 'nvidia-l4', count: 1 },
      engineArgs: { 'max-num-seqs': 96 },
    },
  },
});
