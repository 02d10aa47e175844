import { spawn } from 'node:child_process';
import { mkdir, readdir } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BOT_SECRET, git, REPOSITORY, TOKEN } from '../testing/bot-harness.ts';
import { REPO_ROOT, runCli } from '../testing/fixture-fleet.ts';
import { botWorldPerTest } from '../testing/bot-world-per-test.ts';
import { lastWednesdayAfternoon, steadyScenario } from '../testing/plan-harness.ts';

const AT = new Date(lastWednesdayAfternoon().getTime() - 60 * 60_000);
const BRANCH = 'llmops/production/llama-3-1-8b-instruct';
const current = botWorldPerTest(steadyScenario(['production/llama-3-1-8b-instruct'], 9), AT);

interface Child {
  readonly exited: Promise<number | null>;
  readonly output: () => { stdout: string; stderr: string };
  /** Resolves when stderr has printed a line matching `pattern`. */
  waitFor(pattern: RegExp): Promise<void>;
  kill(signal: NodeJS.Signals): void;
}

/** `llmops optimize …` in its own process, as a GitHub Action or a pod runs it. */
function optimize(clone: string, args: string[], env: Record<string, string> = {}): Child {
  const child = spawn(process.execPath, [path.join(REPO_ROOT, 'bin/llmops.js'), 'optimize', '--prometheus', current.prometheus.url, '--at', String(AT.getTime() / 1000), ...args], {
    cwd: clone,
    env: { ...process.env, GITHUB_TOKEN: '', LLMOPS_BOT_SECRET: BOT_SECRET, ...env },
  });
  let stdout = '';
  let stderr = '';
  const waiters: { pattern: RegExp; resolve: () => void }[] = [];
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
    for (const waiter of waiters.filter((candidate) => candidate.pattern.test(stderr))) waiter.resolve();
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    exited,
    output: () => ({ stdout, stderr }),
    waitFor: (pattern) => (pattern.test(stderr) ? Promise.resolve() : new Promise((resolve) => waiters.push({ pattern, resolve }))),
    kill: (signal) => child.kill(signal),
  };
}

