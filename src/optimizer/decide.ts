/**
 * decide: one recommendation per deployment, every step explained. Rules in
 * priority order — a person's stop (paused, freeze), enough data, safety (SLO
 * breach, error spike; before the cooldown), the cooldown, business (budget),
 * the optimizer — then no action. A breach the policy lets nothing fix becomes
 * a person's decision (`needs-decision`). Strategy thresholds apply to every
 * proposal but the scale-out of a load-bound breach; the change bound applies
 * to shrinking only.
 */
import type { EngineArgs } from '../vllm/engine-args.ts';
import { modelFacts } from '../performance/setup.ts';
import { TUNED_KNOBS } from '../vllm/knobs.ts';
import type { Thresholds } from '../declarations/policy.ts';
import type { FleetDeployment } from '../fleet/fleet.ts';
import { latencyBreaches } from './breach.ts';
import { candidateConfigurations, evaluate, paretoSet, sizeReplicas, TARGET_PEAK_UTILIZATION, type SearchContext } from './candidates.ts';
import { fitToPools, type ClusterRoom } from './fit.ts';
import { guardrail, humanStop } from './guardrails.ts';
import { replicaRules } from './shrink.ts';
import type { Observation } from './observe.ts';
import type { Orientation } from './orient.ts';
import { defaultMaxNumSeqs } from '../vllm/defaults.ts';
import { calibrate } from './calibration.ts';
import type { Configuration, Demand } from './predict.ts';
import { confidenceOf as predictionConfidence, riskOf as predictionRisk } from './uncertainty.ts';
import type { CanaryPlan, DeclarationChange, Escalation, Evaluated, Recommendation, Rule } from './recommendation.ts';
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
  readonly excluded?: (configuration: Configuration) => boolean;
  /** The node pools of the deployment's cluster and its environment's budget: proposals fit them or grow them (src/optimizer/fit.ts). */
  readonly room?: ClusterRoom;
}

const sameConfiguration = (a: Configuration, b: Configuration) =>
  a.gpuType === b.gpuType &&
  a.gpuCount === b.gpuCount &&
  a.quantization === b.quantization &&
  TUNED_KNOBS.every((knob) => a[knob.key] === b[knob.key]) &&
  a.replicasMin === b.replicasMin &&
  a.replicasMax === b.replicasMax;

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

/** Shrinks `value` from `from` by at most the policy's replica change per step (always at least one); growth is not bounded. */
function boundedDown(from: number, value: number, maxChangePct: number): number {
  const step = Math.max(1, Math.floor((from * maxChangePct) / 100));
  return Math.max(from - step, value);
}

/**
 * A proposal whose replicas shrink by at most the policy's change per step. Growth relieves load (or carries a
 * slower machine) and is never what breaks an SLO, so it lands in one step.
 */
function boundedShrink(current: Configuration, proposed: Configuration, maxChangePct: number): Configuration {
  const replicasMin = boundedDown(current.replicasMin, proposed.replicasMin, maxChangePct);
  return { ...proposed, replicasMin, replicasMax: Math.max(replicasMin, boundedDown(current.replicasMax, proposed.replicasMax, maxChangePct)) };
}

/**
 * The safety scale-out of a load-bound breach: the same hardware on the replicas the observed peak needs with
 * headroom (candidates.ts, TARGET_PEAK_UTILIZATION), at least one more than now (the model underestimated the
 * load if the breach persists at its size), within the policy's replica bounds. One step, not bounded by
 * `maxReplicaChangePct`: that bound is for shrinking.
 */
