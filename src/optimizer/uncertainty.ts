/**
 * How sure a proposal is, from the uncertainty of its prediction: confidence
 * falls as the prediction's relative uncertainty grows (thin samples, distance
 * from the observed operating point, hardware the observations did not cover,
 * drifting request lengths); risk is the probability that the truth, spread
 * log-normally around the prediction by that uncertainty, breaks an SLO or the
 * capacity. The thresholds a strategy applies to them are the policy's.
 */
import { cumulativeStdNormalProbability } from 'simple-statistics';
import type { Slos } from '../declarations/environment.ts';
import type { Orientation } from './orient.ts';
import type { Prediction } from './predict.ts';

/** Uncertainty added when the window's request lengths drifted: its averages describe the future less well. */
const DRIFT_UNCERTAINTY = 0.1;
/** No prediction is surer than this. */
const MIN_UNCERTAINTY = 0.02;

/** The prediction's total relative uncertainty for a decision taken on `orientation`. */
export function decisionUncertainty(prediction: Prediction, orientation: Orientation): number {
  return Math.max(MIN_UNCERTAINTY, prediction.uncertainty + (orientation.driftDetected ? DRIFT_UNCERTAINTY : 0));
}

/** 0–1: how sure the prediction is (e^−uncertainty). */
export function confidenceOf(prediction: Prediction, orientation: Orientation): number {
  return Math.exp(-decisionUncertainty(prediction, orientation));
}

/** Standard normal quantile of the prediction interval's upper end: a one-sided 97.5 % bound (the upper end of a two-sided 95 % interval). */
export const INTERVAL_Z = 1.96;

/** A predicted p95 and the interval its uncertainty gives it, milliseconds. */
export interface PredictedLatency {
  readonly expectedMs: number;
  readonly lowMs: number;
  readonly highMs: number;
}

/** What a proposal promises: its predicted p95s with their intervals. Recorded in the ledger at proposal time; the verifier judges the change by it. */
export interface PredictionInterval {
  readonly ttftP95Ms: PredictedLatency;
  readonly e2eP95Ms: PredictedLatency;
  readonly interTokenP95Ms: PredictedLatency;
  /** The decision's relative uncertainty the interval was drawn with. */
  readonly uncertainty: number;
}

/** The prediction's p95s and their 95 % intervals: the truth spread log-normally around the prediction by its decision uncertainty. */
export function predictionInterval(prediction: Prediction, orientation: Orientation): PredictionInterval {
  const uncertainty = decisionUncertainty(prediction, orientation);
  const spread = Math.exp(INTERVAL_Z * uncertainty);
  const round = (ms: number) => Math.round(ms * 10) / 10;
  const latency = (seconds: number): PredictedLatency => ({ expectedMs: round(seconds * 1000), lowMs: round((seconds * 1000) / spread), highMs: round(seconds * 1000 * spread) });
  return {
    ttftP95Ms: latency(prediction.ttftP95Seconds),
    e2eP95Ms: latency(prediction.e2eP95Seconds),
    interTokenP95Ms: latency(prediction.interTokenP95Seconds),
    uncertainty: Math.round(uncertainty * 10_000) / 10_000,
  };
}

/** 0–1: probability the configuration breaks an SLO or its capacity at the peak, its smallest log-margin against the uncertainty. */
export function riskOf(prediction: Prediction, slos: Slos, orientation: Orientation): number {
  const margin = (limit: number, predicted: number) => (predicted > 0 ? Math.log(limit / predicted) : Infinity);
  const smallest = Math.min(
    margin(slos.ttftP95Ms, prediction.ttftP95Seconds * 1000),
    margin(slos.e2eP95Ms, prediction.e2eP95Seconds * 1000),
    margin(slos.interTokenP95Ms, prediction.interTokenP95Seconds * 1000),
    margin(1, prediction.peakUtilization),
  );
  if (!Number.isFinite(smallest)) return smallest > 0 ? 0 : 1;
  return 1 - cumulativeStdNormalProbability(smallest / decisionUncertainty(prediction, orientation));
}
