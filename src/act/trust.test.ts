import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { PrometheusClient } from '../prometheus/client.ts';
import { git, MALLORY, REPOSITORY } from '../testing/bot-harness.ts';
import { botWorldPerTest } from '../testing/bot-world-per-test.ts';
import { lastWednesdayAfternoon, steadyScenario } from '../testing/plan-harness.ts';
import { GitHubStandIn } from '../testing/github-stand-in.ts';
import { HANDS_OFF_MARKER, runCycle } from './cycle.ts';
import { GitHubRepository } from './github.ts';
import { parseMetadata } from './pull-request-body.ts';

const AT = new Date(lastWednesdayAfternoon().getTime() - 60 * 60_000);
const BRANCH = 'llmops/production/llama-3-1-8b-instruct';
const ID = 'production/llama-3-1-8b-instruct';
const current = botWorldPerTest(steadyScenario([ID], 5), AT);

const cycle = async () =>
  runCycle({ repository: current.world.repository(await current.world.botClone()), github: current.world.client(), prometheus: new PrometheusClient(current.prometheus.url), now: AT });
const mallory = () => current.world.client({ token: MALLORY.token });
const remoteBranch = async () => (await git(current.world.bare, 'for-each-ref', '--format=%(objectname)', `refs/heads/${BRANCH}`)).trim();

/** Mallory pushes the bot's branch name with a commit of her own. */
async function malloryPushesBranch(): Promise<void> {
  await git(current.world.human, 'checkout', '--quiet', '-b', BRANCH);
  await git(current.world.human, 'commit', '--quiet', '--allow-empty', '-m', 'Totally the bot');
  await git(current.world.human, 'push', '--quiet', 'origin', BRANCH);
  await git(current.world.human, 'checkout', '--quiet', 'main');
}

describe('the bot trusts only itself', () => {
  it("a closed pull request by someone else with a copy of the bot's metadata does not decline the bot's proposal", async () => {
    // Arrange: the bot's proposal exists once, so its exact metadata (fingerprint included) can be copied.
    await cycle();
    const copied = current.world.github.pulls[0]!.body;
    expect(parseMetadata(copied)?.deploymentId).toBe(ID);
    current.world.github.pulls.length = 0;
    await git(current.world.bare, 'update-ref', '-d', `refs/heads/${BRANCH}`);
    await malloryPushesBranch();
    const forged = await mallory().createPullRequest({ branch: BRANCH, base: 'main', title: 'Optimize production/llama-3-1-8b-instruct', body: copied });
    await mallory().updatePullRequest(forged.pullRequest.number, { state: 'closed' });
    await git(current.world.human, 'push', '--quiet', 'origin', '--delete', BRANCH);

    // Act
    const report = await cycle();

    // Assert
    expect(report.outcomes).toEqual([expect.objectContaining({ deploymentId: ID, kind: 'opened' })]);
    expect(current.world.github.contractViolations).toEqual([]);
  }, 120_000);

  it("leaves someone else's open pull request on the bot's branch alone, and reports it", async () => {
    await malloryPushesBranch();
    const theirs = await mallory().createPullRequest({ branch: BRANCH, base: 'main', title: 'My own change', body: 'Hands off, please.' });
    const sha = await remoteBranch();

    const report = await cycle();

    expect(report.outcomes).toEqual([expect.objectContaining({ deploymentId: ID, kind: 'foreign', pullRequest: theirs.pullRequest.number })]);
    expect(report.outcomes[0]!.detail).toBe(`#${theirs.pullRequest.number} on ${BRANCH} was opened by mallory from ${REPOSITORY}, not by the bot from this repository: the bot leaves it alone`);
    expect(current.world.github.pulls).toEqual([expect.objectContaining({ title: 'My own change', body: 'Hands off, please.', labels: [] })]);
    expect(await remoteBranch()).toBe(sha);
    // Mallory's own pull request is the only write besides the bot's dashboard issue.
    expect(current.world.github.writes.map((write) => `${write.method} ${write.path}`)).toEqual(['POST /repos/acme/llmops-gitops/pulls', 'POST /repos/acme/llmops-gitops/issues']);
  }, 120_000);

  it("reports a pull request from a fork on a branch named like the bot's, and opens its own beside it", async () => {
    const fork = await mallory().createPullRequest({ branch: `${MALLORY.login}:${BRANCH}`, base: 'main', title: 'From my fork', body: '' });

    const report = await cycle();

    expect(report.foreign).toEqual([expect.objectContaining({ number: fork.pullRequest.number, author: 'mallory', headRepository: 'mallory/llmops-gitops' })]);
    expect(report.outcomes).toEqual([expect.objectContaining({ deploymentId: ID, kind: 'opened' })]);
    expect(current.world.github.pulls.find((pull) => pull.number === fork.pullRequest.number)).toMatchObject({ title: 'From my fork', labels: [] });
    expect(current.world.github.contractViolations).toEqual([]);
  }, 120_000);

  it("takes a commit with the bot's e-mail and a copied fingerprint trailer for someone else's", async () => {
    // Arrange: Mallory replaces the bot's commit by one of hers that claims to be the bot's, message and trailers copied.
    await cycle();
    const message = await git(current.world.bare, 'log', '-1', '--format=%B', BRANCH);
    await git(current.world.human, 'fetch', '--quiet');
    await git(current.world.human, 'checkout', '--quiet', '-B', 'forged', 'origin/main');
    const asTheBot = {
      GIT_AUTHOR_NAME: 'llmops-bot',
      GIT_AUTHOR_EMAIL: 'llmops-bot@users.noreply.github.com',
      GIT_COMMITTER_NAME: 'llmops-bot',
      GIT_COMMITTER_EMAIL: 'llmops-bot@users.noreply.github.com',
    };
    await promisify(execFile)('git', ['commit', '--quiet', '--allow-empty', '-m', message], { cwd: current.world.human, env: { ...process.env, ...asTheBot } });
    await git(current.world.human, 'push', '--quiet', '--force', 'origin', `forged:${BRANCH}`);
    const forgedSha = await remoteBranch();

    // Act
    const report = await cycle();

    // Assert
    expect(report.outcomes).toEqual([expect.objectContaining({ kind: 'hands-off', pullRequest: 1, detail: 'committed to by llmops-bot@users.noreply.github.com (not signed by the bot)' })]);
    expect(await remoteBranch()).toBe(forgedSha);
    expect(current.world.github.comments.filter((comment) => comment.body.startsWith(HANDS_OFF_MARKER))).toHaveLength(1);
  }, 120_000);

  it("does not count someone else's comment with the bot's marker as the bot's", async () => {
    await cycle();
    await git(current.world.human, 'fetch', '--quiet');
    await git(current.world.human, 'checkout', '--quiet', '-B', 'human', `origin/${BRANCH}`);
    await git(current.world.human, 'commit', '--quiet', '--allow-empty', '-m', 'A person commits');
    await git(current.world.human, 'push', '--quiet', 'origin', `human:${BRANCH}`);
    await mallory().commentOnce(1, HANDS_OFF_MARKER, 'not the bot');

    await cycle();

    expect(current.world.github.comments.filter((comment) => comment.body.startsWith(HANDS_OFF_MARKER)).map((comment) => comment.user)).toEqual(['mallory', 'llmops-bot']);
  }, 120_000);
});

