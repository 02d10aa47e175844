/**
 * How Argo Rollouts judges an AnalysisTemplate metric, for tests: a
 * measurement's phase from its success/failure conditions
 * (argoproj/argo-rollouts utils/evaluate/evaluate.go, EvaluateResult) and a
 * metric's phase after a series of measurements (analysis/analysis.go,
 * assessMetricStatus and assessMetricFailureInconclusiveOrError), for the
 * fields our templates use. The conditions are expr-lang expressions; the ones
 * we write (`len(result) > 0 && !isNaN(result[0]) && result[0] <= 0.01`,
 * `false`) read the same in JavaScript, with `len` and `isNaN` supplied.
 */
export type MeasurementPhase = 'Successful' | 'Failed' | 'Inconclusive';
export type MetricPhase = MeasurementPhase | 'Running';

export interface AnalysisMetric {
  readonly successCondition?: string;
  readonly failureCondition?: string;
  readonly count?: number;
  readonly failureLimit?: number;
  readonly inconclusiveLimit?: number;
  readonly consecutiveSuccessLimit?: number;
}

function condition(expression: string, result: readonly number[]): boolean {
  if (!/^[\w\s.()[\]<>=!&|+-]+$/.test(expression)) throw new Error(`not a condition this helper reads: ${expression}`);
  return Boolean(new Function('result', 'len', 'isNaN', `return (${expression});`)(result, (value: readonly unknown[]) => value.length, Number.isNaN));
}

/** A measurement's phase for a Prometheus result vector (an empty array when the query returned nothing). */
export function measurementPhase(metric: AnalysisMetric, result: readonly number[]): MeasurementPhase {
  let success = metric.successCondition ? condition(metric.successCondition, result) : false;
  let failure = metric.failureCondition ? condition(metric.failureCondition, result) : false;
  if (!metric.successCondition && !metric.failureCondition) return 'Successful';
  if (metric.successCondition && !metric.failureCondition) failure = !success;
  if (!metric.successCondition && metric.failureCondition) success = !failure;
  if (failure) return 'Failed';
  return success ? 'Successful' : 'Inconclusive';
}

/** The metric's phase after these measurements, in order. */
export function metricPhase(metric: AnalysisMetric, measurements: readonly MeasurementPhase[]): MetricPhase {
  let phase: MetricPhase | undefined;
  let consecutiveSuccess = 0;
  for (const [index, measurement] of measurements.entries()) {
    consecutiveSuccess = measurement === 'Successful' ? consecutiveSuccess + 1 : 0;
    const seen = measurements.slice(0, index + 1);
    const failed = seen.filter((candidate) => candidate === 'Failed').length;
    const inconclusive = seen.filter((candidate) => candidate === 'Inconclusive').length;
    const failureLimit = metric.failureLimit ?? 0;
    phase = undefined;
    if (failureLimit >= 0 && failed > failureLimit) phase = 'Failed';
    if (inconclusive > (metric.inconclusiveLimit ?? 0)) phase = 'Inconclusive';
    if (phase) return phase;
    const successLimit = metric.consecutiveSuccessLimit ?? 0;
    if (successLimit > 0 && consecutiveSuccess >= successLimit) return 'Successful';
    if (metric.count !== undefined && seen.length >= metric.count) {
      const failureApplicable = failureLimit >= 0;
      const successApplicable = successLimit > 0;
      if (failureApplicable && successApplicable) return 'Inconclusive';
      if (successApplicable) return 'Failed';
      return 'Successful';
    }
  }
  return 'Running';
}