export function safetyScaleOut(context: SearchContext, current: Configuration): Configuration {
  const limit = context.deployment.policy.searchSpace.replicas.max;
  const sized = sizeReplicas(context, current);
  const replicasMin = Math.min(limit, Math.max(current.replicasMin + 1, sized.replicasMin));
  return { ...current, replicasMin, replicasMax: Math.min(limit, Math.max(current.replicasMax, sized.replicasMax, replicasMin)) };
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
    change: {
      ...declarationChange(deployment, current, proposed.configuration),
      ...(proposed.poolChanges ? { nodePools: proposed.poolChanges.map((pool) => ({ index: pool.poolIndex, name: pool.poolName, maxNodes: pool.maxNodes })) } : {}),
    },
    proposed,
    confidence: confidenceOf(proposed, orientation),
    risk: riskOf(proposed, deployment, orientation),
    pareto,
  });

  const stop = humanStop(policy, now);
  if (stop) return none(stop.rule, stop.reason);
  if (!orientation.sufficient) return none('insufficient-data', `no change: ${orientation.insufficientReason}`);

  const thresholds = policy.effectiveThresholds;
  const { slos } = environment;
  const changing = changingFrom(current);
  const judge = (candidate: Evaluated): Judged => ({ candidate, confidence: confidenceOf(candidate, orientation), risk: riskOf(candidate, deployment, orientation) });
  const searched = () =>
    candidateConfigurations(context)
      .map((configuration) => replicas.apply(boundedShrink(current, configuration, policy.limits.maxReplicaChangePct)))
      .filter((configuration, index, all) => all.findIndex((other) => JSON.stringify(other) === JSON.stringify(configuration)) === index)
      .filter((configuration) => !input.excluded?.(configuration))
      .map((configuration) => evaluate(context, configuration, currentEvaluated));

  // (1) Safety, before the cooldown and any cost work: an observed SLO breach from load → more replicas on the same
  // hardware, sized to the demand in one step; one from per-request speed → the best fix the thresholds accept, or a
  // person's decision; errors after a change → rollback advice.
  const breaches = latencyBreaches(observation, slos);
  const breachWords = breaches.map((breach) => `${breach.name} ${breach.observedMs.toFixed(0)} ms > ${breach.limitMs} ms`).join(', ');
  const errorSpike = (observation.errorRatio ?? 0) > slos.errorRateRatio;
  const overloaded = (observation.waitingRequests ?? 0) >= 1 || (observation.kvCacheUsage ?? 0) > 0.9;
  if (errorSpike && input.lastChangeAt && now.getTime() - input.lastChangeAt.getTime() < policy.verificationWindowMinutes * 60_000) {
    return none(
      'safety-error-spike',
      `error ratio ${(observation.errorRatio! * 100).toFixed(2)} % > ${slos.errorRateRatio * 100} % SLO within ${policy.verificationWindowMinutes} min of the last change: roll that change back`,
    );
  }
  const loadBound = overloaded || currentEvaluated.prediction.peakUtilization > 0.8;
  if ((breaches.length > 0 && loadBound) || (errorSpike && overloaded)) {
    const what = breaches.length > 0 ? breachWords : `error ratio ${(observation.errorRatio! * 100).toFixed(2)} % under overload`;
    const scaled = safetyScaleOut(context, current);
    if (scaled.replicasMin <= current.replicasMin) {
      const beyond = sizeReplicas({ ...context, deployment: widened(deployment) }, current);
      const needed = { ...current, replicasMin: Math.max(current.replicasMin + 1, beyond.replicasMin), replicasMax: Math.max(current.replicasMax, beyond.replicasMax, current.replicasMin + 1) };
      return escalate(
        what,
        [
          {
            ...judge(evaluate(context, needed, currentEvaluated)),
            blockedBy: `${needed.replicasMin} replicas are above the policy's maximum ${policy.searchSpace.replicas.max} (searchSpace.replicas.max)`,
          },
        ],
        () => none('safety-slo-breach', `SLO breached (${what}) but replicas are at the policy's maximum ${policy.searchSpace.replicas.max}: page a person`),
      );
    }
    const noRoom = input.room && fitToPools(deployment, scaled, input.room).violation;
    if (noRoom) return none('safety-slo-breach', `SLO breached (${what}) but ${scaled.replicasMin}–${scaled.replicasMax} replicas ${noRoom}: page a person`);
    const proposed = evaluate(context, scaled, currentEvaluated);
    return propose(
      'safety-slo-breach',
      `SLO breached (${what}): scale out to ${scaled.replicasMin}–${scaled.replicasMax} replicas on the same hardware, sized to the observed peak of ${demand.peakRequestsPerSecond.toFixed(2)} req/s with ${((1 - TARGET_PEAK_UTILIZATION) * 100).toFixed(0)} % headroom in one step`,
      proposed,
      [],
    );
  }
  if (errorSpike)
    return none(
      'safety-error-spike',
      `error ratio ${(observation.errorRatio! * 100).toFixed(2)} % > ${slos.errorRateRatio * 100} % SLO without overload or a recent change: a configuration change would not fix it; alerting instead`,
    );

  // A breach from per-request speed needs other hardware or settings: the search, before the cooldown.
  if (breaches.length > 0) {
    const evaluated = searched();
    const fixes = changing(evaluated).map(judge);
    const passing = fixes.filter(({ confidence, risk }) => confidence >= thresholds.minConfidence && risk <= thresholds.maxRisk);
    const blocked = [
      ...fixes.filter((fix) => !passing.includes(fix)).map((fix) => ({ ...fix, blockedBy: thresholdBlock(fix, thresholds, policy.strategy) })),
      ...outsideSearchSpace(context, currentEvaluated, judge),
    ];
    const cheapestBlocked = [...blocked].sort((a, b) => a.candidate.costPerHourUsd - b.candidate.costPerHourUsd)[0];
    const affordable = (fix: Judged) => !cheapestBlocked || fix.candidate.costPerHourUsd <= MAX_SAFETY_COST_FACTOR * cheapestBlocked.candidate.costPerHourUsd;
    const accepted = passing.filter(affordable).sort(byImprovement)[0];
    const prefix = `SLO breached (${breachWords}) by per-request speed, not load`;
    if (accepted) {
      return propose(
        'safety-slo-breach',
        `${prefix}: the best fix the ${policy.strategy} thresholds accept; predicted to hold the SLOs with ${((1 - accepted.candidate.prediction.peakUtilization) * 100).toFixed(0)} % headroom at the peak`,
        accepted.candidate,
        paretoSet(evaluated),
      );
    }
    const costly = passing.map((fix) => ({
      ...fix,
      blockedBy: `costs ${fix.candidate.costPerHourUsd.toFixed(2)} USD/h, over ${MAX_SAFETY_COST_FACTOR}x the ${cheapestBlocked!.candidate.costPerHourUsd.toFixed(2)} USD/h of the cheapest fix the policy blocked: trading that much money for certainty is a person's call`,
    }));
    return escalate(
      breachWords,
      [...costly, ...blocked],
      () => none('safety-slo-breach', `${prefix}, and no configuration the policy allows is predicted to hold the SLOs: page a person`),
      paretoSet(evaluated),
    );
  }

  const cooldown = guardrail(policy, now, input.lastChangeAt);
  if (cooldown) return none(cooldown.rule, cooldown.reason);

  const evaluated = searched();
  const pareto = paretoSet(evaluated);
  const acceptable = (candidate: Evaluated) => confidenceOf(candidate, orientation) >= thresholds.minConfidence && riskOf(candidate, deployment, orientation) <= thresholds.maxRisk;

  // (2) Business: over budget → the cheapest acceptable configuration that holds the SLOs.
  if (input.environmentMonthlyUsd !== undefined && input.environmentMonthlyUsd > environment.budget.monthlyUsd) {
    const cheaper = evaluated
      .filter((candidate) => candidate.feasible && candidate.costPerHourUsd < currentEvaluated.costPerHourUsd && acceptable(candidate))
      .sort((a, b) => a.costPerHourUsd - b.costPerHourUsd)[0];
    const over = `${environment.name} projects ${Math.round(input.environmentMonthlyUsd)} USD this month, over its ${environment.budget.monthlyUsd} USD budget`;
    if (cheaper) {
      return propose(
        'business-budget',
        `${over}: the cheapest configuration that holds the SLOs saves ${(currentEvaluated.costPerHourUsd - cheaper.costPerHourUsd).toFixed(2)} USD/h`,
        cheaper,
        pareto,
      );
    }
  }

  // (3) The optimizer: among the feasible configurations that change something and clear the strategy's
  // confidence and risk thresholds, the best by the policy's weights — if it improves enough (or the current one must go).
  const mustMove = !currentEvaluated.feasible;
  const judged = changing(evaluated).map(judge).sort(byImprovement);
  const eligible = judged.find(({ confidence, risk }) => confidence >= thresholds.minConfidence && risk <= thresholds.maxRisk);
  if (eligible && (eligible.candidate.improvementPct >= thresholds.minImprovementPct || mustMove)) {
    const { candidate } = eligible;
    const why = mustMove
      ? `the current configuration is predicted to break the SLOs at the window's peak (${currentEvaluated.violations.join('; ')})`
      : `${candidate.improvementPct.toFixed(1)} % better by ${policy.name}'s weights (cost ${policy.objectives.cost}, latency ${policy.objectives.latency}, quality ${policy.objectives.quality}, throughput ${policy.objectives.throughput})`;
    return propose('optimizer', `${why}; predicted to hold the SLOs with ${((1 - candidate.prediction.peakUtilization) * 100).toFixed(0)} % headroom at the peak`, candidate, pareto);
  }
  const best = judged[0];
  if (best && (best.candidate.improvementPct >= thresholds.minImprovementPct || mustMove)) {
    const what = mustMove
      ? `the current configuration is predicted to break the SLOs at the window's peak (${currentEvaluated.violations.join('; ')}), but the best fix`
      : `the best option (${best.candidate.improvementPct.toFixed(1)} %)`;
    return none('no-better-configuration', `no change: ${what} is not sure enough for ${policy.strategy}: ${thresholdBlock(best, thresholds, policy.strategy)}`, pareto);
  }
  if (!best)
    return none(
      'no-better-configuration',
      mustMove
        ? `no change: the current configuration is predicted to break the SLOs at the window's peak (${currentEvaluated.violations.join('; ')}) and no configuration the policy allows holds them`
        : 'no change: no other configuration the policy allows holds the SLOs',
      pareto,
    );
  return none('no-better-configuration', `no change: no configuration beats the current one by ${thresholds.minImprovementPct} % (best ${best.candidate.improvementPct.toFixed(1)} %)`, pareto);

  /** The draft for a person: the most likely of the blocked fixes (lowest risk, then best by the weights), with every fix considered. */
  function escalate(breach: string, considered: readonly (Judged & { readonly blockedBy?: string })[], otherwise: () => Recommendation, paretoOf: readonly Evaluated[] = []): Recommendation {
    // The most likely fix of each machine (GPU type, count, quantization): knob variants of one machine are one option to a person.
    const machine = ({ candidate: { configuration } }: Judged) => `${configuration.gpuCount}x ${configuration.gpuType} ${configuration.quantization ?? ''}`;
    const fixes = considered
      .filter((fix) => fix.candidate.feasible && fix.blockedBy !== undefined)
      .sort((a, b) => a.risk - b.risk || byImprovement(a, b))
      .filter((fix, index, sorted) => sorted.findIndex((other) => machine(other) === machine(fix)) === index);
    const chosen = fixes[0];
    if (!chosen) return otherwise();
    const escalation: Escalation = {
      breach,
      considered: fixes.slice(0, MAX_FIXES_LISTED).map((fix) => ({ configuration: fix.candidate.configuration, costPerHourUsd: fix.candidate.costPerHourUsd, blockedBy: fix.blockedBy })),
    };
    const recommendation = propose(
      'needs-decision',
      `SLO breached (${breach}) and every fix is blocked by the policy: a person decides (draft); this one was blocked because ${chosen.blockedBy}`,
      chosen.candidate,
      paretoOf,
    );
    return { ...recommendation, escalation };
  }
}

