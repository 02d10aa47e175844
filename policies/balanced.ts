import { definePolicy } from 'llmops-gitops';

export default definePolicy({
  name: 'balanced',
  description: 'Staging: weigh cost and latency evenly; spot capacity is fine.',
  strategy: 'balanced',
  objectives: { cost: 0.5, latency: 0.3, quality: 0.1, throughput: 0.1 },
  constraints: { hard: { maxQualityCostPct: 1 } },
  rollback: { maxErrorRateRatio: 0.02, maxP95LatencyIncreasePct: 20 },
  searchSpace: {
    gpuTypes: ['nvidia-t4', 'nvidia-a100-80gb', 'nvidia-h100-80gb'],
    allowSpot: true,
    replicas: { min: 1, max: 8 },
    maxNumSeqs: { min: 16, max: 512 },
    maxNumBatchedTokens: { min: 1024, max: 16384 },
    quantizations: ['fp8'],
  },
  limits: { maxOpenPullRequests: 3, maxPullRequestsPerHour: 2, maxReplicaChangePct: 50, cooldownMinutes: 60 },
});
