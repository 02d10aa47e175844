/**
 * What Argo CD's application controller exports for one Application over a
 * span of time, as OpenMetrics for a Prometheus backfill (the fleet simulator
 * runs the model servers, not Argo CD): `argocd_app_info` with its sync and
 * health status, and `argocd_app_sync_total` counting finished syncs, with the
 * label names of argoproj/argo-cd controller/metrics/metrics.go.
 */
import { ARGOCD_APP_INFO, ARGOCD_APP_SYNC_TOTAL } from '../prometheus/exporters.ts';

export interface ArgoCdTimeline {
  readonly application: string;
  readonly destinationNamespace: string;
  readonly automated: boolean;
  readonly start: Date;
  readonly end: Date;
  /** When git got a revision the Application does not run yet (Argo CD reports OutOfSync from then). */
  readonly outOfSyncAt: readonly Date[];
  /** When a sync finished successfully (Synced again; Progressing for `progressingMinutes`, then Healthy). */
  readonly syncedAt: readonly Date[];
  /** Syncs counted before `start`. Default: 3. */
  readonly syncsBefore?: number;
  /** Minutes the workloads report Progressing after a sync. Default: 2. */
  readonly progressingMinutes?: number;
  /** Sample spacing, seconds. Default: 30. */
  readonly stepSeconds?: number;
}

/** The two families, each `# TYPE`d, without `# EOF` (to go beside other families in one exposition). */
export function argoCdOpenMetrics(timeline: ArgoCdTimeline): string {
  const step = (timeline.stepSeconds ?? 30) * 1000;
  const progressing = (timeline.progressingMinutes ?? 2) * 60_000;
  const common = `namespace="argocd",name="${timeline.application}",project="llmops-environments"`;
  const info: string[] = [];
  const syncs: string[] = [];
  for (let at = timeline.start.getTime(); at <= timeline.end.getTime(); at += step) {
    const lastOutOfSync = Math.max(-Infinity, ...timeline.outOfSyncAt.map((date) => date.getTime()).filter((time) => time <= at));
    const synced = timeline.syncedAt.map((date) => date.getTime()).filter((time) => time <= at);
    const lastSync = Math.max(-Infinity, ...synced);
    const syncStatus = lastOutOfSync > lastSync ? 'OutOfSync' : 'Synced';
    const healthStatus = at - lastSync < progressing ? 'Progressing' : 'Healthy';
    const seconds = (at / 1000).toFixed(3);
    info.push(
      `${ARGOCD_APP_INFO}{${common},autosync_enabled="${timeline.automated}",repo="https://github.com/acme/llmops-gitops",dest_server="https://kubernetes.default.svc",dest_namespace="${timeline.destinationNamespace}",sync_status="${syncStatus}",health_status="${healthStatus}",operation=""} 1 ${seconds}`,
    );
    syncs.push(`${ARGOCD_APP_SYNC_TOTAL}{${common},dest_server="https://kubernetes.default.svc",phase="Succeeded",dry_run="false"} ${(timeline.syncsBefore ?? 3) + synced.length} ${seconds}`);
  }
  // OpenMetrics wants a series' samples together: group by label set.
  const grouped = (lines: string[]) =>
    [...new Map(lines.map((line) => [line.slice(0, line.indexOf('}') + 1), [] as string[]])).keys()].flatMap((series) => lines.filter((line) => line.startsWith(series)));
  return [
    `# TYPE ${ARGOCD_APP_INFO} gauge`,
    `# HELP ${ARGOCD_APP_INFO} Information about application.`,
    ...grouped(info),
    `# TYPE ${ARGOCD_APP_SYNC_TOTAL.replace(/_total$/, '')} counter`,
    `# HELP ${ARGOCD_APP_SYNC_TOTAL.replace(/_total$/, '')} Number of application syncs.`,
    ...syncs,
    '',
  ].join('\n');
}
