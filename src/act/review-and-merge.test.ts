/**
 * Reviewers and auto-merge on the bot's pull requests, against the stand-in
 * and the real Prometheus: code owners (or the policy's reviewers) are asked
 * to review, and GitHub's auto-merge is turned on for low-risk changes where
 * Argo CD syncs by itself — never for production.
 */
import { describe, expect, it } from 'vitest';
import { PrometheusClient } from '../prometheus/client.ts';
import { git } from '../testing/bot-harness.ts';
import { botWorldPerTest } from '../testing/bot-world-per-test.ts';
import { editFile, runCli } from '../testing/fixture-fleet.ts';
import { lastWednesdayAfternoon, steadyScenario } from '../testing/plan-harness.ts';
import { runCycle } from './cycle.ts';

const AT = new Date(lastWednesdayAfternoon().getTime() - 60 * 60_000);
const ID = 'production/llama-3-1-8b-instruct';
const current = botWorldPerTest(steadyScenario([ID], 5), AT);

const cycle = async () =>
  runCycle({ repository: current.world.repository(await current.world.botClone()), github: current.world.client(), prometheus: new PrometheusClient(current.prometheus.url), now: AT });

/** A person's change to main (re-synthesized), pushed. */
async function onMain(message: string, edit: (clone: string) => Promise<void>): Promise<void> {
  const clone = current.world.human;
  await edit(clone);
  expect((await runCli(['synth', '--root', clone])).exitCode).toBe(0);
  await git(clone, 'commit', '--quiet', '--all', '-m', message);
  await git(clone, 'push', '--quiet', 'origin', 'main');
}

const conservative = (text: string) => (clone: string) => editFile(clone, 'policies/conservative.ts', '  paused: false,', `  paused: false,\n  pullRequests: ${text},`);

describe('reviewers and auto-merge', () => {
  it('asks the code owners to review and turns on auto-merge for a low-risk change where Argo CD syncs by itself', async () => {
    await onMain('Production syncs by itself; the conservative policy merges low-risk changes', async (clone) => {
      await editFile(clone, 'environments/production.ts', "sync: 'manual'", "sync: 'auto'");
      await conservative('{ automerge: true }')(clone);
    });

    const report = await cycle();

    expect(report.outcomes).toEqual([
      expect.objectContaining({ kind: 'opened', detail: 'commit verified by GitHub; review requested from team platform-leads; auto-merge on: GitHub merges once the required checks pass' }),
    ]);
    const pull = current.world.github.pulls[0]!;
    expect(pull.labels).toContain('risk:low');
    expect(pull.requestedTeams).toEqual(['platform-leads']);
    expect(pull.autoMerge).toEqual({ enabledBy: 'llmops-bot', mergeMethod: 'MERGE', enabledAt: AT.toISOString() });
    expect(current.world.github.requests.filter((request) => request.path === '/graphql')).toEqual([{ method: 'POST', path: '/graphql', status: 200 }]);
    expect(current.world.github.contractViolations).toEqual([]);

    // The next run finds auto-merge on and leaves it.
    await cycle();
    expect(current.world.github.requests.filter((request) => request.path === '/graphql')).toHaveLength(1);
  }, 180_000);

  it('never turns on auto-merge in production, and asks the reviewers the policy names', async () => {
    await onMain('The conservative policy names its reviewers and asks for auto-merge', conservative("{ automerge: true, reviewers: ['@dana'] }"));

    const report = await cycle();

    expect(report.outcomes).toEqual([expect.objectContaining({ kind: 'opened', detail: 'commit verified by GitHub; review requested from @dana' })]);
    expect(current.world.github.pulls[0]).toMatchObject({ requestedReviewers: ['dana'], requestedTeams: [] });
    expect(current.world.github.pulls[0]!.autoMerge).toBeUndefined();
    expect(current.world.github.pulls[0]!.body).toContain('**production syncs manually**: merging changes git only.');
  }, 180_000);
});
