/**
 * The GitHub calls the bot makes, through @octokit/rest with the retry and
 * throttling plugins: 5xx and timeouts are retried with back-off, primary and
 * secondary rate limits wait for `retry-after` / `x-ratelimit-reset` (up to a
 * bound, then the cycle stops cleanly), and mutating calls are serialized at
 * least a second apart, as GitHub asks of integrations.
 */
import { retry } from '@octokit/plugin-retry';
import { throttling } from '@octokit/plugin-throttling';
import { Octokit } from '@octokit/rest';
import Bottleneck from 'bottleneck';
import { describeGitHubError, GitHubAccessError } from './github-errors.ts';

const BotOctokit = Octokit.plugin(retry, throttling);

export interface GitHubOptions {
  /** A token with contents and pull-requests write access. */
  readonly token: string;
  /** `owner/name`. */
  readonly repository: string;
  /** The bot's login (a user, or a GitHub App's `<app-slug>[bot]`). Default: asked of GitHub (GET /user), which only user tokens may call. */
  readonly login?: string;
  /** REST API root. Default: https://api.github.com. */
  readonly apiUrl?: string;
  /** Abort a request after this long, milliseconds; it is then retried. Default: 30000. */
  readonly requestTimeoutMs?: number;
  /** Wait at most this long for a rate limit to reset, seconds; longer stops the cycle. Default: 120. */
  readonly maxRateLimitWaitSeconds?: number;
  /** Retries per request for 5xx and timeouts. Default: 3. */
  readonly retries?: number;
  /**
   * Least time between two writes (and GraphQL calls), milliseconds. Default: 1000, as GitHub asks of integrations
   * ("Best practices for using the REST API": wait at least one second between mutative requests).
   */
  readonly minWriteIntervalMs?: number;
}

/** The fields of a pull request the bot reads. */
export interface PullRequest {
  readonly number: number;
  readonly title: string;
  readonly body: string;
  readonly labels: readonly string[];
  readonly headRef: string;
  readonly state: 'open' | 'closed';
  readonly mergedAt?: string;
  readonly createdAt: string;
  readonly url: string;
  /** Login of the author; absent for a deleted account. */
  readonly author?: string;
  /** `owner/name` of the repository the head branch lives in (a fork's for a pull request from a fork). */
  readonly headRepository?: string;
  /** The head commit. */
  readonly headSha: string;
  /** GraphQL node id (for auto-merge). */
  readonly nodeId: string;
  /** GitHub's auto-merge is on. */
  readonly autoMerge: boolean;
  /** A draft: for a person to decide on, not to merge as it is. */
  readonly draft?: boolean;
}

/** The fields of an issue the bot reads (its dashboard). */
export interface Issue {
  readonly number: number;
  readonly title: string;
  readonly body: string;
  readonly state: 'open' | 'closed';
  /** Login of the author; absent for a deleted account. */
  readonly author?: string;
}

/** A comment on an issue or pull request. */
export interface IssueComment {
  readonly id: number;
  readonly body: string;
  /** Login of the author; absent for a deleted account. */
  readonly author?: string;
}

/** A person's access to the repository (`permission` of GET /repos/{owner}/{repo}/collaborators/{username}/permission: maintain counts as write, triage as read). */
export type Permission = 'admin' | 'write' | 'read' | 'none';

/** One entry of a tree made through the Git Data API: a file's new blob, or `sha: null` to delete it. */
export interface TreeEntry {
  readonly path: string;
  readonly mode: '100644' | '100755' | '120000';
  readonly sha: string | null;
}

/** GitHub refused to move a bot branch (branch protection, a ruleset): not a lost race, an error with GitHub's reason. */
export class BranchRefusedError extends Error {
  override readonly name = 'BranchRefusedError';
}

/** Raised when GitHub asks the bot to wait longer than it may: the cycle stops and the next run continues. */
export class RateLimitedError extends Error {
  override readonly name = 'RateLimitedError';
}

