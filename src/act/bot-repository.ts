/**
 * The bot's git work, through simple-git: one branch per deployment holding
 * exactly one commit on top of the base, built in a throw-away worktree (the
 * user's checkout is never touched), regenerated rather than rebased, and
 * published to the bot's own branches only (through GitHub's API, or as a
 * local branch with --local). Each commit
 * carries the proposal's fingerprint and a signature keyed with the bot's
 * secret over its parent and tree: a commit that claims the bot's e-mail
 * without it is someone else's.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdir, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { simpleGit, type SimpleGit } from 'simple-git';
import { isProcessAlive } from '../synth/write.ts';
import { BOT_GIT_IDENTITY, keyedDigest, type BotIdentity } from './trust.ts';

export type { BotIdentity } from './trust.ts';

/** Branch prefix the bot owns; it never pushes anywhere else. */
export const BOT_BRANCH_PREFIX = 'llmops/';

/** The commit trailers carrying the proposal's fingerprint and the bot's signature of the commit. */
const FINGERPRINT_TRAILER = 'Llmops-Fingerprint';
const SIGNATURE_TRAILER = 'Llmops-Signature';

/** The signature of a bot commit: its fingerprint, parent and tree, keyed. */
const commitSignature = (secret: string, fingerprint: string, parent: string, tree: string) => keyedDigest(secret, 'commit', fingerprint, parent, tree);

/** Where a bot branch stands against what the bot wants on it now. */
export type BranchState =
  | { readonly kind: 'absent' }
  /** One bot commit on the current base with the same fingerprint: nothing to do. */
  | { readonly kind: 'current'; readonly sha: string }
  /** One bot commit with the same fingerprint on an older base: kept unless it conflicts with the base (Renovate's "rebase when conflicted"). */
  | { readonly kind: 'behind'; readonly sha: string; readonly parent: string }
  /** The proposal changed: regenerate. */
  | { readonly kind: 'outdated'; readonly sha: string }
  /** Someone else committed: hands off. `firstForeign` is the oldest commit that is not the bot's (one takeover, however many pushes). */
  | { readonly kind: 'foreign'; readonly sha: string; readonly authors: readonly string[]; readonly firstForeign: string };

/** A file a commit changes against its base, as the Git Data API takes it. */
export interface ChangedFile {
  readonly path: string;
  readonly mode: '100644' | '100755' | '120000';
  /** Blob of the new content; null when the file is deleted. */
  readonly blob: string | null;
}

export interface BotRepositoryOptions {
  /** A clone of the fleet repository. */
  readonly root: string;
  /** Remote to fetch from and push to. Default: origin. */
  readonly remote?: string;
  /** Base branch. Default: main. */
  readonly base?: string;
  /** Key of fingerprints and commit signatures (`LLMOPS_BOT_SECRET`). */
  readonly secret: string;
  /** Git author and committer. Default: llmops-bot. */
  readonly identity?: Pick<BotIdentity, 'name' | 'email'>;
  /** Work on local branches only: no fetch, no push (`llmops optimize --local`). */
  readonly local?: boolean;
}

/** Where the throw-away worktrees live: `<git dir>/llmops-worktrees/<pid>-<uuid>`. */
const WORKTREES = 'llmops-worktrees';