interface Judged {
  readonly candidate: Evaluated;
  readonly confidence: number;
  readonly risk: number;
}

/** A safety fix may cost at most this many times the cheapest fix the policy blocked; beyond, the trade of money for certainty is a person's. */
const MAX_SAFETY_COST_FACTOR = 2;
/** Fixes listed in a needs-decision pull request. */
const MAX_FIXES_LISTED = 8;

const byImprovement = (a: Judged, b: Judged) => b.candidate.improvementPct - a.candidate.improvementPct;

/** The feasible candidates that change something. */
const changingFrom = (current: Configuration) => (evaluated: readonly Evaluated[]) => evaluated.filter((candidate) => candidate.feasible && !sameConfiguration(candidate.configuration, current));

/** Which threshold blocks a fix, in words; undefined when none does. */
function thresholdBlock(fix: Judged, thresholds: Thresholds, strategy: string): string | undefined {
  const reasons = [
    ...(fix.confidence < thresholds.minConfidence ? [`confidence ${fix.confidence.toFixed(2)} < ${thresholds.minConfidence}`] : []),
    ...(fix.risk > thresholds.maxRisk ? [`risk ${fix.risk.toFixed(2)} > ${thresholds.maxRisk}`] : []),
  ];
  return reasons.length > 0 ? `${reasons.join(' and ')} (thresholds of ${strategy})` : undefined;
}