describe('llmops optimize', () => {
  it('--local writes the bot branch in the local repository, prints the body, and leaves the checkout alone', async () => {
    const clone = await current.world.botClone();

    const child = optimize(clone, ['--once', '--local'], { LLMOPS_PROMETHEUS_LINK_URL: 'https://viewer:pw@prometheus.example.com/' });
    const code = await child.exited;

    const { stdout, stderr } = child.output();
    expect(code, stderr).toBe(0);
    expect(stdout).toContain(`--- pull request body for production/llama-3-1-8b-instruct (branch ${BRANCH} at `);
    expect(stdout).toContain('### Current vs proposed');
    // Figures link to the Prometheus reviewers can open, never with its credentials.
    expect(stdout).toMatch(/\| p95 end-to-end latency \| \[\d+ ms\]\(https:\/\/prometheus\.example\.com\/graph\?g0\.expr=/);
    expect(stdout).not.toContain('viewer:pw');
    expect(await git(clone, 'rev-list', '--count', `main..${BRANCH}`)).toBe('1\n');
    expect(await git(clone, 'status', '--porcelain')).toBe('');
    expect((await git(clone, 'rev-parse', '--abbrev-ref', 'HEAD')).trim()).toBe('main');
    expect(await git(current.world.bare, 'branch', '--list', BRANCH)).toBe('');
  }, 120_000);

  it('without a token and without --local says what to do', async () => {
    const child = optimize(await current.world.botClone(), ['--once']);

    expect(await child.exited).toBe(2);
    expect(child.output().stderr).toContain('GITHUB_TOKEN is not set: export a token with contents and pull-requests write access, or run with --local');
  }, 60_000);

  it('stops with a clear error, and pushes nothing, when Prometheus is unreachable', async () => {
    const clone = await current.world.botClone();

    const { exitCode, stderr } = await runCli(['optimize', '--once', '--local', '--root', clone, '--prometheus', 'http://127.0.0.1:9', '--at', String(AT.getTime() / 1000)]);

    expect(exitCode).toBe(3);
    expect(stderr).toMatch(/127\.0\.0\.1:9[\s\S]*\nNothing was pushed\.\n$/);
    expect(await git(clone, 'branch', '--list', 'llmops/*')).toBe('');
  }, 60_000);

  it('rejects a malformed --at', async () => {
    const { exitCode, stderr } = await runCli(['optimize', '--once', '--local', '--prometheus', current.prometheus.url, '--at', 'yesterday']);

    expect(exitCode).toBe(2);
    expect(stderr).toBe('--at: expected a positive number (got "yesterday")\n');
  });

  it('on SIGTERM mid-cycle finishes the deployment in hand — branch and pull request — and exits cleanly', async () => {
    // Arrange: the pull request call is slow, so the signal lands while the unit of work is in flight.
    current.world.github.inject({ delayMs: 3000, method: 'POST' });
    const clone = await current.world.botClone();
    const child = optimize(clone, ['--once', '--github-api-url', current.world.github.url, '--repository', REPOSITORY], { GITHUB_TOKEN: TOKEN });

    // Act
    await child.waitFor(/optimize on llmops\//);
    child.kill('SIGTERM');
    const code = await child.exited;

    // Assert
    expect(code, child.output().stderr).toBe(0);
    expect(child.output().stderr).toContain('received SIGTERM: finishing the current deployment, then stopping');
    expect(current.world.github.pulls.map((pull) => pull.head)).toEqual([BRANCH]);
    expect(await git(current.world.bare, 'rev-list', '--count', `main..${BRANCH}`)).toBe('1\n');
    expect((await git(clone, 'worktree', 'list')).trim().split('\n')).toHaveLength(1);
    expect(current.world.github.contractViolations).toEqual([]);
  }, 120_000);

  it('--serve cycles, serves /metrics and /healthz, and stops on SIGTERM', async () => {
    const clone = await current.world.botClone();
    const port = 20000 + Math.floor(Math.random() * 20000);
    const child = optimize(clone, ['--serve', '--interval', '60', '--port', String(port), '--github-api-url', current.world.github.url, '--repository', REPOSITORY], { GITHUB_TOKEN: TOKEN });

    await child.waitFor(/production\/llama-3-1-8b-instruct: opened #1/);
    // The cycle goes on after the pull request (stale ones, the dashboard): wait for its end.
    let metrics = '';
    while (!metrics.includes('optimizer_attempts_total{')) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    }
    const health = await fetch(`http://127.0.0.1:${port}/healthz`);
    child.kill('SIGTERM');
    const code = await child.exited;

    expect(health.status).toBe(200);
    expect(metrics).toContain('optimizer_attempts_total{result="success"} 1');
    expect(metrics).toContain('optimizer_config_changes_total{type="replicas"} 1');
    expect(metrics).toContain('optimizer_deployments_active 8');
    expect(metrics).toMatch(/optimizer_duration_seconds_count 1/);
    expect(code).toBe(0);
  }, 120_000);

  it("reports a branch GitHub refuses as an error with GitHub's words, exit 3, and opens nothing", async () => {
    // Arrange: a ruleset on llmops/*.
    current.world.github.protectedRefs = { pattern: /^refs\/heads\/llmops\//, message: 'Repository rule violations found\n\nCannot create ref due to creations being restricted.' };

    // Act
    const child = optimize(await current.world.botClone(), ['--once', '--github-api-url', current.world.github.url, '--repository', REPOSITORY], { GITHUB_TOKEN: TOKEN });
    const code = await child.exited;

    // Assert
    expect(code).toBe(3);
    expect(child.output().stderr).toContain(
      `production/llama-3-1-8b-instruct: failed: GitHub refused to create ${BRANCH} (422: Repository rule violations found Cannot create ref due to creations being restricted.); allow the bot to push llmops/* branches (branch protection, rulesets) or stop the bot`,
    );
    expect(current.world.github.pulls).toEqual([]);
  }, 120_000);

  it('removes the worktrees of killed bot runs before it starts', async () => {
    const clone = await current.world.botClone();
    const worktrees = path.join(clone, '.git/llmops-worktrees');
    await mkdir(worktrees, { recursive: true });
    // A run that was killed (a pid no process has), and one from a version that did not record the pid.
    await git(clone, 'worktree', 'add', '--detach', '--quiet', path.join(worktrees, '4194303999-killed'), 'HEAD');
    await git(clone, 'worktree', 'add', '--detach', '--quiet', path.join(worktrees, '0b1c2d3e-legacy'), 'HEAD');

    const child = optimize(clone, ['--once', '--local']);
    const code = await child.exited;

    expect(code, child.output().stderr).toBe(0);
    expect(child.output().stderr).toContain('removed 2 worktree(s) left by bot runs that were killed');
    expect(await readdir(worktrees)).toEqual([]);
    expect((await git(clone, 'worktree', 'list')).trim().split('\n')).toHaveLength(1);
  }, 120_000);

  it('requires LLMOPS_BOT_SECRET with GitHub, and says how to make one', async () => {
    const child = optimize(await current.world.botClone(), ['--once', '--github-api-url', current.world.github.url, '--repository', REPOSITORY], { GITHUB_TOKEN: TOKEN, LLMOPS_BOT_SECRET: '' });

    expect(await child.exited).toBe(2);
    expect(child.output().stderr).toContain(
      "LLMOPS_BOT_SECRET: expected a random secret of at least 32 characters that only the bot holds (got nothing); it keys the bot's fingerprints and commit signatures so that nobody can forge them. Generate one with `openssl rand -hex 32` and store it as a repository secret",
    );
  }, 60_000);
});
