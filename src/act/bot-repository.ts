/**
 * The bot's git work, through simple-git: one branch per deployment holding
 * exactly one commit on top of the base, built in a throw-away worktree (the
 * user's checkout is never touched), regenerated rather than rebased, and
 * pushed with --force-with-lease to the bot's own branches only.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { simpleGit, type SimpleGit } from 'simple-git';

/** Who the bot commits as. */
export interface BotIdentity {
  readonly name: string;
  readonly email: string;
}

export const DEFAULT_BOT_IDENTITY: BotIdentity = { name: 'llmops-bot', email: 'llmops-bot@users.noreply.github.com' };

/** Branch prefix the bot owns; it never pushes anywhere else. */
export const BOT_BRANCH_PREFIX = 'llmops/';

/** The commit trailer carrying the proposal's fingerprint. */
const FINGERPRINT_TRAILER = 'Llmops-Fingerprint';

/** Where a bot branch stands against what the bot wants on it now. */
export type BranchState =
  | { readonly kind: 'absent' }
  /** One bot commit on the current base with the same fingerprint: nothing to do. */
  | { readonly kind: 'current'; readonly sha: string }
  /** The base moved or the proposal changed: regenerate. */
  | { readonly kind: 'outdated'; readonly sha: string }
  /** Someone else committed: hands off. */
  | { readonly kind: 'foreign'; readonly sha: string; readonly authors: readonly string[] };

export interface BotRepositoryOptions {
  /** A clone of the fleet repository. */
  readonly root: string;
  /** Remote to fetch from and push to. Default: origin. */
  readonly remote?: string;
  /** Base branch. Default: main. */
  readonly base?: string;
  readonly identity?: BotIdentity;
  /** Work on local branches only: no fetch, no push (`llmops optimize --local`). */
  readonly local?: boolean;
}

export interface BuiltCommit {
  readonly sha: string;
  /** `git diff --numstat` of generated/ against the base. */
  readonly generatedDiff: readonly { file: string; added: number; removed: number }[];
}

export class BotRepository {
  readonly root: string;
  readonly remote: string;
  readonly base: string;
  readonly identity: BotIdentity;
  readonly local: boolean;
  private readonly git: SimpleGit;

  constructor(options: BotRepositoryOptions) {
    this.root = options.root;
    this.remote = options.remote ?? 'origin';
    this.base = options.base ?? 'main';
    this.identity = options.identity ?? DEFAULT_BOT_IDENTITY;
    this.local = options.local ?? false;
    this.git = simpleGit(this.root);
  }

  /** The ref a branch is read from: the remote-tracking ref, or the local branch in local mode. */
  private ref(branch: string): string {
    return this.local ? `refs/heads/${branch}` : `refs/remotes/${this.remote}/${branch}`;
  }

  /** Fetches the base and the bot's branches (pruning deleted ones). */
  async fetch(): Promise<void> {
    if (this.local) return;
    await this.git.raw([
      'fetch',
      '--quiet',
      '--prune',
      this.remote,
      `+refs/heads/${this.base}:refs/remotes/${this.remote}/${this.base}`,
      `+refs/heads/${BOT_BRANCH_PREFIX}*:refs/remotes/${this.remote}/${BOT_BRANCH_PREFIX}*`,
    ]);
  }

  async baseSha(): Promise<string> {
    return (await this.git.revparse([this.ref(this.base)])).trim();
  }

  async branchSha(branch: string): Promise<string | undefined> {
    const output = await this.git.raw(['for-each-ref', '--format=%(objectname)', this.ref(branch)]);
    return output.trim() || undefined;
  }

  /** A file's content at a commit, or undefined when absent. */
  async show(sha: string, file: string): Promise<string | undefined> {
    try {
      return await this.git.show([`${sha}:${file}`]);
    } catch {
      return undefined;
    }
  }

  /** Files under `folder` at a commit. */
  async list(sha: string, folder: string): Promise<string[]> {
    const output = await this.git.raw(['ls-tree', '-r', '--name-only', sha, '--', folder]);
    return output.split('\n').filter(Boolean);
  }

  /** When the last change to `file` reached the base branch (committer time of the first-parent commit that brought it). */
  async landedAt(sha: string, file: string): Promise<Date | undefined> {
    const output = (await this.git.raw(['log', '-1', '--first-parent', '--format=%cI', sha, '--', file])).trim();
    return output ? new Date(output) : undefined;
  }