interface RawPullRequest {
  number: number;
  title: string;
  body: string | null;
  labels: { name?: string }[];
  head: { ref: string; sha: string; repo: { full_name: string } | null };
  user: { login: string } | null;
  node_id: string;
  auto_merge?: object | null;
  draft?: boolean;
  state: string;
  merged_at: string | null;
  created_at: string;
  html_url: string;
}

/** GitHub's message of a 422, or undefined for any other error. */
const refusal = (error: unknown): string | undefined => {
  const { status, response } = (error ?? {}) as { status?: number; response?: { data?: { message?: string; errors?: { message?: string }[] } } };
  if (status !== 422) return undefined;
  const details = (response?.data?.errors ?? []).map((problem) => problem.message).filter(Boolean);
  return [response?.data?.message ?? 'Unprocessable Entity', ...details].join(': ');
};

const toPullRequest = (raw: RawPullRequest): PullRequest => ({
  number: raw.number,
  title: raw.title,
  body: raw.body ?? '',
  labels: raw.labels.map((label) => label.name ?? '').filter(Boolean),
  headRef: raw.head.ref,
  state: raw.state === 'open' ? 'open' : 'closed',
  mergedAt: raw.merged_at ?? undefined,
  createdAt: raw.created_at,
  url: raw.html_url,
  author: raw.user?.login,
  headRepository: raw.head.repo?.full_name,
  headSha: raw.head.sha,
  nodeId: raw.node_id,
  autoMerge: raw.auto_merge != null,
  ...(raw.draft ? { draft: true } : {}),
});

/** A fetch that gives up after `timeoutMs` with an error octokit treats as retryable. */
function fetchWithTimeout(timeoutMs: number): typeof fetch {
  return async (input, init) => {
    const signals = [AbortSignal.timeout(timeoutMs), ...(init?.signal ? [init.signal] : [])];
    try {
      return await fetch(input, { ...init, signal: AbortSignal.any(signals) });
    } catch (error) {
      if (error instanceof Error && error.name === 'TimeoutError') throw new TypeError('fetch failed', { cause: `timeout: GitHub did not answer within ${timeoutMs} ms` });
      throw error;
    }
  };
}

export class GitHubRepository {
  readonly owner: string;
  readonly repo: string;
  private readonly octokit: InstanceType<typeof BotOctokit>;
  private rateLimited?: string;
  private ownLogin?: Promise<string>;
  private readonly configuredLogin?: string;

