import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatIssue } from '../declarations/issues.ts';
import { copyFixtureFleet, editFile, removeFleet, runCli } from '../testing/fixture-fleet.ts';
import { loadFleet } from './load.ts';

describe("the loader's serving rules", () => {
  it('names the file, the field, what was expected and how to fix it, for every rule at once', async () => {
    const root = await copyFixtureFleet();
    try {
      // Production without the explicit acceptance: its 70B runs one replica.
      await editFile(root, 'environments/production.ts', '  availability: { acceptSingleReplica: true },\n', '');
      // GKE's internal Gateway without the proxy-only subnet its proxies send from.
      await editFile(root, 'environments/production.ts', "  proxyOnlySubnet: '10.129.0.0/23',\n", '');
      // A managed Gateway of a class llmops does not know the sources of.
      await editFile(root, 'environments/research.ts', "  sync: 'auto',", "  sync: 'auto',\n  gateway: { mode: 'managed', className: 'istio' },");
      // A public Gateway with neither a certificate nor authentication.
      await editFile(root, 'environments/staging.ts', "  sync: 'auto',", "  sync: 'auto',\n  gateway: { mode: 'managed', exposure: 'public' },\n  authentication: { kind: 'none' },");
      // Dev with canaries and exact weights, while its models scale to zero; and a shared cache on EKS without a class.
      await editFile(root, 'environments/dev.ts', '  canary: false,', "  canary: true,\n  modelCache: { kind: 'shared-volume' },");
      // A second environment in staging's cluster that disagrees about the add-ons.
      const staging = await readFile(path.join(root, 'environments/staging.ts'), 'utf8');
      await writeFile(
        path.join(root, 'environments/staging-b.ts'),
        staging
          .replace("name: 'staging'", "name: 'staging-b'")
          .replace("namespace: 'llm-staging'", "namespace: 'llm-staging-b'")
          .replace("  sync: 'auto',", "  sync: 'auto',\n  addons: { manage: false },"),
      );

      const result = await loadFleet(root);

      expect(result.ok).toBe(false);
      const lines = result.ok ? [] : result.issues.map(formatIssue);
      expect(lines).toEqual(
        expect.arrayContaining([
          'environments/production.ts: deployments.llama-3-1-70b-instruct.replicas.min: expected at least 2 where sync is "manual": with one replica a node drain or upgrade evicts the only server and the model is offline until a replacement has loaded its weights; raise replicas.min to 2, or accept that with availability: { acceptSingleReplica: true } (got 1)',
          'environments/production.ts: proxyOnlySubnet: required with gateway class "gke-l7-rilb": expected the CIDR of the region\'s proxy-only subnet (purpose REGIONAL_MANAGED_PROXY), which the load balancer\'s proxies reach the model servers from (got nothing); or declare network.gatewaySources',
          'environments/research.ts: network.gatewaySources: required with gateway class "istio": expected where its data plane reaches the model servers from (namespace and pod labels, or CIDRs such as a proxy-only subnet); llmops knows the sources of "envoy-gateway" and of the cloud\'s own classes only (got nothing)',
          'environments/staging.ts: gateway.tls: required with exposure "public": expected the certificate of the HTTPS listener, { certificateSecret: "<kubernetes.io/tls Secret in the namespace>" } (got nothing); a public Gateway has no plain-HTTP listener',
          'environments/staging.ts: authentication: expected "api-key" with exposure "public": anyone on the internet could call the models (got "none"); set authentication: { kind: "api-key" } or gateway.exposure: "internal"',
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

  it('rejects a deployment whose declared traffic cannot give a canary step its evidence', async () => {
    const root = await copyFixtureFleet();
    try {
      // 120 requests/min: the 1 % step gets 1.2 a minute, 12 in its 10-minute analysis, below the minimum of 20.
      await editFile(root, 'environments/production.ts', 'expectedRequestsPerMinute: 240,', 'expectedRequestsPerMinute: 120,');

      const result = await loadFleet(root);

      expect(result.ok).toBe(false);
      expect(result.ok ? [] : result.issues.map(formatIssue)).toEqual([
        "environments/production.ts: deployments.llama-3-1-70b-instruct.expectedRequestsPerMinute: expected traffic that lets every canary step gather canaryEvidence.minRequests (20) requests: the 1 % step of policies/conservative.ts gives the canary 1 % of 120 requests/min, 12 in its 10-minute analysis, so the step would always fail (got 120); raise that step's weightPct to 2 or more, lengthen the analysis (canary.analysisCount), or lower canaryEvidence.minRequests",
      ]);
    } finally {
      await removeFleet(root);
    }
  });

  it('warns in validate when the pools at their maxima, or their minima, cost more than the budget (an environment over budget stays loadable for the bot)', async () => {
    const root = await copyFixtureFleet();
    try {
      // Staging's a100x2 keeps one node (5,363 USD/month) whatever the traffic.
      await editFile(root, 'environments/staging.ts', 'budget: { monthlyUsd: 15000 }', 'budget: { monthlyUsd: 5000 }');
      const text = await runCli(['validate', '--root', root]);
      const json = JSON.parse((await runCli(['validate', '--json', '--root', root])).stdout);

      expect(text.exitCode).toBe(0);
      // Production: l4-ondemand 16 × g2-standard-8 and h100x8 2 × a3-highgpu-8g.
      expect(text.stdout).toContain(
        'warning: environments/production.ts: budget.monthlyUsd: the node pools at their maxima provision 72,813 USD/month (l4-ondemand 9,975 + h100x8 62,838), above the budget of 60,000',
      );
      expect(text.stdout).toContain(
        'warning: environments/staging.ts: budget.monthlyUsd: the node pools at their minima provision 5,363 USD/month (a100-spot 0 + a100x2 5,363), spent whatever the traffic, above the budget of 5,000',
      );
      expect(json.warnings.map((warning: { file: string }) => warning.file)).toEqual(['environments/production.ts', 'environments/staging.ts']);
    } finally {
      await removeFleet(root);
    }
  });
});