  async inspect(branch: string, baseSha: string, fingerprint: string): Promise<BranchState> {
    const sha = await this.branchSha(branch);
    if (!sha) return { kind: 'absent' };
    const log = await this.git.raw(['log', '--format=%H%x1f%P%x1f%ae%x1f%ce%x1f%B%x1e', `${baseSha}..${sha}`]);
    const commits = log
      .split('\x1e')
      .map((record) => record.trim())
      .filter(Boolean)
      .map((record) => {
        const [hash, parents, authorEmail, committerEmail, message] = record.split('\x1f');
        return { hash, parents: parents!.split(' '), authorEmail: authorEmail!, committerEmail: committerEmail!, message: message ?? '' };
      });
    const strangers = [...new Set(commits.flatMap((commit) => [commit.authorEmail, commit.committerEmail]).filter((email) => email !== this.identity.email))];
    if (strangers.length > 0) return { kind: 'foreign', sha, authors: strangers };
    const only = commits.length === 1 ? commits[0]! : undefined;
    const current = only && only.parents.length === 1 && only.parents[0] === baseSha && only.message.includes(`${FINGERPRINT_TRAILER}: ${fingerprint}`);
    return current ? { kind: 'current', sha } : { kind: 'outdated', sha };
  }

  /**
   * Checks out `baseSha` in a fresh worktree under .git/ (so packages resolve
   * from the repository's node_modules), runs `work` in it, and removes it.
   */
  async withWorktree<T>(baseSha: string, work: (root: string, git: SimpleGit) => Promise<T>): Promise<T> {
    const gitDir = path.resolve(this.root, (await this.git.revparse(['--git-common-dir'])).trim());
    const folder = path.join(gitDir, 'llmops-worktrees', randomUUID());
    await mkdir(path.dirname(folder), { recursive: true });
    await this.git.raw(['worktree', 'add', '--detach', '--quiet', folder, baseSha]);
    try {
      return await work(folder, simpleGit(folder));
    } finally {
      await rm(folder, { recursive: true, force: true });
      await this.git.raw(['worktree', 'prune']);
    }
  }

  /** Commits everything changed in a worktree as the bot, with the fingerprint trailer. */
  async commit(worktree: SimpleGit, baseSha: string, subject: string, body: string, fingerprint: string): Promise<BuiltCommit> {
    await worktree.raw(['add', '--all']);
    // The bot is both author and committer, whatever the clone's git config says.
    const identity = ['-c', `user.name=${this.identity.name}`, '-c', `user.email=${this.identity.email}`, '-c', 'commit.gpgsign=false'];
    await worktree.raw([...identity, 'commit', '--quiet', '--no-verify', '-m', subject, '-m', body, '-m', `${FINGERPRINT_TRAILER}: ${fingerprint}`]);
    const sha = (await worktree.revparse(['HEAD'])).trim();
    return { sha, generatedDiff: await this.generatedDiff(baseSha, sha) };
  }

  /** Lines added and removed per file of generated/ between two commits. */
  async generatedDiff(fromSha: string, toSha: string): Promise<BuiltCommit['generatedDiff']> {
    const numstat = await this.git.raw(['diff', '--numstat', fromSha, toSha, '--', 'generated/']);
    return numstat
      .split('\n')
      .filter(Boolean)
      .map((line) => {
        const [added, removed, file] = line.split('\t');
        return { file: file!, added: Number(added) || 0, removed: Number(removed) || 0 };
      });
  }

  /**
   * Points `branch` at `sha`: a push with --force-with-lease expecting the
   * branch where the bot last saw it (absent: must not exist), or a local
   * branch update in local mode. False when the lease fails (another run won).
   */
  async publish(branch: string, sha: string, expectedSha: string | undefined): Promise<boolean> {
    if (!branch.startsWith(BOT_BRANCH_PREFIX)) throw new Error(`refusing to write ${branch}: the bot writes only ${BOT_BRANCH_PREFIX}* branches`);
    if (this.local) {
      await this.git.raw(['update-ref', `refs/heads/${branch}`, sha, expectedSha ?? '']);
      return true;
    }
    try {
      await this.git.raw(['push', '--porcelain', `--force-with-lease=refs/heads/${branch}:${expectedSha ?? ''}`, this.remote, `${sha}:refs/heads/${branch}`]);
    } catch (error) {
      if (/stale info|rejected|fetch first|non-fast-forward/i.test(String(error))) return false;
      throw error;
    }
    await this.git.raw(['update-ref', this.ref(branch), sha]);
    return true;
  }
}
