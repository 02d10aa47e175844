/**
 * The GitHub calls the lifecycle adds, against the stand-in (every REST request
 * and answer checked against GitHub's OpenAPI description, GraphQL against its
 * published schema) and a real bare repository.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createBotWorld, DANA, git, MALLORY, type BotWorld } from '../testing/bot-harness.ts';

let world: BotWorld;
beforeEach(async () => {
  world = await createBotWorld(() => new Date('2026-11-18T14:00:00Z'), { requiredChecks: false });
});
afterEach(async () => world?.remove());

/** A branch with one commit of a person's, and the bot's pull request for it. */
async function pullRequest() {
  await git(world.human, 'checkout', '--quiet', '-b', 'llmops/dev/x');
  await git(world.human, 'commit', '--quiet', '--allow-empty', '-m', 'x');
  await git(world.human, 'push', '--quiet', 'origin', 'llmops/dev/x');
  return (await world.client().createPullRequest({ branch: 'llmops/dev/x', base: 'main', title: 'x', body: '' })).pullRequest;
}

describe('the GitHub client and the stand-in', () => {
  it('builds a commit through the Git Data API in the real repository, verified, and moves the branch', async () => {
    const client = world.client();
    const base = (await git(world.bare, 'rev-parse', 'main')).trim();
    const baseTree = (await git(world.bare, 'rev-parse', 'main^{tree}')).trim();

    const blob = await client.createBlob(Buffer.from('hello\n'));
    const tree = await client.createTree(baseTree, [
      { path: 'docs/hello.txt', mode: '100644', sha: blob },
      { path: 'package.json', mode: '100644', sha: null },
    ]);
    const commit = await client.createCommit('Hello\n', tree, [base]);
    const created = await client.createBranch('llmops/dev/hello', commit.sha);
    const again = await client.createBranch('llmops/dev/hello', base);

    expect(await git(world.bare, 'show', `${commit.sha}:docs/hello.txt`)).toBe('hello\n');
    expect(await git(world.bare, 'ls-tree', '--name-only', commit.sha)).not.toContain('package.json');
    expect([created, again, commit.verified]).toEqual([true, false, true]);
    expect(await client.branchSha('llmops/dev/hello')).toBe(commit.sha);
    expect(await client.branchSha('llmops/dev/none')).toBeUndefined();
    expect(world.github.contractViolations).toEqual([]);
  });

  it('reads each person’s access', async () => {
    const client = world.client();

    expect([await client.permissionOf(DANA.login), await client.permissionOf(MALLORY.login), await client.permissionOf('llmops-bot')]).toEqual(['write', 'read', 'write']);
    expect(world.github.contractViolations).toEqual([]);
  });

  it('says why GitHub refused auto-merge, and checks the mutation against GitHub’s GraphQL schema', async () => {
    const pull = await pullRequest();

    const refused = await world.client().enableAutoMerge(pull, pull.headSha);

    expect(refused).toEqual({ enabled: false, reason: 'Pull request is in clean status' });
    const response = await fetch(`${world.github.url}/graphql`, {
      method: 'POST',
      headers: { authorization: 'token ghs_standintoken', 'content-type': 'application/json' },
      body: JSON.stringify({ query: 'mutation { enablePullRequestAutoMerge(input: { pullRequestId: 1, mergeMethod: FAST }) { pullRequest { number } } }' }),
    });
    const answer = (await response.json()) as { errors: { message: string }[] };
    expect(answer.errors.map((error) => error.message)).toEqual(['Value "FAST" does not exist in "PullRequestMergeMethod" enum.']);
  });
});
