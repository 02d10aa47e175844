/**
 * Test harness for the bot: the fixture fleet as a real git repository with a
 * bare "GitHub" remote, clones for bot runs, and the GitHub stand-in on that
 * bare repository.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { BotRepository } from '../act/bot-repository.ts';
import { GitHubRepository } from '../act/github.ts';
import { copyFixtureFleet, linkCompiler } from './fixture-fleet.ts';
import { GitHubStandIn, type GitHubStandInOptions } from './github-stand-in.ts';

const run = promisify(execFile);
export const TOKEN = 'ghs_standintoken';
export const REPOSITORY = 'acme/llmops-gitops';
/** Another account on the stand-in: someone who is not the bot (read access, as anyone on a public repository). */
export const MALLORY = { token: 'ghp_mallorystoken', login: 'mallory' } as const;
/** A platform engineer with write access. */
export const DANA = { token: 'ghp_danastoken', login: 'dana' } as const;
/** The bot's key in tests (LLMOPS_BOT_SECRET). */
export const BOT_SECRET = 'test-secret-of-the-bot-0123456789abcdef';
const HUMAN = { GIT_AUTHOR_NAME: 'Dana Platform', GIT_AUTHOR_EMAIL: 'dana@acme.invalid', GIT_COMMITTER_NAME: 'Dana Platform', GIT_COMMITTER_EMAIL: 'dana@acme.invalid' };

export async function git(cwd: string, ...args: string[]): Promise<string> {
  return (await run('git', args, { cwd, env: { ...process.env, ...HUMAN } })).stdout;
}

export interface BotWorld {
  readonly dir: string;
  /** The bare repository playing GitHub's copy. */
  readonly bare: string;
  /** A person's clone (with the compiler linked), for commits to main or to the bot's branches. */
  readonly human: string;
  readonly github: GitHubStandIn;
  /** A fresh clone for one bot run, with the compiler linked into node_modules. */
  botClone(): Promise<string>;
  repository(clone: string): BotRepository;
  /** A GitHub client: the bot's, or another account's with its token. */
  client(options?: { maxRateLimitWaitSeconds?: number; requestTimeoutMs?: number; token?: string }): GitHubRepository;
  remove(): Promise<void>;
}

/** The fixture fleet (declarations and generated/) committed on main of a bare repository, with the stand-in serving it. */
export async function createBotWorld(clock?: () => Date, standIn: Pick<GitHubStandInOptions, 'allowAutoMerge' | 'requiredChecks'> = {}): Promise<BotWorld> {
  const dir = await mkdtemp(path.join(tmpdir(), 'llmops-bot-'));
  const seed = await copyFixtureFleet({ withGenerated: true });
  await writeFile(path.join(seed, '.gitignore'), 'node_modules/\n');
  await git(seed, 'init', '--quiet', '-b', 'main');
  await git(seed, 'add', '--all');
  await git(seed, 'commit', '--quiet', '-m', 'Example fleet');
  const bare = path.join(dir, 'fleet.git');
  await git(dir, 'clone', '--quiet', '--bare', seed, bare);
  await rm(seed, { recursive: true, force: true });
  const human = path.join(dir, 'human');
  await git(dir, 'clone', '--quiet', bare, human);
  await linkCompiler(human);
  const github = await new GitHubStandIn({
    bareRepository: bare,
    repository: REPOSITORY,
    token: TOKEN,
    clock,
    accounts: { [MALLORY.token]: MALLORY.login, [DANA.token]: DANA.login },
    permissions: { [DANA.login]: 'write' },
    ...standIn,
  }).start();
  let clones = 0;
  return {
    dir,
    bare,
    human,
    github,
    async botClone() {
      const clone = path.join(dir, `bot-${++clones}`);
      await git(dir, 'clone', '--quiet', bare, clone);
      await linkCompiler(clone);
      return clone;
    },
    repository: (clone) => new BotRepository({ root: clone, secret: BOT_SECRET }),
    client: (options = {}) =>
      // The stand-in has no secondary limits to respect: writes go as fast as it answers.
      new GitHubRepository({
        token: options.token ?? TOKEN,
        repository: REPOSITORY,
        apiUrl: github.url,
        requestTimeoutMs: options.requestTimeoutMs ?? 5000,
        maxRateLimitWaitSeconds: options.maxRateLimitWaitSeconds,
        minWriteIntervalMs: 0,
      }),
    async remove() {
      await github.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
