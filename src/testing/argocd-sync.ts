/**
 * How Argo CD syncs an app of apps, for tests: gitops-engine
 * (argoproj/gitops-engine pkg/sync/sync_context.go, Sync) applies a sync with
 * several waves one wave at a time. After applying a wave it keeps the sync
 * running until every resource of that wave reports Healthy (Degraded fails
 * the sync; Missing, Progressing or Suspended keep it waiting), and only then
 * applies the next; the last wave is applied and the sync succeeds without
 * waiting. With the `argoproj.io/Application` health check enabled, a child
 * Application is Healthy only once it has synced and its own resources are
 * healthy — so a child that waits for a person, or whose cluster is down,
 * holds every later wave of its parent.
 */
export interface SyncedDocument {
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly annotations?: Record<string, string> };
  readonly spec?: { readonly destination?: { readonly name?: string; readonly server?: string }; readonly syncPolicy?: { readonly automated?: unknown } };
}

const wave = (document: SyncedDocument) => Number(document.metadata.annotations?.['argocd.argoproj.io/sync-wave'] ?? 0);

/** The resources a parent's sync waits on to become Healthy: every one outside the last wave, when there is more than one wave. */
export function waitedOn<T extends SyncedDocument>(documents: readonly T[]): T[] {
  const last = Math.max(...documents.map(wave));
  return documents.filter((document) => wave(document) < last);
}

/** Whether an Application syncs by itself (and so can become Healthy without a person). */
export function syncsAutomatically(document: SyncedDocument): boolean {
  return document.kind === 'Application' && document.spec?.syncPolicy?.automated !== undefined;
}

/** The cluster an Application deploys to. */
export function destinationCluster(document: SyncedDocument): string | undefined {
  return document.spec?.destination?.name ?? document.spec?.destination?.server;
}
