import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatIssue } from '../declarations/issues.ts';
import { copyFixtureFleet, editFile, removeFleet } from '../testing/fixture-fleet.ts';
import { loadFleet } from './load.ts';

describe('the loader\'s serving rules', () => {
  it('names the file, the field, what was expected and how to fix it, for every rule at once', async () => {
    const root = await copyFixtureFleet();
    try {
      // Production without the explicit acceptance: its 70B runs one replica.
      await editFile(root, 'environments/production.ts', '  availability: { acceptSingleReplica: true },\n', '');
      // A managed Gateway of a class llmops does not know the sources of.
      await editFile(root, 'environments/production.ts', "  promotesFrom: 'staging',", "  promotesFrom: 'staging',\n  gateway: { mode: 'managed', className: 'gke-l7-regional-external-managed' },");
      // Dev with canaries and exact weights, while its models scale to zero; and a shared cache on EKS without a class.
      await editFile(root, 'environments/dev.ts', '  canary: false,', "  canary: true,\n  modelCache: { kind: 'shared-volume' },");
      // A second environment in staging's cluster that disagrees about the add-ons.
      const staging = await readFile(path.join(root, 'environments/staging.ts'), 'utf8');
      await writeFile(path.join(root, 'environments/staging-b.ts'), staging.replace("name: 'staging'", "name: 'staging-b'").replace("namespace: 'llm-staging'", "namespace: 'llm-staging-b'").replace("  sync: 'auto',", "  sync: 'auto',\n  addons: { manage: false },"));

      const result = await loadFleet(root);

      expect(result.ok).toBe(false);
      const lines = result.ok ? [] : result.issues.map(formatIssue);
      expect(lines).toEqual(
        expect.arrayContaining([
          'environments/production.ts: deployments.llama-3-1-70b-instruct.replicas.min: expected at least 2 where sync is "manual": with one replica a node drain or upgrade evicts the only server and the model is offline until a replacement has loaded its weights; raise replicas.min to 2, or accept that with availability: { acceptSingleReplica: true } (got 1)',
          'environments/production.ts: network.gatewaySources: required with gateway class "gke-l7-regional-external-managed": expected where its data plane reaches the model servers from (namespace and pod labels, or CIDRs such as a proxy-only subnet); llmops knows the sources of "gke-l7-global-external-managed" and "envoy-gateway" only (got nothing)',
          'environments/dev.ts: deployments.llama-3-1-8b-instruct.replicas.min: expected at least 1 with exact canary weights: a model that scales to zero is reached through the KEDA HTTP add-on\'s interceptor (which wakes it), and the Gateway API traffic router cannot split that route; keep replicas.min at 1, or set gateway.canaryTraffic: "replica-count" or canary: false (got 0)',
          'environments/dev.ts: modelCache.storageClassName: required on aws: expected a StorageClass that offers ReadWriteMany (on EKS, the one you created for the EFS CSI driver) (got nothing)',
          'environments/staging.ts: addons: expected the same addons as environments/staging-b.ts, which shares cluster llm-staging: one cluster has one set of add-ons (got {"manage":true})',
        ]),
      );
      // The 8B and Qwen models keep two replicas: only the 70B is reported in production.
      expect(lines.filter((line) => line.startsWith('environments/production.ts: deployments.'))).toHaveLength(1);
    } finally {
      await removeFleet(root);
    }
  });
});