export interface BuiltCommit {
  readonly sha: string;
  readonly parent: string;
  readonly tree: string;
  /** The whole commit message (subject, body and trailers). */
  readonly message: string;
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
    this.identity = { ...(options.identity ?? BOT_GIT_IDENTITY), secret: options.secret };
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
    const log = await this.git.raw(['log', '--format=%H%x1f%P%x1f%T%x1f%ae%x1f%ce%x1f%B%x1e', `${baseSha}..${sha}`]);
    const commits = log
      .split('\x1e')
      .map((record) => record.trim())
      .filter(Boolean)
      .map((record) => {
        const [hash, parents, tree, authorEmail, committerEmail, message] = record.split('\x1f');
        return { hash, parents: parents!.split(' '), tree: tree!, authorEmail: authorEmail!, committerEmail: committerEmail!, message: message ?? '' };
      });
    const trailer = (message: string, name: string) => new RegExp(`^${name}: ([0-9a-f]+)$`, 'm').exec(message)?.[1];
    const signed = (commit: (typeof commits)[number]) => {
      const claimed = trailer(commit.message, FINGERPRINT_TRAILER);
      return claimed !== undefined && commit.parents.length === 1 && trailer(commit.message, SIGNATURE_TRAILER) === commitSignature(this.identity.secret, claimed, commit.parents[0]!, commit.tree);
    };
    // The e-mail is free text in git; only the keyed signature over parent and tree proves a commit is the bot's,
    // whoever git names as its author (a commit made through GitHub's API carries the App's noreply address).
    const unsigned = commits.filter((commit) => !signed(commit));
    const strangers = [...new Set(unsigned.map((commit) => (commit.authorEmail === this.identity.email ? `${commit.authorEmail} (not signed by the bot)` : commit.authorEmail)))];
    if (strangers.length > 0) return { kind: 'foreign', sha, authors: strangers, firstForeign: unsigned[unsigned.length - 1]!.hash! };
    const only = commits.length === 1 ? commits[0]! : undefined;
    if (!only || trailer(only.message, FINGERPRINT_TRAILER) !== fingerprint) return { kind: 'outdated', sha };
    return only.parents[0] === baseSha ? { kind: 'current', sha } : { kind: 'behind', sha, parent: only.parents[0]! };
  }

  /** The tree a merge of `branch` into `base` gives, or undefined when they conflict. */
  async mergedTree(base: string, branch: string): Promise<string | undefined> {
    // A clean merge prints its tree alone; a conflicted one adds a line per conflicted stage (and exits 1, which simple-git does not raise).
    const lines = (await this.git.raw(['merge-tree', '--write-tree', '--no-messages', base, branch])).trim().split('\n');
    return lines.length === 1 ? lines[0] : undefined;
  }

  async treeOf(commit: string): Promise<string> {
    return (await this.git.revparse([`${commit}^{tree}`])).trim();
  }

  /** The lines a bot commit appended to `file` (its content beyond the parent's), or undefined when it did not only append. */
  async appendedLines(commit: string, parent: string, file: string): Promise<string | undefined> {
    const [before, after] = [(await this.show(parent, file)) ?? '', (await this.show(commit, file)) ?? ''];
    return after.startsWith(before) ? after.slice(before.length) : undefined;
  }

  /** The files `commit` changes against `base`: path, mode and new blob (null: deleted). */
  async changedFiles(base: string, commit: string): Promise<ChangedFile[]> {
    const output = await this.git.raw(['diff-tree', '-r', '--no-renames', '-z', base, commit]);
    const fields = output.split('\0').filter((field) => field !== '');
    const files: ChangedFile[] = [];
    for (let index = 0; index + 1 < fields.length; index += 2) {
      // ":<old mode> <new mode> <old sha> <new sha> <status>", then the path.
      const [, newMode, , newSha, status] = fields[index]!.slice(1).split(' ');
      files.push({ path: fields[index + 1]!, mode: newMode as ChangedFile['mode'], blob: status === 'D' ? null : newSha! });
    }
    return files;
  }

  /** A blob's bytes. */
  async blob(sha: string): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      execFile('git', ['-C', this.root, 'cat-file', 'blob', sha], { encoding: 'buffer', maxBuffer: 256 * 1024 * 1024 }, (error, stdout) => (error ? reject(error) : resolve(stdout)));
    });
  }

  /** Fetches one branch into its remote-tracking ref (after GitHub's API moved it). */
  async track(branch: string): Promise<void> {
    if (this.local) return;
    await this.git.raw(['fetch', '--quiet', this.remote, `+refs/heads/${branch}:${this.ref(branch)}`]);
  }

  /** The unified diff of one file between the merge base of `base` and `commit`, and `commit`: what the branch changes. */
  async fileDiff(base: string, commit: string, file: string): Promise<string> {
    return this.git.raw(['diff', '--merge-base', base, commit, '--', file]);
  }

  private async worktreesFolder(): Promise<string> {
    return path.join(path.resolve(this.root, (await this.git.revparse(['--git-common-dir'])).trim()), WORKTREES);
  }

  /**
   * Removes the worktrees of bot runs that were killed (their process is gone)
   * and lets git forget them. Returns how many it removed.
   */
  async pruneStaleWorktrees(): Promise<number> {
    const folder = await this.worktreesFolder();
    const names = await readdir(folder).catch(() => [] as string[]);
    // `<pid>-<uuid>`; a name without a pid comes from a version that did not record it.
    const stale = names.filter((name) => {
      const pid = Number(/^(\d+)-/.exec(name)?.[1]);
      return !(Number.isInteger(pid) && pid > 0 && isProcessAlive(pid));
    });
    for (const name of stale) await rm(path.join(folder, name), { recursive: true, force: true });
    await this.git.raw(['worktree', 'prune']);
    return stale.length;
  }

  /**
   * Checks out `baseSha` in a fresh worktree under .git/ (so packages resolve
   * from the repository's node_modules), runs `work` in it, and removes it.
   */
  async withWorktree<T>(baseSha: string, work: (root: string, git: SimpleGit) => Promise<T>): Promise<T> {
    const folder = path.join(await this.worktreesFolder(), `${process.pid}-${randomUUID()}`);
    await mkdir(path.dirname(folder), { recursive: true });
    await this.git.raw(['worktree', 'add', '--detach', '--quiet', folder, baseSha]);
    try {
      return await work(folder, simpleGit(folder));
    } finally {
      await rm(folder, { recursive: true, force: true });
      await this.git.raw(['worktree', 'prune']);
    }
  }

  /** Commits everything changed in a worktree as the bot, with the fingerprint and the signature over parent and tree. */
  async commit(worktree: SimpleGit, baseSha: string, subject: string, body: string, fingerprint: string): Promise<BuiltCommit> {
    await worktree.raw(['add', '--all']);
    const tree = (await worktree.raw(['write-tree'])).trim();
    const signature = commitSignature(this.identity.secret, fingerprint, baseSha, tree);
    // The bot is both author and committer, whatever the clone's git config says.
    const identity = ['-c', `user.name=${this.identity.name}`, '-c', `user.email=${this.identity.email}`, '-c', 'commit.gpgsign=false'];
    await worktree.raw([...identity, 'commit', '--quiet', '--no-verify', '-m', subject, '-m', body, '-m', `${FINGERPRINT_TRAILER}: ${fingerprint}\n${SIGNATURE_TRAILER}: ${signature}`]);
    const sha = (await worktree.revparse(['HEAD'])).trim();
    const message = `${(await worktree.raw(['log', '-1', '--format=%B', sha])).trimEnd()}\n`;
    return { sha, parent: baseSha, tree, message, generatedDiff: await this.generatedDiff(baseSha, sha) };
  }

  /** Lines added and removed per file of generated/ by `toSha` since its merge base with `fromSha` (what the branch changes). */
  async generatedDiff(fromSha: string, toSha: string): Promise<BuiltCommit['generatedDiff']> {
    const numstat = await this.git.raw(['diff', '--numstat', '--merge-base', fromSha, toSha, '--', 'generated/']);
    return numstat
      .split('\n')
      .filter(Boolean)
      .map((line) => {
        const [added, removed, file] = line.split('\t');
        return { file: file!, added: Number(added) || 0, removed: Number(removed) || 0 };
      });
  }

  /**
   * Points the local `branch` at `sha` where it still is at `expectedSha` (absent: must not exist), for local
   * mode (`llmops optimize --local`); with GitHub the bot publishes through its API (src/act/api-commit.ts).
   * False when the branch moved meanwhile (another run won).
   */
  async publish(branch: string, sha: string, expectedSha: string | undefined): Promise<boolean> {
    if (!branch.startsWith(BOT_BRANCH_PREFIX)) throw new Error(`refusing to write ${branch}: the bot writes only ${BOT_BRANCH_PREFIX}* branches`);
    try {
      await this.git.raw(['update-ref', `refs/heads/${branch}`, sha, expectedSha ?? '']);
      return true;
    } catch {
      return false;
    }
  }
}
