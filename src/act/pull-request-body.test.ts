import { beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { deploymentCanaryTraffic } from '../fleet/canary-traffic.ts';
import type { Fleet, FleetDeployment } from '../fleet/fleet.ts';
import { loadFleet } from '../fleet/load.ts';
import type { CanaryPlan } from '../optimizer/recommendation.ts';
import { synthesize } from '../synth/steps.ts';
import { withEnvironment } from '../testing/fleet-variants.ts';
import { preparedFixture } from '../testing/fixture-fleet.ts';
import { canarySection } from './pull-request-body.ts';

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
  (parseAllDocuments(synthesize(variant).get(`${environment}/kubernetes/${model}.yaml`)!).map((document) => document.toJS()).find((document) => document.kind === 'Rollout').spec.strategy.canary.steps as { setWeight?: number }[])
    .filter((step) => step.setWeight !== undefined)
    .map((step) => step.setWeight);

describe('the pull request\'s canary plan', () => {
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
    expect(large).toEqual(['| 1 | 50 % at 1 replica(s) (1 canary + 1 stable pods); 25 % at 3 (1 canary + 3 stable pods) | 90 min | yes |', '| 2 | 100 % at 1 replica(s) (1 canary + 0 stable pods); 100 % at 3 (3 canary + 0 stable pods) | - | no |']);
    expect(small[0]).toBe('| 1 | 33.3 % at 2 replica(s) (1 canary + 2 stable pods); 11.1 % at 8 (1 canary + 8 stable pods) | 60 min | yes |');
    expect(small.map((row) => Math.round(Number(/^\| \d+ \| ([\d.]+) %/.exec(row)![1])))).toEqual(setWeights(variant, 'production', 'llama-3-1-8b-instruct'));
    expect(large.map((row) => Math.round(Number(/^\| \d+ \| ([\d.]+) %/.exec(row)![1])))).toEqual(setWeights(variant, 'production', 'llama-3-1-70b-instruct'));
  });
});
