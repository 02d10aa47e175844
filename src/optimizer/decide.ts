/**
 * decide: one recommendation per deployment, every step explained. Rules in
 * priority order — guardrails (paused, freeze, cooldown), enough data, safety
 * (SLO breach, error spike), business (budget), the optimizer — then no action.
 * Strategy thresholds and change bounds apply to every proposal.
 */
import type { EngineArgs } from '../vllm/engine-args.ts';
import { modelFacts } from '../performance/setup.ts';
import { TUNED_KNOBS } from '../vllm/knobs.ts';
import type { FleetDeployment } from '../fleet/fleet.ts';
import { candidateConfigurations, evaluate, paretoSet, sizeReplicas, type SearchContext } from './candidates.ts';
import { fitToPools, type ClusterRoom } from './fit.ts';
import { guardrail } from './guardrails.ts';
import { replicaRules } from './shrink.ts';
import type { Observation } from './observe.ts';
import type { Orientation } from './orient.ts';
import { defaultMaxNumSeqs } from '../vllm/defaults.ts';
import { calibrate } from './calibration.ts';
import type { Configuration, Demand } from './predict.ts';
import { confidenceOf as predictionConfidence, riskOf as predictionRisk } from './uncertainty.ts';
import type { CanaryPlan, DeclarationChange, Evaluated, Recommendation, Rule } from './recommendation.ts';
import { deploymentCanaryTraffic } from '../fleet/canary-traffic.ts';

export interface DecisionInput {
  readonly deployment: FleetDeployment;
  readonly observation: Observation;
  readonly orientation: Orientation;
  readonly now: Date;
  /** When the deployment last changed (from the bot's ledger), for the cooldown and rollback advice. */
  readonly lastChangeAt?: Date;
  /** Projected monthly spend of the whole environment at the observed replica counts, USD. */
  readonly environmentMonthlyUsd?: number;
  /** Configurations banned (the neighbourhoods of reverted and declined ones, src/optimizer/bans.ts): never proposed. */
  readonly excluded?: (configuration: Configuration) => boolean;  /** The node pools of the deployment's cluster and its environment's budget: proposals fit them or grow them (src/optimizer/fit.ts). */
  readonly room?: ClusterRoom;
}

/** The configuration a deployment runs as declared. */
export function currentConfiguration(deployment: FleetDeployment): Configuration {
  const { spec, engineArgs } = deployment;
  return {
    gpuType: spec.gpu.type,
    gpuCount: spec.gpu.count,
    quantization: engineArgs.quantization,
    maxNumSeqs: engineArgs['max-num-seqs'] ?? defaultMaxNumSeqs(spec.gpu.type),
    ...(engineArgs['max-num-batched-tokens'] !== undefined ? { maxNumBatchedTokens: engineArgs['max-num-batched-tokens'] } : {}),
    replicasMin: spec.replicas.min,
    replicasMax: spec.replicas.max,
  };
}

function canaryPlan(deployment: FleetDeployment): CanaryPlan {
  const { policy } = deployment;
  return {
    enabled: deployment.environment.canary,
    steps: policy.canarySteps,
    traffic: deploymentCanaryTraffic(deployment),
    analysisIntervalSeconds: policy.canary.analysisIntervalSeconds,
    analysisCount: policy.canary.analysisCount,
    failureLimit: policy.canary.failureLimit,
    rollback: policy.rollback,
  };
}

/** Moves `value` from `from` by at most the policy's replica change per step (always at least one). */
function bounded(from: number, value: number, maxChangePct: number): number {
  const step = Math.max(1, Math.floor((from * maxChangePct) / 100));
  return Math.min(from + step, Math.max(from - step, value));
}

function boundedConfiguration(current: Configuration, proposed: Configuration, maxChangePct: number): Configuration {
  const replicasMin = bounded(current.replicasMin, proposed.replicasMin, maxChangePct);
  return { ...proposed, replicasMin, replicasMax: Math.max(replicasMin, bounded(current.replicasMax, proposed.replicasMax, maxChangePct)) };
}

