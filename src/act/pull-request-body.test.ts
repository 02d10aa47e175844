import { beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { deploymentCanaryTraffic } from '../fleet/canary-traffic.ts';
import type { Fleet, FleetDeployment } from '../fleet/fleet.ts';
import { loadFleet } from '../fleet/load.ts';
import type { CanaryPlan, Recommendation } from '../optimizer/recommendation.ts';
import { synthesize } from '../synth/steps.ts';
import { withEnvironment } from '../testing/fleet-variants.ts';
import { preparedFixture } from '../testing/fixture-fleet.ts';
import { signalLinks } from './prometheus-links.ts';
import { optimizationProposal } from './proposal.ts';
import { canarySection, renderPullRequestBody, type BodyContext } from './pull-request-body.ts';

let fleet: Fleet;

beforeAll(async () => {
  const loaded = await loadFleet(await preparedFixture());
  if (!loaded.ok) throw new Error('the example fleet is invalid');
  fleet = loaded.fleet;
});

const planOf = (deployment: FleetDeployment): CanaryPlan => ({
  enabled: deployment.environment.canary,
  steps: deployment.policy.canarySteps,
  traffic: deploymentCanaryTraffic(deployment),
  analysisIntervalSeconds: deployment.policy.canary.analysisIntervalSeconds,
  analysisCount: deployment.policy.canary.analysisCount,
  failureLimit: deployment.policy.canary.failureLimit,
  rollback: deployment.policy.rollback,
});
const deployment = (variant: Fleet, id: string) => variant.deployments.find((candidate) => candidate.id === id)!;
const rows = (lines: string[]) => lines.filter((line) => /^\| \d+ \|/.test(line));
/** The `setWeight` steps of the Rollout synth writes for a deployment. */
const setWeights = (variant: Fleet, environment: string, model: string) =>
  (
    parseAllDocuments(synthesize(variant).get(`${environment}/kubernetes/${model}.yaml`)!)
      .map((document) => document.toJS())
      .find((document) => document.kind === 'Rollout').spec.strategy.canary.steps as { setWeight?: number }[]
  )
    .filter((step) => step.setWeight !== undefined)
    .map((step) => step.setWeight);

describe("the pull request's canary plan", () => {
  it('shows the exact weights the Gateway API router sets', () => {
    const lines = canarySection(planOf(deployment(fleet, 'production/llama-3-1-8b-instruct')));

    expect(rows(lines)).toEqual(['| 1 | 1 % | 15 min | yes |', '| 2 | 5 % | 15 min | yes |', '| 3 | 25 % | 30 min | yes |', '| 4 | 50 % | 30 min | yes |', '| 5 | 100 % | - | no |']);
    expect(lines).toContain("Exact weights: Argo Rollouts' Gateway API traffic router sets the route's stable and canary backend weights.");
    expect(rows(lines).map((row) => Number(row.split('|')[2].replace('%', '')))).toEqual(setWeights(fleet, 'production', 'llama-3-1-8b-instruct'));
  });

  it('without a router shows the share the pods give, which is what the generated Rollout steps say', () => {
    const variant = withEnvironment(fleet, 'production', (environment) => ({ ...environment, gateway: { mode: 'managed', name: 'inference-gateway', canaryTraffic: 'replica-count' } }));

    const large = rows(canarySection(planOf(deployment(variant, 'production/llama-3-1-70b-instruct'))));
    const small = rows(canarySection(planOf(deployment(variant, 'production/llama-3-1-8b-instruct'))));

    // Today's body promised "1 %" here; one canary beside one stable pod is half the traffic. At 2 replicas 1, 5 and 25 % are all 1 + 2 pods.
    expect(large).toEqual([
      '| 1 | 50 % at 1 replica(s) (1 canary + 1 stable pods); 25 % at 3 (1 canary + 3 stable pods) | 90 min | yes |',
      '| 2 | 100 % at 1 replica(s) (1 canary + 0 stable pods); 100 % at 3 (3 canary + 0 stable pods) | - | no |',
    ]);
    expect(small[0]).toBe('| 1 | 33.3 % at 2 replica(s) (1 canary + 2 stable pods); 11.1 % at 8 (1 canary + 8 stable pods) | 60 min | yes |');
    expect(small.map((row) => Math.round(Number(/^\| \d+ \| ([\d.]+) %/.exec(row)![1])))).toEqual(setWeights(variant, 'production', 'llama-3-1-8b-instruct'));
    expect(large.map((row) => Math.round(Number(/^\| \d+ \| ([\d.]+) %/.exec(row)![1])))).toEqual(setWeights(variant, 'production', 'llama-3-1-70b-instruct'));
  });
});

describe('titles and bodies a reviewer can act on', () => {
  const qwen = () => fleet.deployments.find((candidate) => candidate.id === 'production/qwen2-5-7b-instruct')!;
  /** A recommendation for production's qwen: 2–4 → 1–3 replicas, max-num-seqs 96 → 16, from 1.71 to 0.855 USD/h. */
  function recommendation(observedE2eSeconds: number, predictedE2eSeconds: number): Recommendation {
    const from = { gpuType: 'nvidia-l4' as const, gpuCount: 1, maxNumSeqs: 96, replicasMin: 2, replicasMax: 4 };
    const to = { ...from, maxNumSeqs: 16, replicasMin: 1, replicasMax: 3 };
    const prediction = { e2eP95Seconds: predictedE2eSeconds, ttftP95Seconds: 0.3, interTokenP95Seconds: 0.04, capacityRequestsPerSecond: 2, peakUtilization: 0.3, overloaded: false };
    const evaluated = (configuration: typeof from, costPerHourUsd: number) => ({
      configuration,
      prediction,
      costPerHourUsd,
      qualityCostPct: 0,
      machine: 'g2-standard-8',
      feasible: true,
      violations: [],
      improvementPct: 20,
    });
    return {
      deploymentId: 'production/qwen2-5-7b-instruct',
      environment: 'production',
      model: 'qwen2-5-7b-instruct',
      policy: 'conservative',
      sourceFile: 'environments/production.ts',
      action: 'change',
      rule: 'optimizer',
      reason: '20.0 % better',
      change: { replicas: { min: 1, max: 3 }, engineArgs: { 'max-num-seqs': 16 } },
      observed: { e2eP95Seconds: observedE2eSeconds, ttftP95Seconds: 0.3, interTokenP95Seconds: 0.04, requestsPerSecond: 0.4, errorRatio: 0 },
      orientation: { sufficient: true, requestsInWindow: 1440, driftDetected: false, notes: [] } as unknown as Recommendation['orientation'],
      current: evaluated(from, 1.71),
      proposed: evaluated(to, 0.855),
      confidence: 0.97,
      risk: 0.001,
      pareto: [],
      canaryPlan: planOf(qwen()),
    } as unknown as Recommendation;
  }
  const context = (sync: 'auto' | 'manual'): BodyContext => ({
    generatedDiff: [{ file: 'generated/production/kubernetes/qwen2-5-7b-instruct.yaml', added: 3, removed: 3 }],
    declarationDiff: '@@ -1 +1 @@\n-      replicas: { min: 2, max: 4 },\n+      replicas: { min: 1, max: 3 },\n',
    sync,
    argocdApplication: 'llmops-production',
    verificationWindowMinutes: 60,
    window: { start: new Date('2026-11-18T13:00:00Z'), end: new Date('2026-11-18T14:00:00Z'), peakHours: 24 },
    links: signalLinks('http://admin:secret@prometheus.example:9090/', { namespace: 'llm-prod', model: 'qwen2-5-7b-instruct' }, '1h', new Date('2026-11-18T14:00:00Z')),
  });

  it('titles the change and its monthly effect', () => {
    const proposal = optimizationProposal(recommendation(4, 4), new Date('2026-11-18T14:00:00Z'), 'secret')!;

    expect(proposal.title).toBe('Scale production/qwen2-5-7b-instruct 2–4 → 1–3 replicas, max-num-seqs 96 → 16 (−624 USD/month)');
  });

  it('says the window, links each observed figure to its query without credentials, and says what Argo CD does per environment', () => {
    const manual = renderPullRequestBody(optimizationProposal(recommendation(4, 4), new Date('2026-11-18T14:00:00Z'), 'secret')!, context('manual'));
    const auto = renderPullRequestBody(optimizationProposal(recommendation(4, 4), new Date('2026-11-18T14:00:00Z'), 'secret')!, context('auto'));

    expect(manual).toContain('Observed from 2026-11-18 13:00 UTC to 2026-11-18 14:00 UTC');
    const link = /\| p95 end-to-end latency \| \[4000 ms\]\((http[^)]+)\) observed/.exec(manual)![1]!;
    const url = new URL(link);
    expect([url.origin, url.pathname, url.searchParams.get('g0.range_input'), url.searchParams.get('g0.end_input')]).toEqual([
      'http://prometheus.example:9090',
      '/graph',
      '3600s',
      '2026-11-18 14:00:00',
    ]);
    expect(url.searchParams.get('g0.expr')).toContain(
      'and on (namespace, model_name) label_replace(label_replace(vector(1), "namespace", "llm-prod", "", ""), "model_name", "qwen2-5-7b-instruct", "", "")',
    );
    expect(manual).not.toContain('secret');
    expect(manual).toContain('**production syncs manually**: merging changes git only. Nothing changes in the cluster until someone syncs the Argo CD Application `llmops-production`');
    expect(auto).toContain('**production syncs automatically**: Argo CD applies the merge to `llmops-production` at its next refresh');
    expect(manual).toContain('merge `paused: true` in `policies/conservative.ts`');
    expect(manual).toContain('```diff\n@@ -1 +1 @@\n-      replicas: { min: 2, max: 4 },\n+      replicas: { min: 1, max: 3 },\n```');
    expect(manual).toContain('- Minimum replicas 2 → 1 loses redundancy');
    expect(manual).toContain('- [ ] <!-- llmops-gitops:rebase --> Check this box');
  });

  it('never shows more confidence than the prediction of what runs now earned, and raises the risk label to match', () => {
    const farOff = recommendation(245, 4.2);

    const body = renderPullRequestBody(optimizationProposal(farOff, new Date('2026-11-18T14:00:00Z'), 'secret')!, context('manual'));

    expect(body).toContain(
      "- Confidence 0.02: the model's own figure is 0.97, but its prediction for the current configuration was 58× off the observation (p95 end-to-end latency 245000 ms observed, 4200 ms predicted), so no more than 0.02 is claimed.",
    );
    expect(optimizationProposal(farOff, new Date(), 'secret')!.labels).toContain('risk:high');
    expect(optimizationProposal(recommendation(4, 4.2), new Date(), 'secret')!.labels).toContain('risk:low');
  });
});
