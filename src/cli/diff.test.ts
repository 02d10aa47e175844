import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createBotWorld, git, MALLORY, REPOSITORY, TOKEN, type BotWorld } from '../testing/bot-harness.ts';
import { editFile, runCli } from '../testing/fixture-fleet.ts';
import { DIFF_COMMENT_MARKER } from './commands/diff.ts';

let world: BotWorld;
let checkout: string;
beforeEach(async () => {
  world = await createBotWorld();
  checkout = await world.botClone();
  await editFile(checkout, 'environments/production.ts', 'replicas: { min: 2, max: 8 }', 'replicas: { min: 3, max: 8 }');
});
afterEach(async () => world?.remove());

describe('llmops diff', () => {
  it('shows what the declarations render against generated/ on the base, one collapsible section per environment', async () => {
    const { exitCode, stdout } = await runCli(['diff', '--root', checkout, '--base', 'origin/main']);

    expect(exitCode).toBe(0);
    expect(stdout).toMatch(/^### Rendered manifests: \d+ file\(s\) in 1 environment\(s\) against `origin\/main`/);
    expect(stdout).toContain('<summary><b>production</b>:');
    expect(stdout).toContain('+++ b/generated/production/kubernetes/llama-3-1-8b-instruct.yaml');
    expect(stdout).toContain('-  minReplicaCount: 2\n+  minReplicaCount: 3');
    expect(stdout).not.toContain('<b>staging</b>');
  }, 60_000);

  it("upserts one comment on the pull request, edited in place on the next push, and never edits someone else's comment that copies its marker", async () => {
    await git(checkout, 'checkout', '--quiet', '-b', 'more-replicas');
    await git(checkout, 'commit', '--quiet', '-am', 'More replicas');
    await git(checkout, 'push', '--quiet', 'origin', 'more-replicas');
    world.github.pulls.push({
      number: 7,
      title: 'More replicas',
      body: '',
      head: 'more-replicas',
      base: 'main',
      state: 'open',
      labels: [],
      createdAt: new Date().toISOString(),
      updatedAt: new Date().toISOString(),
    });
    const squatter = `${DIFF_COMMENT_MARKER}\nNothing to see here.`;
    world.github.comments.push({ id: 100, issue: 7, body: squatter, user: MALLORY.login });
    const previous = { token: process.env.GITHUB_TOKEN, repository: process.env.GITHUB_REPOSITORY };
    process.env.GITHUB_TOKEN = TOKEN;
    process.env.GITHUB_REPOSITORY = REPOSITORY;
    try {
      const args = ['diff', '--root', checkout, '--base', 'origin/main', '--comment', '7', '--github-api-url', world.github.url];

      const first = await runCli(args);
      await editFile(checkout, 'environments/production.ts', 'replicas: { min: 3, max: 8 }', 'replicas: { min: 3, max: 9 }');
      const second = await runCli(args);
      const third = await runCli(args);

      expect([first.stdout, second.stdout, third.stdout].map((out) => out.split(':')[1]?.trim().split(' ')[0])).toEqual(['created', 'updated', 'unchanged']);
      const comments = world.github.comments.filter((comment) => comment.issue === 7 && comment.user === 'llmops-bot');
      expect(comments).toHaveLength(1);
      expect(comments[0]!.body.startsWith(`${DIFF_COMMENT_MARKER}\n### Rendered manifests`)).toBe(true);
      expect(comments[0]!.body).toContain('+  maxReplicaCount: 9');
      expect(world.github.comments.find((comment) => comment.id === 100)!.body).toBe(squatter);
      expect(world.github.contractViolations).toEqual([]);
    } finally {
      process.env.GITHUB_TOKEN = previous.token ?? '';
      process.env.GITHUB_REPOSITORY = previous.repository ?? '';
    }
  }, 90_000);
});