/** How sure a proposal's prediction is (from its uncertainty, uncertainty.ts). */
function confidenceOf(evaluated: Evaluated, orientation: Orientation): number {
  return predictionConfidence(evaluated.prediction, orientation);
}

/** Probability the proposal breaches an SLO or its capacity at the peak (from its uncertainty, uncertainty.ts). */
function riskOf(evaluated: Evaluated, deployment: FleetDeployment, orientation: Orientation): number {
  return predictionRisk(evaluated.prediction, deployment.environment.slos, orientation);
}

/** The edit of the deployment block that turns `current` into `proposed`. */
export function declarationChange(deployment: FleetDeployment, current: Configuration, proposed: Configuration): DeclarationChange {
  const engineArgs: Partial<EngineArgs> = {};
  for (const knob of TUNED_KNOBS) {
    const value = proposed[knob.key];
    if (value !== undefined && value !== current[knob.key]) engineArgs[knob.flag] = value;
  }
  if (proposed.quantization !== current.quantization && proposed.quantization) engineArgs.quantization = proposed.quantization;
  const declaresTensorParallel = deployment.spec.engineArgs['tensor-parallel-size'] !== undefined || deployment.model.engineArgs['tensor-parallel-size'] !== undefined;
  if (proposed.gpuCount !== current.gpuCount && declaresTensorParallel) engineArgs['tensor-parallel-size'] = proposed.gpuCount;
  return {
    ...(proposed.replicasMin !== current.replicasMin || proposed.replicasMax !== current.replicasMax ? { replicas: { min: proposed.replicasMin, max: proposed.replicasMax } } : {}),
    ...(proposed.gpuType !== current.gpuType || proposed.gpuCount !== current.gpuCount ? { gpu: { type: proposed.gpuType, count: proposed.gpuCount } } : {}),
    ...(Object.keys(engineArgs).length > 0 ? { engineArgs } : {}),
    ...(current.quantization && !proposed.quantization ? { removeEngineArgs: ['quantization'] } : {}),
  };
}

