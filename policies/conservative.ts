import { definePolicy } from 'llmops-gitops';

// Production: change only for a large, well-evidenced gain, in small canary steps.
export default definePolicy({
  name: 'conservative',
  description: 'Production: protect latency and quality first, save cost only with strong evidence.',
  strategy: 'conservative',
  objectives: { cost: 0.4, latency: 0.4, quality: 0.2 },
  constraints: {
    hard: { maxQualityCostPct: 0.5 },
    soft: { maxCostPerHourUsd: 80 },
  },
  canary: {
    steps: [
      { weightPct: 1, pauseMinutes: 15 },
      { weightPct: 5, pauseMinutes: 15 },
      { weightPct: 25, pauseMinutes: 30 },
      { weightPct: 50, pauseMinutes: 30 },
      { weightPct: 100, pauseMinutes: 0, analysis: false },
    ],
    analysisIntervalSeconds: 60,
    analysisCount: 10,
    failureLimit: 1,
  },
  rollback: { maxErrorRateRatio: 0.01, maxP95LatencyIncreasePct: 10 },
  searchSpace: {
    gpuTypes: ['nvidia-l4', 'nvidia-a100-80gb', 'nvidia-h100-80gb'],
    allowSpot: false,
    replicas: { min: 1, max: 16 },
    maxNumSeqs: { min: 16, max: 256 },
    maxNumBatchedTokens: { min: 2048, max: 16384 },
    quantizations: ['fp8'],
  },
  limits: { maxOpenPullRequests: 2, maxPullRequestsPerHour: 1, maxReplicaChangePct: 25, cooldownMinutes: 240 },
  verificationWindowMinutes: 60,
  freezeWindows: [{ reason: 'weekend change freeze', cron: '0 16 * * 5', durationMinutes: 3840, timeZone: 'America/New_York' }],
  paused: false,
});
