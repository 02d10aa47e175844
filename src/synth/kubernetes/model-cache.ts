import type { Construct } from 'constructs';
import type { Environment } from '../../declarations/environment.ts';
import type { FleetDeployment } from '../../fleet/fleet.ts';
import { modelCacheGiB } from '../../fleet/storage.ts';
import { sharedCacheStorageClass } from '../../fleet/cluster-defaults.ts';
import { MANAGED_BY, syncWave, SyncWave } from './labels.ts';
import { kplus } from './plus.ts';

/** Name of the environment's shared model-cache claim. */
export function sharedModelCacheClaim(_environment: Environment): string {
  return 'llmops-model-cache';
}

/**
 * The environment's shared model cache (`modelCache.kind: shared-volume`): one
 * ReadWriteMany claim every replica mounts at /models, sized to hold the
 * weights of every model the environment serves, so each is downloaded once.
 */
export function addSharedModelCache(scope: Construct, environment: Environment, deployments: readonly FleetDeployment[]): void {
  if (environment.modelCache.kind !== 'shared-volume') return;
  // Models streamed from the object store take no room in it.
  const models = new Map(deployments.map((deployment) => [deployment.model.name, deployment.model]));
  const sizeGiB = [...models.values()].reduce((total, model) => total + modelCacheGiB(model), 0);
  new kplus.k8s.KubePersistentVolumeClaim(scope, 'model-cache', {
    metadata: { name: sharedModelCacheClaim(environment), labels: { ...MANAGED_BY, 'llmops.dev/environment': environment.name }, annotations: syncWave(SyncWave.configuration) },
    spec: {
      accessModes: ['ReadWriteMany'],
      storageClassName: sharedCacheStorageClass(environment),
      resources: { requests: { storage: kplus.k8s.Quantity.fromString(`${sizeGiB}Gi`) } },
    },
  });
}
