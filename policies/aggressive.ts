import { definePolicy } from 'llmops-gitops';

export default definePolicy({
  name: 'aggressive',
  description: 'Dev: chase cost; latency matters little and canaries are short.',
  strategy: 'aggressive',
  objectives: { cost: 0.7, latency: 0.2, quality: 0.1 },
  rollback: { maxErrorRateRatio: 0.05, maxP95LatencyIncreasePct: 50 },
  searchSpace: {
    gpuTypes: ['nvidia-t4', 'nvidia-l4', 'nvidia-a10g', 'nvidia-l40s'],
    allowSpot: true,
    replicas: { min: 0, max: 4 },
    maxNumSeqs: { min: 8, max: 256 },
    maxNumBatchedTokens: { min: 1024, max: 8192 },
    quantizations: ['fp8', 'awq'],
  },
  limits: { maxOpenPullRequests: 5, maxPullRequestsPerHour: 4, maxReplicaChangePct: 100, cooldownMinutes: 15 },
  verificationWindowMinutes: 15,
});
