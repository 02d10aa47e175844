/**
 * Closed-loop scenarios for the decision rules of issue 12 that a platform team
 * meets and the steady examples do not: a cheaper GPU that truly breaks the
 * SLOs (the bot must try it at most once per ban), a night's trough before the
 * day's peak (too little history to shrink on), and a node pool too small for
 * what the traffic needs (the proposal must fit or grow the pool). Run by
 * scripts/bench-loop.ts with its other scenarios; the world's truth is hidden
 * from the bot, which sees only Prometheus.
 */
import { editFile } from '../../testing/fixture-fleet.ts';

const DEV = 'dev/llama-3-1-8b-instruct';
const STAGING = 'staging/llama-3-1-8b-instruct';
const STAGING_BLOCK = "replicas: { min: 1, max: 3 },\n      gpu: { type: 'nvidia-a100-80gb', count: 1 },\n      engineArgs: { 'max-num-seqs': 256 }";

export const DECISION_RULE_SCENARIOS = [
  {
    name: 'a cheaper GPU that truly violates (A10G spot at 0.20 USD/h, 0.3x its datasheet)',
    world: 'shape: A10G speed 0.3',
    deploymentId: DEV,
    cycles: 8,
    traffic: { kind: 'steady', requestsPerSecond: 1.5 },
    // A negotiated A10G spot rate makes the A10G half the L4's price; by its datasheet it holds dev's SLOs, at 0.3x
    // it never does, whatever its knobs, quantization or replica count. The L4 it would replace is as predicted.
    gpus: { 'nvidia-a10g': { speed: 0.3 } },
    declared: { gpuType: 'nvidia-l4', gpuCount: 1, maxNumSeqs: 64, minReplicas: 1, maxReplicas: 2 },
    start: (clone: string) => editFile(clone, 'environments/dev.ts', 'replicas: { min: 0, max: 2 }', 'replicas: { min: 1, max: 2 }'),
    convergedMinutes: 120,
    whyMissed:
      "each revert bans its neighbourhood and none is proposed again, but the A10G is tried once per neighbourhood: AWQ at max-num-seqs 64, then 16 (two grid steps away), then 64 with another max-num-batched-tokens. The prediction carries the L4's calibration to the A10G by physics and never learns the 0.3x the failed windows measured (the performance model's issue); a policy can widen `neighbourhood.toleranceUnits`.",
    change: {
      beforeCycle: 1,
      description: 'Negotiated A10G spot rate',
      prices: { 'g5.xlarge': { onDemandUsdPerHour: 1.006, spotUsdPerHour: 0.2 } },
      apply: (clone: string) =>
        editFile(clone, 'environments/dev.ts', '  budget: { monthlyUsd: 3000 },', `  budget: { monthlyUsd: 3000 },\n  prices: { 'g5.xlarge': { onDemandUsdPerHour: 1.006, spotUsdPerHour: 0.2 } },`),
    },
  },
  {
    name: "a trough hour, then the day's peak (2 → 30 req/s over 5 hours)",
    world: 'as predicted',
    deploymentId: STAGING,
    cycles: 7,
    // One day compressed into the run's timeline from its trough: the first hour is the night.
    traffic: { kind: 'diurnal', baseRequestsPerSecond: 2, peakRequestsPerSecond: 30, periodMinutes: 600, peakAtMinute: 300 },
    declared: { gpuType: 'nvidia-a100-80gb', gpuCount: 1, maxNumSeqs: 256, minReplicas: 3, maxReplicas: 5 },
    // No history: the bot's first run sees one hour of the night.
    historyHours: 0,
    start: (clone: string) => editFile(clone, 'environments/staging.ts', STAGING_BLOCK, STAGING_BLOCK.replace('min: 1, max: 3', 'min: 3, max: 5')),
    convergedMinutes: 120,
  },
  {
    name: 'a node pool too small for the demand (A100 pool of 3 nodes, 30 req/s)',
    world: 'as predicted',
    deploymentId: STAGING,
    cycles: 6,
    traffic: { kind: 'steady', requestsPerSecond: 30 },
    declared: { gpuType: 'nvidia-a100-80gb', gpuCount: 1, maxNumSeqs: 256, minReplicas: 1, maxReplicas: 2 },
    start: async (clone: string) => {
      await editFile(clone, 'environments/staging.ts', STAGING_BLOCK, STAGING_BLOCK.replace('min: 1, max: 3', 'min: 1, max: 2'));
      await editFile(clone, 'environments/staging.ts', "capacity: 'spot', minNodes: 0, maxNodes: 8 }", "capacity: 'spot', minNodes: 0, maxNodes: 3 }");
    },
    convergedMinutes: 60,
    whyMissed:
      'every scale-out grows the pool in its own pull request, but a safety scale-out moves at most `maxReplicaChangePct` (50 %) per change, so the overload takes two hourly runs to relieve (issue 12, rule 1).',
  },
] as const;
