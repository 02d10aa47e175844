/**
 * The confidence a pull request may show. The optimizer's confidence says how
 * sure its prediction for the proposal is; a reviewer also sees, in the same
 * body, how far its prediction for the current configuration was from what
 * Prometheus observed. The two must agree: a model that was 58× off on what is
 * running now cannot be 0.97 sure about what it proposes. The confidence shown
 * is at most 1 ÷ the worst observed-to-predicted factor of the current
 * configuration's p95s, and the risk label is raised to match. Pure.
 */
import type { Recommendation } from '../optimizer/recommendation.ts';

/** The current configuration's worst latency prediction against the observation. */
export interface PredictionMiss {
  /** Which p95 ("p95 end-to-end latency"). */
  readonly figure: string;
  readonly observedSeconds: number;
  readonly predictedSeconds: number;
  /** max(observed ÷ predicted, predicted ÷ observed): 1 is a perfect prediction. */
  readonly factor: number;
}

/** How far the prediction for the current configuration was from the observation at worst; undefined without both figures. */
export function currentPredictionMiss(recommendation: Recommendation): PredictionMiss | undefined {
  const observed = recommendation.observed;
  const predicted = recommendation.current.prediction;
  const pairs: [string, number | undefined, number][] = [
    ['p95 end-to-end latency', observed.e2eP95Seconds, predicted.e2eP95Seconds],
    ['p95 time to first token', observed.ttftP95Seconds, predicted.ttftP95Seconds],
    ['p95 inter-token latency', observed.interTokenP95Seconds, predicted.interTokenP95Seconds],
  ];
  const misses = pairs
    .filter(([, seen, expected]) => seen !== undefined && seen > 0 && Number.isFinite(seen) && expected > 0 && Number.isFinite(expected))
    .map(([figure, seen, expected]): PredictionMiss => ({ figure, observedSeconds: seen!, predictedSeconds: expected, factor: Math.max(seen! / expected, expected / seen!) }));
  return misses.sort((a, b) => b.factor - a.factor)[0];
}

export interface ReportedConfidence {
  /** What the pull request shows (0–1); undefined when the optimizer gave none. */
  readonly value?: number;
  /** The optimizer's own figure. */
  readonly model?: number;
  /** The miss that capped it, when it did. */
  readonly cappedBy?: PredictionMiss;
}

/** The confidence to show: the optimizer's, capped by how well it predicted the current configuration. */
export function reportedConfidence(recommendation: Recommendation): ReportedConfidence {
  const model = recommendation.confidence;
  if (model === undefined) return {};
  const miss = currentPredictionMiss(recommendation);
  const ceiling = miss ? 1 / miss.factor : 1;
  return ceiling < model ? { value: ceiling, model, cappedBy: miss } : { value: model, model };
}

export type RiskLabel = 'risk:low' | 'risk:medium' | 'risk:high';

const RANK: Readonly<Record<RiskLabel, number>> = { 'risk:low': 0, 'risk:medium': 1, 'risk:high': 2 };

/**
 * Risk label from the predicted probability of an SLO breach (under 2 % low, under 10 % medium), raised to medium
 * when the shown confidence is under 0.8 and to high under 0.5: a prediction that far off is no low-risk change.
 */
export function riskLabelOf(recommendation: Recommendation): RiskLabel {
  const { risk } = recommendation;
  const byRisk: RiskLabel = risk === undefined || risk >= 0.1 ? 'risk:high' : risk >= 0.02 ? 'risk:medium' : 'risk:low';
  const confidence = reportedConfidence(recommendation).value;
  const byConfidence: RiskLabel = confidence === undefined || confidence >= 0.8 ? 'risk:low' : confidence >= 0.5 ? 'risk:medium' : 'risk:high';
  return RANK[byConfidence] > RANK[byRisk] ? byConfidence : byRisk;
}