describe('GitHub refusals say what is missing', () => {
  it('a GitHub App token cannot tell the bot its login: the error says to set LLMOPS_BOT_LOGIN', async () => {
    const app = await new GitHubStandIn({ bareRepository: current.world.bare, repository: REPOSITORY, token: 'ghs_app', appToken: true }).start();
    try {
      const client = new GitHubRepository({ token: 'ghs_app', repository: REPOSITORY, apiUrl: app.url });
      const configured = new GitHubRepository({ token: 'ghs_app', repository: REPOSITORY, apiUrl: app.url, login: 'llmops[bot]' });

      await expect(client.login()).rejects.toThrow(
        'GitHub refused GET /user (403: Resource not accessible by integration): the token lacks a user token: GET /user tells the bot its own login, and a GitHub App token cannot call it (set LLMOPS_BOT_LOGIN to the App\'s "<app-slug>[bot]" login instead)',
      );
      expect(await configured.login()).toBe('llmops[bot]');
    } finally {
      await app.stop();
    }
  });

  it('401 and 404 name the token and the repository', async () => {
    const wrongToken = new GitHubRepository({ token: 'ghp_revoked', repository: REPOSITORY, apiUrl: current.world.github.url, retries: 0 });
    const wrongRepository = new GitHubRepository({ token: MALLORY.token, repository: 'acme/other', apiUrl: current.world.github.url, retries: 0 });

    await expect(wrongToken.listPullRequests('llmops/', 'open')).rejects.toThrow(
      'GitHub rejected the token on GET /repos/acme/llmops-gitops/pulls (401: Bad credentials): it is wrong, expired or revoked (a GitHub App installation token lasts one hour); set GITHUB_TOKEN to a valid token',
    );
    await expect(wrongRepository.listPullRequests('llmops/', 'open')).rejects.toThrow(
      'GitHub answered 404 for GET /repos/acme/other/pulls: Not Found: the repository acme/other, or the object named in the path, does not exist or the token cannot see it (a fine-grained token must list the repository; a GitHub App must be installed on it)',
    );
  });

  it('a GitHub that does not answer is a timeout, said so', async () => {
    current.world.github.inject({ delayMs: 2000, method: 'GET' });
    const client = new GitHubRepository({ token: MALLORY.token, repository: REPOSITORY, apiUrl: current.world.github.url, retries: 0, requestTimeoutMs: 200 });

    await expect(client.listPullRequests('llmops/', 'open')).rejects.toThrow('timeout: GitHub did not answer within 200 ms');
  });
});
