/**
 * The SLOs a deployment breaches now: the one reading of "an active SLO breach"
 * shared by the decision (safety first), the dashboard (a blocked safety action)
 * and the pull request. Pure.
 */
import type { Slos } from '../declarations/environment.ts';
import type { Signals } from './observe.ts';

/** One latency SLO broken by its observed p95. */
export interface LatencyBreach {
  /** "TTFT p95". */
  readonly name: string;
  readonly observedMs: number;
  readonly limitMs: number;
}

/** The latency p95s of `signals` against their SLOs, as [name, observed seconds, limit ms]. */
export function latencySloPairs(signals: Pick<Signals, 'ttftP95Seconds' | 'e2eP95Seconds' | 'interTokenP95Seconds'>, slos: Slos): [string, number | undefined, number][] {
  return [
    ['TTFT p95', signals.ttftP95Seconds, slos.ttftP95Ms],
    ['end-to-end p95', signals.e2eP95Seconds, slos.e2eP95Ms],
    ['inter-token p95', signals.interTokenP95Seconds, slos.interTokenP95Ms],
  ];
}

/** The latency SLOs `signals` break. */
export function latencyBreaches(signals: Pick<Signals, 'ttftP95Seconds' | 'e2eP95Seconds' | 'interTokenP95Seconds'>, slos: Slos): LatencyBreach[] {
  return latencySloPairs(signals, slos)
    .filter(([, seconds, limitMs]) => seconds !== undefined && seconds * 1000 > limitMs)
    .map(([name, seconds, limitMs]) => ({ name, observedMs: seconds! * 1000, limitMs }));
}

/** "TTFT p95 1520 ms > 800 ms, error ratio 2.00 % > 1.00 %", or undefined when every SLO holds. */
export function describeBreaches(signals: Pick<Signals, 'ttftP95Seconds' | 'e2eP95Seconds' | 'interTokenP95Seconds' | 'errorRatio'>, slos: Slos): string | undefined {
  const words = latencyBreaches(signals, slos).map((breach) => `${breach.name} ${breach.observedMs.toFixed(0)} ms > ${breach.limitMs} ms`);
  if (signals.errorRatio !== undefined && signals.errorRatio > slos.errorRateRatio) words.push(`error ratio ${(signals.errorRatio * 100).toFixed(2)} % > ${(slos.errorRateRatio * 100).toFixed(2)} %`);
  return words.length > 0 ? words.join(', ') : undefined;
}
