/**
 * After merge: watches a merged proposal for its policy's verification window.
 * Argo Rollouts never writes to git, so after an aborted canary git still
 * declares the new configuration; this is where the bot notices and reverts.
 * The verdict covers the fixed interval [merge, merge + window], so it does
 * not change from one cycle to the next once the window is over.
 */
import type { FleetDeployment } from '../fleet/fleet.ts';
import { observeFleet, targetKey, type Signals } from '../optimizer/observe.ts';
import type { PrometheusClient } from '../prometheus/client.ts';
import { ROLLOUT_PHASE } from '../prometheus/exporters.ts';

export interface Verdict {
  /** `pending` until the window is over, unless the change already failed. */
  readonly status: 'pending' | 'verified' | 'failed';
  /** What failed, one line each, with the observed figure and the limit. */
  readonly evidence: readonly string[];
  /** End of the verification window. */
  readonly windowEnd: Date;
}

export interface VerificationInput {
  readonly deployment: FleetDeployment;
  readonly mergedAt: Date;
  readonly now: Date;
  /** Since the merge (up to the end of the window). */
  readonly after: Signals;
  /** The same length of time before the merge. */
  readonly before: Signals;
  /** The Rollout reported `Degraded` (an aborted canary) since the merge; undefined where unknown (no Argo Rollouts metrics). */
  readonly rolloutDegraded?: boolean;
}

const ms = (seconds: number | undefined) => (seconds === undefined ? '-' : `${Math.round(seconds * 1000)} ms`);

/** Judges a merged change against the SLOs and the policy's rollback thresholds. Pure. */
export function judgeVerification(input: VerificationInput): Verdict {
  const { deployment, after, before } = input;
  const { slos } = deployment.environment;
  const { rollback, verificationWindowMinutes } = deployment.policy;
  const windowEnd = new Date(input.mergedAt.getTime() + verificationWindowMinutes * 60_000);
  const evidence: string[] = [];
  if (input.rolloutDegraded) evidence.push(`the Rollout ${deployment.model.name} went Degraded (canary analysis aborted the rollout)`);
  // A breach counts against the change only if the change made it: it was not there before the merge, or it got
  // worse by more than the policy allows. A scale-out that eases but does not end an overload is not reverted.
  const allowed = 1 + rollback.maxP95LatencyIncreasePct / 100;
  const madeWorse = (now: number, was: number | undefined, limit: number) => now > limit && (was === undefined || was <= limit || now > was * allowed);
  const errorLimit = Math.min(rollback.maxErrorRateRatio, slos.errorRateRatio);
  if (after.errorRatio !== undefined && madeWorse(after.errorRatio, before.errorRatio, errorLimit)) evidence.push(`error ratio ${(after.errorRatio * 100).toFixed(2)} % > ${(errorLimit * 100).toFixed(2)} % (rollback threshold / SLO)${before.errorRatio === undefined ? '' : `, ${(before.errorRatio * 100).toFixed(2)} % before the merge`}`);
  const breaches: [string, number | undefined, number | undefined, number][] = [
    ['TTFT p95', after.ttftP95Seconds, before.ttftP95Seconds, slos.ttftP95Ms],
    ['end-to-end p95', after.e2eP95Seconds, before.e2eP95Seconds, slos.e2eP95Ms],
    ['inter-token p95', after.interTokenP95Seconds, before.interTokenP95Seconds, slos.interTokenP95Ms],
  ];
  for (const [name, seconds, was, limitMs] of breaches) {
    if (seconds !== undefined && madeWorse(seconds * 1000, was === undefined ? undefined : was * 1000, limitMs)) evidence.push(`${name} ${ms(seconds)} > ${limitMs} ms SLO${was === undefined ? '' : ` (${ms(was)} before the merge)`}`);
  }
  if (after.e2eP95Seconds !== undefined && before.e2eP95Seconds !== undefined && before.e2eP95Seconds > 0) {
    const increasePct = (after.e2eP95Seconds / before.e2eP95Seconds - 1) * 100;
    if (increasePct > rollback.maxP95LatencyIncreasePct) evidence.push(`end-to-end p95 ${ms(after.e2eP95Seconds)} is ${increasePct.toFixed(0)} % above the ${ms(before.e2eP95Seconds)} before the merge (policy allows ${rollback.maxP95LatencyIncreasePct} %)`);
  }
  if (evidence.length > 0) return { status: 'failed', evidence, windowEnd };
  return { status: input.now >= windowEnd ? 'verified' : 'pending', evidence, windowEnd };
}

/** Observes a merged deployment around its merge and judges it. */
export async function verifyMerge(client: PrometheusClient, deployment: FleetDeployment, mergedAt: Date, now: Date): Promise<Verdict> {
  const windowEndMs = mergedAt.getTime() + deployment.policy.verificationWindowMinutes * 60_000;
  const endSeconds = Math.floor(Math.min(now.getTime(), windowEndMs) / 1000);
  const mergedSeconds = Math.floor(mergedAt.getTime() / 1000);
  const spanSeconds = Math.max(60, endSeconds - mergedSeconds);
  const window = `${spanSeconds}s`;
  const target = { namespace: deployment.environment.namespace, model: deployment.model.name };
  const recent = `${Math.max(1, Math.floor(spanSeconds / 2))}s`;
  const [after, before, degraded] = await Promise.all([
    observeFleet(client, [target], { window, recent, time: endSeconds }),
    observeFleet(client, [target], { window, recent, time: mergedSeconds }),
    client.instant(`max_over_time(rollout_info{namespace="${target.namespace}", name="${target.model}", phase="${ROLLOUT_PHASE.aborted}"}[${window}])`, endSeconds),
  ]);
  return judgeVerification({
    deployment,
    mergedAt,
    now,
    after: after.get(targetKey(target)) ?? {},
    before: before.get(targetKey(target)) ?? {},
    rolloutDegraded: degraded.length > 0 ? degraded.some((sample) => sample.value > 0) : undefined,
  });
}