  constructor(options: GitHubOptions) {
    const [owner, repo] = options.repository.split('/');
    if (!owner || !repo) throw new Error(`repository: expected owner/name (got ${JSON.stringify(options.repository)})`);
    this.owner = owner;
    this.repo = repo;
    this.configuredLogin = options.login;
    const maxWait = options.maxRateLimitWaitSeconds ?? 120;
    const onLimit = (kind: string) => (retryAfterSeconds: number, request: { method: string; url: string }, _octokit: unknown, retryCount: number) => {
      if (retryAfterSeconds <= maxWait && retryCount < 3) return true;
      this.rateLimited = `${kind} rate limit on ${request.method} ${request.url}: GitHub asks to wait ${retryAfterSeconds} s (the bot waits at most ${maxWait} s, 3 times)`;
      return false;
    };
    this.octokit = new BotOctokit({
      auth: options.token,
      baseUrl: options.apiUrl ?? 'https://api.github.com',
      userAgent: 'llmops-gitops-bot',
      request: { fetch: fetchWithTimeout(options.requestTimeoutMs ?? 30_000) },
      throttle: {
        onRateLimit: onLimit('primary'),
        onSecondaryRateLimit: onLimit('secondary'),
        write: new Bottleneck.Group({ maxConcurrent: 1, minTime: options.minWriteIntervalMs ?? 1000 }),
        // Writes that notify people (comments, pull requests, issues): the plugin's default is three times the write interval.
        notifications: new Bottleneck.Group({ maxConcurrent: 1, minTime: 3 * (options.minWriteIntervalMs ?? 1000) }),
      },
      // 429 belongs to the throttling plugin, which honours retry-after; the retry plugin would retry it blind.
      retry: { retries: options.retries ?? 3, doNotRetry: [400, 401, 403, 404, 410, 422, 429, 451] },
      log: { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} },
    });
  }

  /** `owner/name`. */
  get fullName(): string {
    return `${this.owner}/${this.repo}`;
  }

  /** Runs a call that may answer 404 for "there is none": undefined then. */
  private async optional<T>(request: () => Promise<T>): Promise<T | undefined> {
    try {
      return await this.call(request);
    } catch (error) {
      if (error instanceof GitHubAccessError && error.status === 404) return undefined;
      throw error;
    }
  }

  /** Runs a call; a rate limit the bot will not wait for becomes a RateLimitedError, a 401, 403 or 404 a GitHubAccessError that says what is missing. */
  private async call<T>(request: () => Promise<T>): Promise<T> {
    try {
      return await request();
    } catch (error) {
      if (this.rateLimited) {
        const message = this.rateLimited;
        this.rateLimited = undefined;
        throw new RateLimitedError(message);
      }
      throw describeGitHubError(error, this.fullName) ?? error;
    }
  }

  /** The bot's own login: the configured one, else the token's user. */
  login(): Promise<string> {
    this.ownLogin ??= this.configuredLogin !== undefined ? Promise.resolve(this.configuredLogin) : this.call(() => this.octokit.rest.users.getAuthenticated()).then(({ data }) => data.login);
    return this.ownLogin;
  }

  private get repoParams() {
    return { owner: this.owner, repo: this.repo };
  }

  /** The open pull request from `branch`, if any. */
  async findOpenPullRequest(branch: string): Promise<PullRequest | undefined> {
    const { data } = await this.call(() => this.octokit.rest.pulls.list({ ...this.repoParams, head: `${this.owner}:${branch}`, state: 'open', per_page: 10 }));
    return data[0] ? toPullRequest(data[0] as RawPullRequest) : undefined;
  }

  /** Pull requests (open, or all) whose head branch starts with `prefix`, newest first. */
  async listPullRequests(prefix: string, state: 'open' | 'all'): Promise<PullRequest[]> {
    const data = await this.call(() => this.octokit.paginate(this.octokit.rest.pulls.list, { ...this.repoParams, state, sort: 'created', direction: 'desc', per_page: 100 }));
    return data.map((raw) => toPullRequest(raw as RawPullRequest)).filter((pull) => pull.headRef.startsWith(prefix));
  }

  /**
   * Opens a pull request. When another run opened one for the branch first,
   * GitHub answers 422 and the existing one is returned: never a duplicate.
   */
  async createPullRequest(request: { branch: string; base: string; title: string; body: string; draft?: boolean }): Promise<{ pullRequest: PullRequest; created: boolean }> {
    try {
      const { data } = await this.call(() =>
        this.octokit.rest.pulls.create({ ...this.repoParams, head: request.branch, base: request.base, title: request.title, body: request.body, ...(request.draft ? { draft: true } : {}) }),
      );
      return { pullRequest: toPullRequest(data as RawPullRequest), created: true };
    } catch (error) {
      const existing = (error as { status?: number }).status === 422 ? await this.findOpenPullRequest(request.branch) : undefined;
      if (existing) return { pullRequest: existing, created: false };
      throw error;
    }
  }

  async updatePullRequest(number: number, changes: { title?: string; body?: string; state?: 'open' | 'closed' }): Promise<void> {
    await this.call(() => this.octokit.rest.pulls.update({ ...this.repoParams, pull_number: number, ...changes }));
  }

  /** Adds the labels the pull request lacks (GitHub creates unknown labels). */
  async addLabels(number: number, labels: readonly string[]): Promise<void> {
    await this.call(() => this.octokit.rest.issues.addLabels({ ...this.repoParams, issue_number: number, labels: [...labels] }));
  }

  private comments(number: number) {
    return this.call(() => this.octokit.paginate(this.octokit.rest.issues.listComments, { ...this.repoParams, issue_number: number, per_page: 100 }));
  }

  /** The bot's own comments on a pull request (someone else's may quote its markers). */
  private async ownComments(number: number) {
    const [login, comments] = await Promise.all([this.login(), this.comments(number)]);
    return comments.filter((comment) => comment.user?.login === login);
  }

  /** Edits the bot's comment that starts with `marker` in place, or posts it: one comment per pull request, never one per push. */
  async upsertComment(number: number, marker: string, body: string): Promise<'created' | 'updated' | 'unchanged'> {
    const comments = await this.ownComments(number);
    const text = `${marker}\n${body}`;
    const existing = comments.find((comment) => comment.body?.startsWith(marker));
    if (existing?.body === text) return 'unchanged';
    if (existing) {
      await this.call(() => this.octokit.rest.issues.updateComment({ ...this.repoParams, comment_id: existing.id, body: text }));
      return 'updated';
    }
    await this.call(() => this.octokit.rest.issues.createComment({ ...this.repoParams, issue_number: number, body: text }));
    return 'created';
  }

  /** Every comment on an issue or pull request, oldest first. */
  async listComments(number: number): Promise<IssueComment[]> {
    return (await this.comments(number)).map((comment) => ({ id: comment.id, body: comment.body ?? '', author: comment.user?.login }));
  }

  /** Posts a comment. */
  async comment(number: number, body: string): Promise<void> {
    await this.call(() => this.octokit.rest.issues.createComment({ ...this.repoParams, issue_number: number, body }));
  }

  /** Issues (not pull requests) opened by `creator`, open and closed. */
  async listIssuesBy(creator: string): Promise<Issue[]> {
    const data = await this.call(() => this.octokit.paginate(this.octokit.rest.issues.listForRepo, { ...this.repoParams, creator, state: 'all', per_page: 100 }));
    return data
      .filter((raw) => !raw.pull_request)
      .map((raw) => ({ number: raw.number, title: raw.title, body: raw.body ?? '', state: raw.state === 'open' ? 'open' : 'closed', author: raw.user?.login }));
  }

  async createIssue(title: string, body: string): Promise<number> {
    const { data } = await this.call(() => this.octokit.rest.issues.create({ ...this.repoParams, title, body }));
    return data.number;
  }

  async updateIssue(number: number, changes: { body?: string; state?: 'open' | 'closed' }): Promise<void> {
    await this.call(() => this.octokit.rest.issues.update({ ...this.repoParams, issue_number: number, ...changes }));
  }

  /** What `username` may do in the repository; `none` for someone GitHub does not know. */
  async permissionOf(username: string): Promise<Permission> {
    const found = await this.optional(() => this.octokit.rest.repos.getCollaboratorPermissionLevel({ ...this.repoParams, username }));
    const permission = found?.data.permission;
    return permission === 'admin' || permission === 'write' || permission === 'read' ? permission : 'none';
  }

  /** Requests reviews from people (logins) and teams (slugs). */
  async requestReviewers(number: number, reviewers: readonly string[], teamReviewers: readonly string[]): Promise<void> {
    await this.call(() => this.octokit.rest.pulls.requestReviewers({ ...this.repoParams, pull_number: number, reviewers: [...reviewers], team_reviewers: [...teamReviewers] }));
  }

  /**
   * Turns on GitHub's auto-merge (GraphQL `enablePullRequestAutoMerge`): GitHub merges the pull request once the
   * branch protection's required checks pass, and only while its head is `expectedHeadOid`. Returns why not when
   * GitHub refuses (auto-merge not allowed in the repository, no required checks so nothing would gate it…).
   */
  async enableAutoMerge(pull: Pick<PullRequest, 'nodeId'>, expectedHeadOid: string): Promise<{ readonly enabled: true } | { readonly enabled: false; readonly reason: string }> {
    const mutation = `mutation EnableAutoMerge($pullRequestId: ID!, $expectedHeadOid: GitObjectID!) {
      enablePullRequestAutoMerge(input: { pullRequestId: $pullRequestId, expectedHeadOid: $expectedHeadOid, mergeMethod: MERGE }) {
        pullRequest { number autoMergeRequest { enabledAt mergeMethod } }
      }
    }`;
    try {
      await this.call(() => this.octokit.graphql(mutation, { pullRequestId: pull.nodeId, expectedHeadOid }));
      return { enabled: true };
    } catch (error) {
      const errors = (error as { errors?: { message?: string }[] }).errors;
      if (Array.isArray(errors)) return { enabled: false, reason: errors.map((problem) => problem.message ?? 'refused').join('; ') };
      throw error;
    }
  }

  /** Stores a file's content as a blob (Git Data API); returns its SHA. */
  async createBlob(content: Buffer): Promise<string> {
    const { data } = await this.call(() => this.octokit.rest.git.createBlob({ ...this.repoParams, content: content.toString('base64'), encoding: 'base64' }));
    return data.sha;
  }

  /** A tree: `base` with `entries` replaced, added or (sha null) removed; returns its SHA. */
  async createTree(base: string, entries: readonly TreeEntry[]): Promise<string> {
    const { data } = await this.call(() => this.octokit.rest.git.createTree({ ...this.repoParams, base_tree: base, tree: entries.map((entry) => ({ ...entry, type: 'blob' as const })) }));
    return data.sha;
  }

  /**
   * A commit made by the token's identity, without custom author or committer: GitHub signs what a GitHub App
   * makes this way and shows it as verified ("About commit signature verification": signature verification for bots).
   */
  async createCommit(message: string, tree: string, parents: readonly string[]): Promise<{ readonly sha: string; readonly verified: boolean }> {
    const { data } = await this.call(() => this.octokit.rest.git.createCommit({ ...this.repoParams, message, tree, parents: [...parents] }));
    return { sha: data.sha, verified: data.verification?.verified === true };
  }

  /** Where `branch` points, or undefined when it does not exist. */
  async branchSha(branch: string): Promise<string | undefined> {
    return (await this.optional(() => this.octokit.rest.git.getRef({ ...this.repoParams, ref: `heads/${branch}` })))?.data.object.sha;
  }

  /** Creates `branch` at `sha`; false when it exists already (another run made it first). */
  async createBranch(branch: string, sha: string): Promise<boolean> {
    try {
      await this.call(() => this.octokit.rest.git.createRef({ ...this.repoParams, ref: `refs/heads/${branch}`, sha }));
      return true;
    } catch (error) {
      if (refusal(error) === 'Reference already exists') return false;
      throw this.refused(error, 'create', branch);
    }
  }

  /** Points `branch` at `sha`, whatever it held (the bot regenerates its branches rather than stacking commits). */
  async forceBranch(branch: string, sha: string): Promise<void> {
    try {
      await this.call(() => this.octokit.rest.git.updateRef({ ...this.repoParams, ref: `heads/${branch}`, sha, force: true }));
    } catch (error) {
      throw this.refused(error, 'update', branch);
    }
  }

  /** A 422 on a ref as the error that says why (branch protection, a ruleset); anything else as it is. */
  private refused(error: unknown, verb: string, branch: string): unknown {
    const reason = refusal(error);
    if (reason === undefined) return error;
    return new BranchRefusedError(
      `GitHub refused to ${verb} ${branch} (422: ${reason.replace(/\s*\n+\s*/g, ' ')}); allow the bot to push llmops/* branches (branch protection, rulesets) or stop the bot`,
    );
  }

  /** Posts `body` unless a comment of the bot's containing `marker` exists. Returns whether it posted. */
  async commentOnce(number: number, marker: string, body: string): Promise<boolean> {
    const comments = await this.ownComments(number);
    if (comments.some((comment) => comment.body?.includes(marker))) return false;
    await this.call(() => this.octokit.rest.issues.createComment({ ...this.repoParams, issue_number: number, body: `${marker}\n${body}` }));
    return true;
  }
}
