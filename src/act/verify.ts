/**
 * After merge: watches a merged proposal for its policy's verification window.
 * The window starts when the merged configuration starts running — when Argo CD
 * reports the environment's Application synced after the merge and healthy —
 * not at the merge: a manually synced environment may run the old
 * configuration for hours after it. Argo Rollouts never writes to git, so after
 * an aborted canary git still declares the new configuration; this is where the
 * bot notices and reverts. The verdict covers the fixed interval [sync, sync +
 * window], so it does not change from one cycle to the next once it is over.
 */
import type { FleetDeployment } from '../fleet/fleet.ts';
import { argocdApplicationName } from '../fleet/naming.ts';
import { observeFleet, targetKey, type Signals } from '../optimizer/observe.ts';
import type { PrometheusClient, RangeSeries } from '../prometheus/client.ts';
import { latencySloPairs } from '../optimizer/breach.ts';
import type { LedgerPrediction } from './ledger.ts';
import { ARGO_ROLLOUTS_FAMILIES, ARGOCD_APP_INFO, ARGOCD_APP_SYNC_TOTAL, ROLLOUT_FAILED_PHASES } from '../prometheus/exporters.ts';

/** When the merged configuration started running, and how the bot knows. */
export interface SyncStart {
  /** Absent: Argo CD has not synced the merge yet (or not to a healthy state). */
  readonly at?: Date;
  /** `argocd`: from Argo CD's metrics; `merge`: Prometheus has none for the Application, so the merge stands in. */
  readonly from: 'argocd' | 'merge';
  /** In words, for the log, the dashboard and the pull request. */
  readonly detail: string;
}

export interface Verdict {
  /** `pending` until the window is over (or until Argo CD has synced), unless the change already failed. */
  readonly status: 'pending' | 'verified' | 'failed';
  /** What failed, one line each, with the observed figure and the limit. */
  readonly evidence: readonly string[];
  /** How the window's start was found. */
  readonly start: SyncStart;
  /** End of the verification window; absent while waiting for the sync. */
  readonly windowEnd?: Date;
}

export interface VerificationInput {
  readonly deployment: FleetDeployment;
  /** When the merged configuration started running. */
  readonly start: SyncStart & { readonly at: Date };
  readonly now: Date;
  /** Since the start (up to the end of the window). */
  readonly after: Signals;
  /** The same length of time before the start. */
  readonly before: Signals;
  /** The phase the Rollout stopped in since the start (Abort, Error, Timeout, InvalidSpec); undefined when it did not, or where unknown. */
  readonly rolloutFailedPhase?: string;
  /** What the proposal promised (recorded in the ledger when it was made); absent on older ledger lines. */
  readonly promised?: LedgerPrediction;
}

const ms = (seconds: number | undefined) => (seconds === undefined ? '-' : `${Math.round(seconds * 1000)} ms`);

/**
 * Judges a running change by what it promised and what the SLOs require. It fails on a breach it introduced or
 * worsened (beyond the policy's `maxP95LatencyIncreasePct`), an error ratio over the rollback threshold, an aborted
 * rollout, or a p95 above the interval its prediction stated (and above what ran before) — the same recorded
 * prediction the decision accepted. A latency that rose but stays inside the promised interval, within the SLO
 * margin the proposal announced, is what was promised: not a failure. Pure.
 */
export function judgeVerification(input: VerificationInput): Verdict {
  const { deployment, after, before, start, promised } = input;
  const { slos } = deployment.environment;
  const { rollback, verificationWindowMinutes } = deployment.policy;
  const windowEnd = new Date(start.at.getTime() + verificationWindowMinutes * 60_000);
  const evidence: string[] = [];
  if (input.rolloutFailedPhase) evidence.push(`the Rollout ${deployment.model.name} stopped in phase ${input.rolloutFailedPhase} (its canary was aborted, timed out or invalid)`);
  // A breach counts against the change only if the change made it: it was not there before the start, or it got
  // worse by more than the policy allows. A scale-out that eases but does not end an overload is not reverted.
  const allowed = 1 + rollback.maxP95LatencyIncreasePct / 100;
  const madeWorse = (now: number, was: number | undefined, limit: number) => now > limit && (was === undefined || was <= limit || now > was * allowed);
  const errorLimit = Math.min(rollback.maxErrorRateRatio, slos.errorRateRatio);
  const beforeWords = start.from === 'argocd' ? 'before the sync' : 'before the merge';
  if (after.errorRatio !== undefined && madeWorse(after.errorRatio, before.errorRatio, errorLimit))
    evidence.push(
      `error ratio ${(after.errorRatio * 100).toFixed(2)} % > ${(errorLimit * 100).toFixed(2)} % (rollback threshold / SLO)${before.errorRatio === undefined ? '' : `, ${(before.errorRatio * 100).toFixed(2)} % ${beforeWords}`}`,
    );
  const beforePairs = latencySloPairs(before, slos);
  const promises = promised ? [promised.ttftP95Ms, promised.e2eP95Ms, promised.interTokenP95Ms] : [];
  latencySloPairs(after, slos).forEach(([name, seconds, limitMs], index) => {
    if (seconds === undefined) return;
    const was = beforePairs[index]![1];
    const [nowMs, wasMs] = [seconds * 1000, was === undefined ? undefined : was * 1000];
    if (madeWorse(nowMs, wasMs, limitMs)) evidence.push(`${name} ${ms(seconds)} > ${limitMs} ms SLO${was === undefined ? '' : ` (${ms(was)} ${beforeWords})`}`);
    else if (promises[index] && nowMs > promises[index].highMs && (wasMs === undefined || nowMs > wasMs)) {
      evidence.push(
        `${name} ${ms(seconds)} is above the ${Math.round(promises[index].highMs)} ms the proposal promised at most (predicted ${Math.round(promises[index].expectedMs)} ms; ${was === undefined ? 'nothing measured' : ms(was)} ${beforeWords}; SLO ${limitMs} ms)`,
      );
    }
  });
  if (evidence.length > 0) return { status: 'failed', evidence, start, windowEnd };
  return { status: input.now >= windowEnd ? 'verified' : 'pending', evidence, start, windowEnd };
}