/** The deployment with its policy's search space widened to every GPU type its environment has a node pool for, and twice the replicas. */
function widened(deployment: FleetDeployment): FleetDeployment {
  const { policy, environment } = deployment;
  const space = policy.searchSpace;
  const gpuTypes = [...new Set([...space.gpuTypes, ...environment.nodePools.map((pool) => pool.gpuType)])];
  return { ...deployment, policy: { ...policy, searchSpace: { ...space, gpuTypes, replicas: { ...space.replicas, max: space.replicas.max * 2 } } } };
}

/** Why the policy's search space keeps `configuration` out (a GPU type it does not list, replicas above its maximum); undefined when it does not. */
function searchSpaceBlock(configuration: Configuration, current: Configuration, space: FleetDeployment['policy']['searchSpace']): string | undefined {
  if (configuration.gpuType !== current.gpuType && !space.gpuTypes.includes(configuration.gpuType))
    return `GPU type ${configuration.gpuType} is outside the policy's search space (searchSpace.gpuTypes)`;
  const replicas = Math.max(configuration.replicasMin, configuration.replicasMax);
  return replicas > space.replicas.max ? `${replicas} replicas are above the policy's maximum ${space.replicas.max} (searchSpace.replicas.max)` : undefined;
}

/** Feasible fixes only the policy's search space keeps out (GPU types with a node pool, replicas above its maximum), each with what blocked it. */
function outsideSearchSpace(context: SearchContext, currentEvaluated: Evaluated, judge: (candidate: Evaluated) => Judged): (Judged & { blockedBy: string })[] {
  const space = context.deployment.policy.searchSpace;
  return candidateConfigurations({ ...context, deployment: widened(context.deployment) }).flatMap((configuration) => {
    const blockedBy = searchSpaceBlock(configuration, context.current, space);
    if (!blockedBy) return [];
    const candidate = evaluate(context, configuration, currentEvaluated);
    return candidate.feasible ? [{ ...judge(candidate), blockedBy }] : [];
  });
}