export function decide(input: DecisionInput): Recommendation {
  const { deployment, observation, orientation, now } = input;
  const { policy, environment, model } = deployment;
  const current = currentConfiguration(deployment);
  const demand: Demand = {
    requestsPerSecond: observation.requestsPerSecond ?? 0,
    peakRequestsPerSecond: Math.max(observation.peakRequestsPerSecond ?? 0, observation.requestsPerSecond ?? 0),
    promptTokens: observation.meanPromptTokens ?? 512,
    outputTokens: observation.meanOutputTokens ?? 256,
  };
  const facts = modelFacts(model);
  const calibration = calibrate(facts, deployment.engineArgs, current, observation, demand, orientation.requestsInWindow);
  const context: SearchContext = { deployment, facts, engineArgs: deployment.engineArgs, current, demand, calibration, room: input.room };
  const currentEvaluated = evaluate(context, current);
  const base = {
    deploymentId: deployment.id,
    environment: environment.name,
    model: model.name,
    policy: policy.name,
    sourceFile: deployment.sourceFile,
    observed: observation,
    orientation,
    current: currentEvaluated,
    calibration,
    canaryPlan: canaryPlan(deployment),
  };
  const replicas = replicaRules(deployment, observation, current);
  const held = () => (replicas.held.length > 0 ? { held: replicas.held } : {});
  const none = (rule: Rule, reason: string, pareto: readonly Evaluated[] = []): Recommendation => ({ ...base, ...held(), action: 'none', rule, reason, pareto });
  const propose = (rule: Rule, reason: string, proposed: Evaluated, pareto: readonly Evaluated[]): Recommendation => ({
    ...base,
    ...held(),
    action: 'change',
    rule,
    reason,
    change: { ...declarationChange(deployment, current, proposed.configuration), ...(proposed.poolChanges ? { nodePools: proposed.poolChanges.map((pool) => ({ index: pool.poolIndex, name: pool.poolName, maxNodes: pool.maxNodes })) } : {}) },
    proposed,
    confidence: confidenceOf(proposed, orientation),
    risk: riskOf(proposed, deployment, orientation),
    pareto,
  });

  const stop = guardrail(policy, now, input.lastChangeAt);
  if (stop) return none(stop.rule, stop.reason);
  if (!orientation.sufficient) return none('insufficient-data', `no change: ${orientation.insufficientReason}`);

  const thresholds = policy.effectiveThresholds;
  const { slos } = environment;

  // (1) Safety: observed SLO breach → more replicas on the same hardware (bounded), or rollback advice for errors after a change.
  const breaches = [
    ['TTFT p95', observation.ttftP95Seconds, slos.ttftP95Ms],
    ['end-to-end p95', observation.e2eP95Seconds, slos.e2eP95Ms],
    ['inter-token p95', observation.interTokenP95Seconds, slos.interTokenP95Ms],
  ].filter(([, seconds, limitMs]) => seconds !== undefined && (seconds as number) * 1000 > (limitMs as number)) as [string, number, number][];
  const errorSpike = (observation.errorRatio ?? 0) > slos.errorRateRatio;
  const overloaded = (observation.waitingRequests ?? 0) >= 1 || (observation.kvCacheUsage ?? 0) > 0.9;
  if (errorSpike && input.lastChangeAt && now.getTime() - input.lastChangeAt.getTime() < policy.verificationWindowMinutes * 60_000) {
    return none('safety-error-spike', `error ratio ${(observation.errorRatio! * 100).toFixed(2)} % > ${slos.errorRateRatio * 100} % SLO within ${policy.verificationWindowMinutes} min of the last change: roll that change back`);
  }
  const loadBound = overloaded || currentEvaluated.prediction.peakUtilization > 0.8;
  // A breach from load is fixed by more replicas; one from per-request speed needs other hardware (the optimizer below).
  const speedBreach = breaches.length > 0 && !loadBound ? breaches.map(([name, seconds, limit]) => `${name} ${(seconds * 1000).toFixed(0)} ms > ${limit} ms`).join(', ') : undefined;
  if ((breaches.length > 0 && loadBound) || (errorSpike && overloaded)) {
    const what = breaches.length > 0 ? breaches.map(([name, seconds, limit]) => `${name} ${(seconds * 1000).toFixed(0)} ms > ${limit} ms`).join(', ') : `error ratio ${(observation.errorRatio! * 100).toFixed(2)} % under overload`;
    const sized = sizeReplicas(context, current);
    const target: Configuration = { ...current, replicasMin: Math.max(current.replicasMin + 1, sized.replicasMin), replicasMax: Math.max(current.replicasMax, sized.replicasMax, current.replicasMin + 1) };
    const scaled = boundedConfiguration(current, { ...target, replicasMin: Math.min(target.replicasMin, policy.searchSpace.replicas.max), replicasMax: Math.min(target.replicasMax, policy.searchSpace.replicas.max) }, policy.limits.maxReplicaChangePct);
    if (scaled.replicasMin <= current.replicasMin) return none('safety-slo-breach', `SLO breached (${what}) but replicas are at the policy's maximum ${policy.searchSpace.replicas.max}: page a person`);
    const noRoom = input.room && fitToPools(deployment, scaled, input.room).violation;
    if (noRoom) return none('safety-slo-breach', `SLO breached (${what}) but ${scaled.replicasMin}–${scaled.replicasMax} replicas ${noRoom}: page a person`);
    const proposed = evaluate(context, scaled, currentEvaluated);
    const more = proposed.feasible ? '' : ` (a first step: the policy moves at most ${policy.limits.maxReplicaChangePct} % per change and the next run continues)`;
    return propose('safety-slo-breach', `SLO breached (${what}): scale out to ${scaled.replicasMin}–${scaled.replicasMax} replicas on the same hardware${more}`, proposed, []);
  }
  if (errorSpike) return none('safety-error-spike', `error ratio ${(observation.errorRatio! * 100).toFixed(2)} % > ${slos.errorRateRatio * 100} % SLO without overload or a recent change: a configuration change would not fix it; alerting instead`);

  const evaluated = candidateConfigurations(context)
    .map((configuration) => replicas.apply(boundedConfiguration(current, configuration, policy.limits.maxReplicaChangePct)))
    .filter((configuration, index, all) => all.findIndex((other) => JSON.stringify(other) === JSON.stringify(configuration)) === index)
    .filter((configuration) => !input.excluded?.(configuration))
    .map((configuration) => evaluate(context, configuration, currentEvaluated));
  const pareto = paretoSet(evaluated);
  const acceptable = (candidate: Evaluated) => confidenceOf(candidate, orientation) >= thresholds.minConfidence && riskOf(candidate, deployment, orientation) <= thresholds.maxRisk;

  // (2) Business: over budget → the cheapest acceptable configuration that holds the SLOs.
  if (input.environmentMonthlyUsd !== undefined && input.environmentMonthlyUsd > environment.budget.monthlyUsd) {
    const cheaper = evaluated.filter((candidate) => candidate.feasible && candidate.costPerHourUsd < currentEvaluated.costPerHourUsd && acceptable(candidate)).sort((a, b) => a.costPerHourUsd - b.costPerHourUsd)[0];
    const over = `${environment.name} projects ${Math.round(input.environmentMonthlyUsd)} USD this month, over its ${environment.budget.monthlyUsd} USD budget`;
    if (cheaper) {
      return propose('business-budget', `${over}: the cheapest configuration that holds the SLOs saves ${(currentEvaluated.costPerHourUsd - cheaper.costPerHourUsd).toFixed(2)} USD/h`, cheaper, pareto);
    }
  }

  // (3) The optimizer: among the feasible configurations that change something and clear the strategy's
  // confidence and risk thresholds, the best by the policy's weights — if it improves enough (or the current one must go).
  const mustMove = !currentEvaluated.feasible;
  const judged = evaluated
    .filter((candidate) => candidate.feasible && Object.keys(declarationChange(deployment, current, candidate.configuration)).length > 0)
    .map((candidate) => ({ candidate, confidence: confidenceOf(candidate, orientation), risk: riskOf(candidate, deployment, orientation) }))
    .sort((a, b) => b.candidate.improvementPct - a.candidate.improvementPct);
  const eligible = judged.find(({ confidence, risk }) => confidence >= thresholds.minConfidence && risk <= thresholds.maxRisk);
  if (eligible && (eligible.candidate.improvementPct >= thresholds.minImprovementPct || mustMove)) {
    const { candidate } = eligible;
    const why = mustMove
      ? `the current configuration is predicted to break the SLOs at the window's peak (${currentEvaluated.violations.join('; ')})`
      : `${candidate.improvementPct.toFixed(1)} % better by ${policy.name}'s weights (cost ${policy.objectives.cost}, latency ${policy.objectives.latency}, quality ${policy.objectives.quality}, throughput ${policy.objectives.throughput})`;
    const rule: Rule = speedBreach ? 'safety-slo-breach' : 'optimizer';
    const prefix = speedBreach ? `SLO breached (${speedBreach}) by per-request speed, not load: ` : '';
    return propose(rule, `${prefix}${why}; predicted to hold the SLOs with ${((1 - candidate.prediction.peakUtilization) * 100).toFixed(0)} % headroom at the peak`, candidate, pareto);
  }
  const best = judged[0];
  if (best && best.candidate.improvementPct >= thresholds.minImprovementPct) {
    return none(
      'no-better-configuration',
      `no change: the best option (${best.candidate.improvementPct.toFixed(1)} %) is not sure enough for ${policy.strategy}: confidence ${best.confidence.toFixed(2)} (needs ${thresholds.minConfidence}), risk ${best.risk.toFixed(2)} (at most ${thresholds.maxRisk})`,
      pareto,
    );
  }
  const bestPct = best ? best.candidate.improvementPct.toFixed(1) : '0';
  return none('no-better-configuration', `no change: no configuration beats the current one by ${thresholds.minImprovementPct} % (best ${bestPct} %)`, pareto);
}