/** The first point of `series` at or after `from` (unix seconds) whose value passes `test`. */
function firstPoint(series: readonly RangeSeries[], from: number, test: (value: number, previous: number | undefined) => boolean): number | undefined {
  const points = series[0]?.points ?? [];
  let previous: number | undefined;
  for (const [time, value] of points) {
    if (time >= from && test(value, previous)) return time;
    previous = value;
  }
  return undefined;
}

/** When Argo CD started running what merged at `mergedAt`: the first successful sync after it, once the Application is Synced and Healthy. */
export async function syncStart(client: PrometheusClient, deployment: FleetDeployment, mergedAt: Date, now: Date): Promise<SyncStart> {
  const application = argocdApplicationName(deployment.environment.name);
  const [start, end] = [Math.floor(mergedAt.getTime() / 1000), Math.floor(now.getTime() / 1000)];
  // Prometheus answers at most 11,000 points per series.
  const step = Math.max(60, Math.ceil((end - start) / 10_000));
  const lookback = `${Math.max(3600, end - start + 3600)}s`;
  const known = await client.instant(`count(last_over_time(${ARGOCD_APP_INFO}{name="${application}"}[${lookback}]))`, end);
  if (known.length === 0) {
    return {
      at: mergedAt,
      from: 'merge',
      detail: `Prometheus has no ${ARGOCD_APP_INFO} for the Argo CD Application ${application}, so the verification window starts at the merge (${mergedAt.toISOString()}); scrape Argo CD's application controller metrics to verify from the sync`,
    };
  }
  const manual = deployment.environment.sync === 'manual' ? ` (${deployment.environment.name} syncs manually: \`argocd app sync ${application}\`)` : '';
  const syncs = await client.range(`sum(${ARGOCD_APP_SYNC_TOTAL}{name="${application}", phase="Succeeded", dry_run!="true"}) or vector(0)`, start, end, step);
  // A counter that grew (or restarted and counted again) since the merge: a sync finished after it.
  const syncedAt = firstPoint(syncs, start + 1, (value, previous) => (previous === undefined ? false : value > previous || (value < previous && value > 0)));
  if (syncedAt === undefined) return { from: 'argocd', detail: `merged ${mergedAt.toISOString()}; Argo CD has not synced ${application} since${manual}` };
  const healthy = await client.range(`max(${ARGOCD_APP_INFO}{name="${application}", sync_status="Synced", health_status="Healthy"})`, syncedAt, end, step);
  const healthyAt = firstPoint(healthy, syncedAt, (value) => value >= 1);
  if (healthyAt === undefined)
    return { from: 'argocd', detail: `merged ${mergedAt.toISOString()}; Argo CD synced ${application} at ${new Date(syncedAt * 1000).toISOString()} but it is not Synced and Healthy yet` };
  return {
    at: new Date(healthyAt * 1000),
    from: 'argocd',
    detail: `merged ${mergedAt.toISOString()}; Argo CD synced ${application} and reported it Healthy at ${new Date(healthyAt * 1000).toISOString()}`,
  };
}

/** Observes a merged deployment around the start of its new configuration and judges it by what it `promised`. */
export async function verifyMerge(client: PrometheusClient, deployment: FleetDeployment, mergedAt: Date, now: Date, promised?: LedgerPrediction): Promise<Verdict> {
  const start = await syncStart(client, deployment, mergedAt, now);
  if (!start.at) return { status: 'pending', evidence: [], start };
  const windowEndMs = start.at.getTime() + deployment.policy.verificationWindowMinutes * 60_000;
  const endSeconds = Math.floor(Math.min(now.getTime(), windowEndMs) / 1000);
  const startSeconds = Math.floor(start.at.getTime() / 1000);
  const spanSeconds = Math.max(60, endSeconds - startSeconds);
  const window = `${spanSeconds}s`;
  const target = { namespace: deployment.environment.namespace, model: deployment.model.name };
  const recent = `${Math.max(1, Math.floor(spanSeconds / 2))}s`;
  const [after, before, failedPhases] = await Promise.all([
    observeFleet(client, [target], { window, recent, time: endSeconds }),
    observeFleet(client, [target], { window, recent, time: startSeconds }),
    client.instant(
      `max by (phase) (max_over_time(${ARGO_ROLLOUTS_FAMILIES.rolloutInfo.name}{namespace="${target.namespace}", name="${target.model}", phase=~"${ROLLOUT_FAILED_PHASES.join('|')}"}[${window}]))`,
      endSeconds,
    ),
  ]);
  return judgeVerification({
    deployment,
    start: { ...start, at: start.at },
    now,
    after: after.get(targetKey(target)) ?? {},
    before: before.get(targetKey(target)) ?? {},
    rolloutFailedPhase: failedPhases.find((sample) => sample.value > 0)?.labels.phase,
    ...(promised ? { promised } : {}),
  });
}
