/**
 * A local stand-in for the GitHub REST endpoints the bot uses, on 127.0.0.1,
 * backed by a real bare git repository. Every request and response is checked
 * against GitHub's published OpenAPI description; a request the description
 * rejects gets GitHub's 422, a response that would break it is recorded as a
 * contract violation (tests assert there are none). Faults — secondary rate
 * limits (403), 429, 5xx, slow responses — can be injected per request.
 * Several accounts can call it (the bot and, say, an attacker), each with its
 * token; pull requests carry their author and the repository of their head
 * branch (this one, or a fork), as GitHub reports them. Issues share the pull
 * requests' numbers, as on GitHub. The Git Data API (blobs, trees, commits,
 * refs) writes real objects into the bare repository; a commit made without a
 * custom author or committer is reported verified, as GitHub signs what a
 * GitHub App makes that way. POST /graphql serves the one mutation the bot
 * uses (`enablePullRequestAutoMerge`), checked against GitHub's published
 * GraphQL schema (@octokit/graphql-schema) by graphql-js: the document is
 * validated and executed against that schema, so variables are coerced to its
 * input types and the answer takes the shape of its payload type.
 */
import { execFile, spawn } from 'node:child_process';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { executeGraphQL } from './github-graphql.ts';
import { STAND_IN_OPERATIONS, type StandInOperation } from './github-api/operations.ts';
import { exampleOf, matchOperation, requestViolations, responseViolations, type MatchedOperation } from './github-openapi.ts';

const run = promisify(execFile);

/** A person's access, as GET …/collaborators/{username}/permission reports it. */
export type StandInPermission = 'admin' | 'write' | 'read' | 'none';

export interface Fault {
  /** 403 (secondary rate limit), 429, or a 5xx. Absent with `delayMs`: answer normally, late. */
  readonly status?: 403 | 429 | 500 | 502 | 503;
  /** `retry-after` header, seconds. */
  readonly retryAfterSeconds?: number;
  /** Answer only after this long (the request is still carried out, as on a slow GitHub). */
  readonly delayMs?: number;
  /** Only requests of this method. */
  readonly method?: string;
  /** How many matching requests it applies to. Default: 1. */
  readonly times?: number;
}

export interface StandInPullRequest {
  number: number;
  /** Login of the author. Default: the bot's. */
  author?: string;
  /** `owner/name` of the repository the head branch lives in. Default: this repository (a fork otherwise). */
  headRepository?: string;
  title: string;
  body: string;
  head: string;
  base: string;
  state: 'open' | 'closed';
  labels: string[];
  createdAt: string;
  updatedAt: string;
  mergedAt?: string;
  mergeSha?: string;
  closedAt?: string;
  /** Logins and team slugs asked to review. */
  requestedReviewers?: string[];
  requestedTeams?: string[];
  /** GitHub's auto-merge, once enabled. */
  autoMerge?: { enabledBy: string; mergeMethod: 'MERGE' | 'SQUASH' | 'REBASE'; enabledAt: string };
  /** Opened as a draft (`draft: true` on create) and not yet marked ready for review. */
  draft?: boolean;
}

export interface StandInIssue {
  number: number;
  /** Login of the author. Default: the bot's. */
  author?: string;
  title: string;
  body: string;
  state: 'open' | 'closed';
  labels: string[];
  createdAt: string;
  updatedAt: string;
  closedAt?: string;
}

export interface StandInComment {
  id: number;
  issue: number;
  body: string;
  user: string;
}

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly status: number;
}

export interface GitHubStandInOptions {
  /** The bare repository the pull requests' branches live in. */
  readonly bareRepository: string;
  /** `owner/name`. */
  readonly repository: string;
  readonly token: string;
  /** Login of the token's user. Default: llmops-bot. */
  readonly login?: string;
  /** The bot's token is a GitHub App installation token: GET /user answers 403, as GitHub does. */
  readonly appToken?: boolean;
  /** Other accounts: token → login. */
  readonly accounts?: Readonly<Record<string, string>>;
  /** The stand-in's clock (created, merged times). Default: real time. */
  readonly clock?: () => Date;
  /** Access per login (the bot has write access unless listed). Default for others: read, as for anyone on a public repository. */
  readonly permissions?: Readonly<Record<string, StandInPermission>>;
  /** The repository allows auto-merge (Settings → "Allow auto-merge"). Default: true. */
  readonly allowAutoMerge?: boolean;
  /** The base branch's protection requires status checks, so auto-merge has something to wait for. Default: true. */
  readonly requiredChecks?: boolean;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
    readonly headers: Record<string, string> = {},
  ) {
    super(`HTTP ${status}`);
  }
}

const validationFailed = (message: string) =>
  new HttpError(422, { message: 'Validation Failed', documentation_url: 'https://docs.github.com/rest', errors: [{ resource: 'PullRequest', code: 'custom', message }] });

export class GitHubStandIn {
  readonly pulls: StandInPullRequest[] = [];
  readonly issues: StandInIssue[] = [];
  readonly comments: StandInComment[] = [];
  /** Commits made through the Git Data API: SHA → whether GitHub shows it as verified. */
  readonly apiCommits = new Map<string, { verified: boolean; author: string }>();
  readonly requests: RecordedRequest[] = [];
  readonly contractViolations: string[] = [];
  private readonly faults: { fault: Fault; left: number }[] = [];
  private server?: Server;
  private nextId = 1;
  /** Comment ids are GitHub-wide, apart from issue and pull-request numbers. */
  private nextCommentId = 1001;
  private readonly owner: string;
  private readonly repo: string;
  private readonly clock: () => Date;
  url = '';
  /** Branch protection (or a ruleset) on refs matching `pattern`: creating or moving them answers 422 with `message`. */
  protectedRefs?: { readonly pattern: RegExp; readonly message: string };

  constructor(private readonly options: GitHubStandInOptions) {
    [this.owner, this.repo] = options.repository.split('/') as [string, string];
    this.clock = options.clock ?? (() => new Date());
  }

  async start(): Promise<this> {
    this.server = createServer((request, response) => void this.handle(request, response));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  inject(fault: Fault): void {
    this.faults.push({ fault, left: fault.times ?? 1 });
  }

  /** Requests that change something (everything but GET). */
  get writes(): RecordedRequest[] {
    return this.requests.filter((request) => request.method !== 'GET' && request.status < 400);
  }

  /** A person marks a draft ready for review (the web UI's "Ready for review"; GraphQL markPullRequestReadyForReview). */
  markReady(number: number): void {
    const pull = this.pulls.find((candidate) => candidate.number === number);
    if (pull) pull.draft = false;
  }

  /** Merges a pull request into its base as a reviewer would (a real merge commit in the bare repository). */
  async merge(number: number, reviewer = 'octo-reviewer'): Promise<string> {
    const pull = this.pulls.find((candidate) => candidate.number === number);
    if (pull?.state !== 'open') throw new HttpError(405, { message: 'Pull Request is not mergeable', documentation_url: 'https://docs.github.com/rest' });
    // GitHub refuses to merge a draft with 405 "Pull Request is still a draft" (as seen from the API, e.g. lindell/multi-gitter#622).
    if (pull.draft) throw new HttpError(405, { message: 'Pull Request is still a draft', documentation_url: 'https://docs.github.com/rest/pulls/pulls#merge-a-pull-request' });
    const git = (...args: string[]) =>
      run('git', ['-C', this.options.bareRepository, ...args], {
        env: {
          ...process.env,
          GIT_COMMITTER_NAME: reviewer,
          GIT_COMMITTER_EMAIL: `${reviewer}@users.noreply.github.com`,
          GIT_AUTHOR_NAME: reviewer,
          GIT_AUTHOR_EMAIL: `${reviewer}@users.noreply.github.com`,
          GIT_COMMITTER_DATE: this.clock().toISOString(),
          GIT_AUTHOR_DATE: this.clock().toISOString(),
        },
      });
    const base = (await git('rev-parse', `refs/heads/${pull.base}`)).stdout.trim();
    const head = (await git('rev-parse', `refs/heads/${pull.head}`)).stdout.trim();
    let tree: string;
    try {
      tree = (await git('merge-tree', '--write-tree', base, head)).stdout.trim().split('\n')[0]!;
    } catch {
      throw new HttpError(405, { message: 'Merge conflict', documentation_url: 'https://docs.github.com/rest' });
    }
    const sha = (await git('commit-tree', tree, '-p', base, '-p', head, '-m', `Merge pull request #${number} from ${this.owner}/${pull.head}\n\n${pull.title}`)).stdout.trim();
    await git('update-ref', `refs/heads/${pull.base}`, sha, base);
    Object.assign(pull, { state: 'closed', mergedAt: this.clock().toISOString(), closedAt: this.clock().toISOString(), mergeSha: sha, updatedAt: this.clock().toISOString() });
    return sha;
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    const method = request.method ?? 'GET';
    let status = 500;
    let payload: unknown;
    let headers: Record<string, string> = {};
    let matched: MatchedOperation<StandInOperation> | undefined;
    const fault = this.takeFault(method);
    try {
      const text = await new Promise<string>((resolve) => {
        let data = '';
        request.on('data', (chunk) => (data += chunk));
        request.on('end', () => resolve(data));
      });
      if (fault?.delayMs) await new Promise((resolve) => setTimeout(resolve, fault.delayMs));
      if (fault?.status) throw this.faultError(fault);
      const token = /^(token|bearer) /i.test(request.headers.authorization ?? '') ? request.headers.authorization!.split(' ')[1]! : '';
      const caller = token === this.options.token ? this.botLogin : this.options.accounts?.[token];
      if (caller === undefined) throw new HttpError(401, { message: 'Bad credentials', documentation_url: 'https://docs.github.com/rest' });
      if (method === 'POST' && url.pathname === '/graphql') {
        ({ status, payload } = { status: 200, payload: await this.graphql(text, caller) });
        this.requests.push({ method, path: url.pathname, status });
        response.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
        response.end(JSON.stringify(payload));
        return;
      }
      matched = matchOperation(method, url.pathname, STAND_IN_OPERATIONS);
      if (!matched) {
        // GitHub may well serve it: the stand-in's 404 would be its own invention, not GitHub's answer.
        this.contractViolations.push(`${method} ${url.pathname}: the stand-in serves no such operation (src/testing/github-api/operations.ts)`);
        throw new HttpError(404, { message: 'Not Found', documentation_url: 'https://docs.github.com/rest' });
      }
      const body = text ? JSON.parse(text) : undefined;
      const problems = requestViolations(matched, url.searchParams, body);
      if (problems.length > 0) throw new HttpError(422, { message: `Invalid request.\n\n${problems.join('\n')}`, documentation_url: 'https://docs.github.com/rest' });
      if (matched.params.owner !== undefined && (matched.params.owner !== this.owner || matched.params.repo !== this.repo))
        throw new HttpError(404, { message: 'Not Found', documentation_url: 'https://docs.github.com/rest' });
      ({ status, payload, headers } = await this.route(matched, url.searchParams, body, caller, token === this.options.token && this.options.appToken === true));
      for (const problem of responseViolations(matched, status, payload)) this.contractViolations.push(`${method} ${url.pathname}: ${problem}`);
    } catch (error) {
      if (!(error instanceof HttpError)) {
        this.contractViolations.push(`${method} ${url.pathname}: stand-in failure ${String(error)}`);
        [status, payload] = [500, { message: 'Server Error' }];
      } else {
        [status, payload, headers] = [error.status, error.body, error.headers];
        // Rate limits, 5xx and auth failures are GitHub-wide answers, not described per operation.
        if (matched && ![401, 403, 429, 500, 502, 503].includes(status))
          for (const problem of responseViolations(matched, status, payload)) this.contractViolations.push(`${method} ${url.pathname}: ${problem}`);
      }
    }
    this.requests.push({ method, path: url.pathname + url.search, status });
    const reset = Math.floor(Date.now() / 1000) + 3600;
    response.writeHead(status, {
      'content-type': 'application/json; charset=utf-8',
      'x-ratelimit-limit': '5000',
      'x-ratelimit-remaining': '4999',
      'x-ratelimit-reset': String(reset),
      'x-ratelimit-used': '1',
      'x-ratelimit-resource': 'core',
      'x-github-api-version-selected': '2022-11-28',
      ...headers,
    });
    response.end(payload === undefined ? '' : JSON.stringify(payload));
  }

  private takeFault(method: string): Fault | undefined {
    const entry = this.faults.find((candidate) => candidate.left > 0 && (!candidate.fault.method || candidate.fault.method === method));
    if (!entry) return undefined;
    entry.left -= 1;
    return entry.fault;
  }

  private faultError(fault: Fault): HttpError {
    const retryAfter: Record<string, string> = fault.retryAfterSeconds === undefined ? {} : { 'retry-after': String(fault.retryAfterSeconds) };
    if (fault.status === 403 || fault.status === 429) {
      return new HttpError(
        fault.status,
        {
          message: 'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.',
          documentation_url: 'https://docs.github.com/rest/overview/rate-limits-for-the-rest-api',
        },
        retryAfter,
      );
    }
    return new HttpError(fault.status!, { message: 'Server Error' }, retryAfter);
  }

  private async branchSha(branch: string): Promise<string | undefined> {
    try {
      return (await run('git', ['-C', this.options.bareRepository, 'rev-parse', '--verify', `refs/heads/${branch}`])).stdout.trim();
    } catch {
      return undefined;
    }
  }

  private get botLogin(): string {
    return this.options.login ?? 'llmops-bot';
  }

  /** `owner:branch` of a pull request's head. */
  private headLabel(pull: StandInPullRequest): string {
    return `${(pull.headRepository ?? `${this.owner}/${this.repo}`).split('/')[0]}:${pull.head}`;
  }

  private async route(
    matched: MatchedOperation<StandInOperation>,
    query: URLSearchParams,
    body: any,
    caller: string,
    appToken: boolean,
  ): Promise<{ status: number; payload: unknown; headers: Record<string, string> }> {
    const ok = (payload: unknown, status = 200, headers: Record<string, string> = {}) => ({ status, payload, headers });
    const notFound = () => new HttpError(404, { message: 'Not Found', documentation_url: 'https://docs.github.com/rest' });
    const pull = (number: string | undefined) => {
      const found = this.pulls.find((candidate) => candidate.number === Number(number));
      if (!found) throw notFound();
      return found;
    };
    // Comments and labels belong to issues and pull requests alike.
    const thread = (number: string | undefined) => {
      const found = this.pulls.find((candidate) => candidate.number === Number(number)) ?? this.issues.find((candidate) => candidate.number === Number(number));
      if (!found) throw notFound();
      return found;
    };
    const write = () => {
      if (!['admin', 'write'].includes(this.permissionOf(caller)))
        throw new HttpError(403, { message: 'Resource not accessible by personal access token', documentation_url: 'https://docs.github.com/rest' });
    };
    const now = this.clock().toISOString();
    switch (matched.key) {
      case 'get /user':
        if (appToken)
          throw new HttpError(403, { message: 'Resource not accessible by integration', documentation_url: 'https://docs.github.com/rest/users/users#get-the-authenticated-user', status: '403' });
        return ok({ ...exampleOf('public-user'), login: caller, user_view_type: 'public', type: 'User' });
      case 'get /repos/{owner}/{repo}/pulls': {
        const state = query.get('state') ?? 'open';
        const head = query.get('head');
        // GitHub's default: newest first when sorting by creation (the default sort), else ascending.
        const direction = query.get('direction') ?? (!query.get('sort') || query.get('sort') === 'created' ? 'desc' : 'asc');
        let found = this.pulls.filter(
          (candidate) => (state === 'all' || candidate.state === state) && (!head || this.headLabel(candidate) === head) && (!query.get('base') || candidate.base === query.get('base')),
        );
        found = found.sort((a, b) => (direction === 'asc' ? a.number - b.number : b.number - a.number));
        const perPage = Number(query.get('per_page') ?? 30);
        const page = Number(query.get('page') ?? 1);
        const slice = found.slice((page - 1) * perPage, page * perPage);
        const headers: Record<string, string> = {};
        if (page * perPage < found.length) {
          const next = new URLSearchParams(query);
          next.set('page', String(page + 1));
          headers.link = `<${this.url}/repos/${this.owner}/${this.repo}/pulls?${next}>; rel="next"`;
        }
        return ok(await Promise.all(slice.map((candidate) => this.pullJson(candidate, true))), 200, headers);
      }
      case 'post /repos/{owner}/{repo}/pulls': {
        // `head` is `branch` or `owner:branch`; another owner's is a fork, whose branches live elsewhere.
        const [headOwner, branch] = String(body.head).includes(':') ? (String(body.head).split(':') as [string, string]) : [this.owner, String(body.head)];
        const fromFork = headOwner !== this.owner;
        if (!fromFork && !(await this.branchSha(branch))) throw validationFailed(`head ${body.head} does not exist`);
        if (!(await this.branchSha(body.base))) throw validationFailed(`base ${body.base} does not exist`);
        if (this.pulls.some((candidate) => candidate.state === 'open' && this.headLabel(candidate) === `${headOwner}:${branch}` && candidate.base === body.base)) {
          throw validationFailed(`A pull request already exists for ${headOwner}:${branch}.`);
        }
        const created: StandInPullRequest = {
          number: this.nextId++,
          author: caller,
          headRepository: `${headOwner}/${this.repo}`,
          title: body.title,
          body: body.body ?? '',
          head: branch,
          base: body.base,
          state: 'open',
          labels: [],
          createdAt: now,
          updatedAt: now,
          ...(body.draft === true ? { draft: true } : {}),
        };
        this.pulls.push(created);
        return ok(await this.pullJson(created), 201);
      }
      case 'get /repos/{owner}/{repo}/pulls/{pull_number}':
        return ok(await this.pullJson(pull(matched.params.pull_number)));
      case 'patch /repos/{owner}/{repo}/pulls/{pull_number}': {
        const found = pull(matched.params.pull_number);
        if (body.title !== undefined) found.title = body.title;
        if (body.body !== undefined) found.body = body.body;
        if (body.state !== undefined) Object.assign(found, { state: body.state, closedAt: body.state === 'closed' ? now : undefined });
        found.updatedAt = now;
        return ok(await this.pullJson(found));
      }
      case 'put /repos/{owner}/{repo}/pulls/{pull_number}/merge': {
        const sha = await this.merge(Number(matched.params.pull_number));
        return ok({ sha, merged: true, message: 'Pull Request successfully merged' });
      }
      case 'post /repos/{owner}/{repo}/issues/{issue_number}/labels': {
        const found = thread(matched.params.issue_number);
        const names: string[] = Array.isArray(body) ? body : (body.labels ?? []).map((label: string | { name: string }) => (typeof label === 'string' ? label : label.name));
        for (const name of names) if (!found.labels.includes(name)) found.labels.push(name);
        return ok(found.labels.map((name) => this.labelJson(name)));
      }
      case 'get /repos/{owner}/{repo}/issues/{issue_number}/comments':
        thread(matched.params.issue_number);
        return ok(this.comments.filter((comment) => comment.issue === Number(matched.params.issue_number)).map((comment) => this.commentJson(comment)));
      case 'post /repos/{owner}/{repo}/issues/{issue_number}/comments': {
        const found = thread(matched.params.issue_number);
        const comment: StandInComment = { id: this.nextCommentId++, issue: found.number, body: body.body, user: caller };
        this.comments.push(comment);
        return ok(this.commentJson(comment), 201);
      }
      case 'patch /repos/{owner}/{repo}/issues/comments/{comment_id}': {
        const comment = this.comments.find((candidate) => candidate.id === Number(matched.params.comment_id));
        if (!comment) throw new HttpError(404, { message: 'Not Found', documentation_url: 'https://docs.github.com/rest' });
        comment.body = body.body;
        return ok(this.commentJson(comment));
      }
      case 'get /repos/{owner}/{repo}/issues': {
        const state = query.get('state') ?? 'open';
        const creator = query.get('creator');
        const threads = [...this.issues, ...this.pulls].filter((candidate) => (state === 'all' || candidate.state === state) && (!creator || (candidate.author ?? this.botLogin) === creator));
        // GitHub's default: newest first.
        const sorted = threads.sort((a, b) => (query.get('direction') === 'asc' ? a.number - b.number : b.number - a.number));
        const perPage = Number(query.get('per_page') ?? 30);
        const page = Number(query.get('page') ?? 1);
        const headers: Record<string, string> = {};
        if (page * perPage < sorted.length) {
          const next = new URLSearchParams(query);
          next.set('page', String(page + 1));
          headers.link = `<${this.url}/repos/${this.owner}/${this.repo}/issues?${next}>; rel="next"`;
        }
        return ok(
          sorted.slice((page - 1) * perPage, page * perPage).map((candidate) => this.issueJson(candidate)),
          200,
          headers,
        );
      }
      case 'post /repos/{owner}/{repo}/issues': {
        // Anyone who can read a repository with issues enabled may open one.
        if (this.permissionOf(caller) === 'none') write();
        const created: StandInIssue = { number: this.nextId++, author: caller, title: body.title, body: body.body ?? '', state: 'open', labels: [], createdAt: now, updatedAt: now };
        this.issues.push(created);
        return ok(this.issueJson(created), 201);
      }
      case 'get /repos/{owner}/{repo}/issues/{issue_number}':
        return ok(this.issueJson(thread(matched.params.issue_number)));
      case 'patch /repos/{owner}/{repo}/issues/{issue_number}': {
        const found = thread(matched.params.issue_number);
        if ((found.author ?? this.botLogin) !== caller) write();
        if (body.title !== undefined) found.title = body.title;
        if (body.body !== undefined) found.body = body.body;
        if (body.state !== undefined) Object.assign(found, { state: body.state, closedAt: body.state === 'closed' ? now : undefined });
        found.updatedAt = now;
        return ok(this.issueJson(found));
      }
      case 'get /repos/{owner}/{repo}/collaborators/{username}/permission': {
        const permission = this.permissionOf(matched.params.username!);
        const role = { admin: 'admin', write: 'write', read: 'read', none: 'none' }[permission];
        return ok({
          permission,
          role_name: role,
          user: {
            ...exampleOf('nullable-collaborator'),
            login: matched.params.username,
            permissions: { admin: permission === 'admin', maintain: false, push: permission === 'admin' || permission === 'write', triage: permission !== 'none', pull: permission !== 'none' },
            role_name: role,
          },
        });
      }
      case 'post /repos/{owner}/{repo}/pulls/{pull_number}/requested_reviewers': {
        write();
        const found = pull(matched.params.pull_number);
        found.requestedReviewers = [...new Set([...(found.requestedReviewers ?? []), ...(body.reviewers ?? [])])];
        found.requestedTeams = [...new Set([...(found.requestedTeams ?? []), ...(body.team_reviewers ?? [])])];
        return ok(await this.pullJson(found, true), 201);
      }
      case 'post /repos/{owner}/{repo}/git/blobs': {
        write();
        const content = Buffer.from(body.content, body.encoding === 'base64' ? 'base64' : 'utf8');
        const sha = (await this.gitInput(content, 'hash-object', '-w', '--stdin')).trim();
        return ok({ sha, url: `${this.url}/repos/${this.owner}/${this.repo}/git/blobs/${sha}` }, 201);
      }
      case 'post /repos/{owner}/{repo}/git/trees':
        write();
        return ok(await this.createTree(body), 201);
      case 'post /repos/{owner}/{repo}/git/commits':
        write();
        return ok(await this.createCommit(body, caller), 201);
      case 'get /repos/{owner}/{repo}/git/ref/{ref}': {
        const sha = await this.branchSha(matched.params.ref!.replace(/^heads\//, ''));
        if (!matched.params.ref!.startsWith('heads/') || !sha) throw notFound();
        return ok(this.refJson(`refs/${matched.params.ref}`, sha));
      }
      case 'post /repos/{owner}/{repo}/git/refs': {
        write();
        const ref = String(body.ref);
        if (!/^refs\/heads\/./.test(ref)) throw validationFailed(`${ref} is not a valid ref name`);
        // GitHub answers an existing ref with its own 422 message, not "Validation Failed".
        if (await this.branchSha(ref.slice('refs/heads/'.length)))
          throw new HttpError(422, { message: 'Reference already exists', documentation_url: 'https://docs.github.com/rest/git/refs#create-a-reference' });
        if (this.protectedRefs?.pattern.test(ref)) throw new HttpError(422, { message: this.protectedRefs.message, documentation_url: 'https://docs.github.com/rest/git/refs#create-a-reference' });
        // Two creations at once: the one that loses git's lock finds the reference there.
        await this.git('update-ref', ref, body.sha, '').catch(() => {
          throw new HttpError(422, { message: 'Reference already exists', documentation_url: 'https://docs.github.com/rest/git/refs#create-a-reference' });
        });
        return ok(this.refJson(ref, body.sha), 201);
      }
      case 'patch /repos/{owner}/{repo}/git/refs/{ref}': {
        write();
        const ref = `refs/${matched.params.ref}`;
        const old = await this.branchSha(matched.params.ref!.replace(/^heads\//, ''));
        if (!old) throw validationFailed('Reference does not exist');
        if (!body.force && !(await this.isAncestor(old, body.sha))) throw validationFailed('Update is not a fast forward');
        if (this.protectedRefs?.pattern.test(ref)) throw new HttpError(422, { message: this.protectedRefs.message, documentation_url: 'https://docs.github.com/rest/git/refs#update-a-reference' });
        // force: whatever the ref holds now; otherwise only from the commit checked above.
        await this.git('update-ref', ref, body.sha, ...(body.force ? [] : [old])).catch(() => {
          throw validationFailed('Update is not a fast forward');
        });
        return ok(this.refJson(ref, body.sha));
      }
      default: {
        // Every listed operation has its case: the compiler rejects a list entry without one.
        const unrouted: never = matched.key;
        throw new Error(`no route for ${String(unrouted)}`);
      }
    }
  }

  /** A login's access: the bot writes; the others as configured, read by default. */
  permissionOf(login: string): StandInPermission {
    return this.options.permissions?.[login] ?? (login === this.botLogin ? 'write' : 'read');
  }

  /** The noreply e-mail GitHub gives an account (`<id>+<login>@users.noreply.github.com`). */
  noreplyEmail(login: string): string {
    return `${100_000 + [...login].reduce((sum, character) => sum + character.charCodeAt(0), 0)}+${login}@users.noreply.github.com`;
  }

  private async git(...args: string[]): Promise<string> {
    return (await run('git', ['-C', this.options.bareRepository, ...args])).stdout;
  }

  /** Runs git with `input` on standard input. */
  private gitInput(input: Buffer | string, ...args: string[]): Promise<string> {
    return this.gitWith({}, input, ...args);
  }

  private gitWith(env: Record<string, string>, input: Buffer | string | undefined, ...args: string[]): Promise<string> {
    if (input === undefined) return run('git', ['-C', this.options.bareRepository, ...args], { env: { ...process.env, ...env } }).then(({ stdout }) => stdout);
    return new Promise((resolve, reject) => {
      const child = spawn('git', ['-C', this.options.bareRepository, ...args], { env: { ...process.env, ...env } });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
      child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
      child.on('error', reject);
      child.on('close', (code) => (code === 0 ? resolve(Buffer.concat(out).toString('utf8')) : reject(new Error(`git ${args.join(' ')}: ${Buffer.concat(err).toString('utf8')}`))));
      // git may exit (on an error) before reading everything: its answer says what went wrong, not the broken pipe.
      child.stdin.on('error', () => {});
      child.stdin.end(input);
    });
  }

  private async isAncestor(ancestor: string, descendant: string): Promise<boolean> {
    try {
      await this.git('merge-base', '--is-ancestor', ancestor, descendant);
      return true;
    } catch {
      return false;
    }
  }

  private async objectType(sha: string): Promise<string | undefined> {
    try {
      return (await this.git('cat-file', '-t', sha)).trim();
    } catch {
      return undefined;
    }
  }

  /** POST /git/trees: the base tree with the entries applied, written through a throw-away index. */
  private async createTree(body: { base_tree?: string; tree: { path: string; mode: string; type?: string; sha?: string | null; content?: string }[] }) {
    if (body.base_tree && (await this.objectType(body.base_tree)) !== 'tree' && (await this.objectType(body.base_tree)) !== 'commit') throw validationFailed('base_tree is not a valid tree oid');
    const folder = await mkdtemp(path.join(tmpdir(), 'llmops-standin-index-'));
    const env = { GIT_INDEX_FILE: path.join(folder, 'index') };
    try {
      await this.gitWith(env, undefined, 'read-tree', ...(body.base_tree ? [body.base_tree] : ['--empty']));
      // --index-info works without a work tree (a bare repository); mode 0 removes a path.
      const lines: string[] = [];
      for (const entry of body.tree) {
        if (entry.sha === null) {
          lines.push(`0 ${'0'.repeat(40)}\t${entry.path}`);
          continue;
        }
        const sha = entry.sha ?? (await this.gitInput(entry.content ?? '', 'hash-object', '-w', '--stdin')).trim();
        if ((await this.objectType(sha)) !== 'blob') throw validationFailed(`tree.sha ${sha} is not a valid blob`);
        lines.push(`${entry.mode} ${sha}\t${entry.path}`);
      }
      if (lines.length > 0) await this.gitWith(env, `${lines.join('\n')}\n`, 'update-index', '--index-info');
      const tree = (await this.gitWith(env, undefined, 'write-tree')).trim();
      const listing = (await this.git('ls-tree', '-l', tree)).split('\n').filter(Boolean);
      return {
        sha: tree,
        url: `${this.url}/repos/${this.owner}/${this.repo}/git/trees/${tree}`,
        truncated: false,
        tree: listing.map((line) => {
          const [meta, name] = line.split('\t') as [string, string];
          const [mode, type, sha, size] = meta.split(/\s+/) as [string, string, string, string];
          return { path: name, mode, type, sha, ...(type === 'blob' ? { size: Number(size) } : {}), url: `${this.url}/repos/${this.owner}/${this.repo}/git/${type}s/${sha}` };
        }),
      };
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  }

  /** POST /git/commits: a real commit object; the token's own identity unless author or committer are given (then unsigned). */
  private async createCommit(
    body: {
      message: string;
      tree: string;
      parents?: string[];
      author?: { name: string; email: string; date?: string };
      committer?: { name: string; email: string; date?: string };
      signature?: string;
    },
    caller: string,
  ) {
    if ((await this.objectType(body.tree)) !== 'tree') throw validationFailed('Tree SHA does not exist');
    for (const parent of body.parents ?? []) if ((await this.objectType(parent)) !== 'commit') throw validationFailed('Parent SHA does not exist or is not a commit object');
    const date = this.clock().toISOString();
    const author = { name: body.author?.name ?? caller, email: body.author?.email ?? this.noreplyEmail(caller), date: body.author?.date ?? date };
    const committer = { name: body.committer?.name ?? author.name, email: body.committer?.email ?? author.email, date: body.committer?.date ?? date };
    const env = {
      GIT_AUTHOR_NAME: author.name,
      GIT_AUTHOR_EMAIL: author.email,
      GIT_AUTHOR_DATE: author.date,
      GIT_COMMITTER_NAME: committer.name,
      GIT_COMMITTER_EMAIL: committer.email,
      GIT_COMMITTER_DATE: committer.date,
    };
    const sha = (await this.gitWith(env, body.message, 'commit-tree', body.tree, ...(body.parents ?? []).flatMap((parent) => ['-p', parent]))).trim();
    // GitHub signs a commit an App makes through the API without custom author, committer or signature.
    const verified = !body.author && !body.committer && !body.signature;
    this.apiCommits.set(sha, { verified, author: `${author.name} <${author.email}>` });
    const commitUrl = (commit: string) => `${this.url}/repos/${this.owner}/${this.repo}/git/commits/${commit}`;
    return {
      sha,
      node_id: `C_${sha.slice(0, 16)}`,
      url: commitUrl(sha),
      html_url: `https://github.com/${this.owner}/${this.repo}/commit/${sha}`,
      author,
      committer,
      tree: { sha: body.tree, url: `${this.url}/repos/${this.owner}/${this.repo}/git/trees/${body.tree}` },
      message: body.message,
      parents: (body.parents ?? []).map((parent) => ({ sha: parent, url: commitUrl(parent), html_url: `https://github.com/${this.owner}/${this.repo}/commit/${parent}` })),
      verification: verified
        ? { verified: true, reason: 'valid', signature: '-----BEGIN PGP SIGNATURE-----\n(stand-in)\n-----END PGP SIGNATURE-----', payload: body.message, verified_at: date }
        : { verified: false, reason: 'unsigned', signature: null, payload: null, verified_at: null },
    };
  }

  private refJson(ref: string, sha: string) {
    return {
      ref,
      node_id: `REF_${Buffer.from(ref).toString('base64url')}`,
      url: `${this.url}/repos/${this.owner}/${this.repo}/git/${ref}`,
      object: { type: 'commit', sha, url: `${this.url}/repos/${this.owner}/${this.repo}/git/commits/${sha}` },
    };
  }

  private issueJson(thread: StandInIssue | StandInPullRequest) {
    const isPull = 'head' in thread;
    const html = `https://github.com/${this.owner}/${this.repo}/${isPull ? 'pull' : 'issues'}/${thread.number}`;
    return {
      ...exampleOf('issue'),
      id: thread.number,
      node_id: `I_${thread.number}`,
      number: thread.number,
      title: thread.title,
      body: thread.body,
      state: thread.state,
      labels: thread.labels.map((name) => this.labelJson(name)),
      user: { ...exampleOf('simple-user'), login: thread.author ?? this.botLogin },
      created_at: thread.createdAt,
      updated_at: thread.updatedAt,
      closed_at: thread.closedAt ?? null,
      html_url: html,
      url: `${this.url}/repos/${this.owner}/${this.repo}/issues/${thread.number}`,
      ...(isPull
        ? {
            pull_request: {
              url: `${this.url}/repos/${this.owner}/${this.repo}/pulls/${thread.number}`,
              html_url: html,
              diff_url: `${html}.diff`,
              patch_url: `${html}.patch`,
              merged_at: thread.mergedAt ?? null,
            },
          }
        : {}),
    };
  }

  /** POST /graphql: the document validated and executed against GitHub's schema; the one mutation the bot uses is served. */
  private async graphql(text: string, caller: string): Promise<unknown> {
    const request = JSON.parse(text || '{}') as { query?: string; variables?: Record<string, unknown> };
    return executeGraphQL(request, {
      enablePullRequestAutoMerge: async ({ input }: { input: { pullRequestId: string; expectedHeadOid?: string; mergeMethod?: 'MERGE' | 'SQUASH' | 'REBASE' } }) => {
        const found = this.pulls.find((candidate) => this.pullNodeId(candidate) === input.pullRequestId);
        if (!found) throw new Error(`Could not resolve to a node with the global id of '${input.pullRequestId}'`);
        if (!['admin', 'write'].includes(this.permissionOf(caller))) throw new Error(`${caller} does not have the correct permissions to execute \`EnablePullRequestAutoMerge\``);
        if (this.options.allowAutoMerge === false) throw new Error('Pull request Auto merge is not allowed for this repository');
        if (found.state !== 'open') throw new Error('Pull request is not open');
        // Without required checks the pull request is mergeable now ("clean"): there is nothing for auto-merge to wait for.
        if (this.options.requiredChecks === false) throw new Error('Pull request is in clean status');
        const head = await this.branchSha(found.head);
        if (input.expectedHeadOid && input.expectedHeadOid !== head) throw new Error('Head sha did not match the expected head oid');
        found.autoMerge = { enabledBy: caller, mergeMethod: input.mergeMethod ?? 'MERGE', enabledAt: this.clock().toISOString() };
        return { clientMutationId: null, pullRequest: { number: found.number, autoMergeRequest: { enabledAt: found.autoMerge.enabledAt, mergeMethod: found.autoMerge.mergeMethod } } };
      },
    });
  }

  private pullNodeId(pull: StandInPullRequest): string {
    return `PR_kwDO${Buffer.from(`${this.owner}/${this.repo}#${pull.number}`).toString('base64url')}`;
  }

  private labelJson(name: string) {
    return { ...exampleOf('label'), id: name.length, name, url: `${this.url}/repos/${this.owner}/${this.repo}/labels/${encodeURIComponent(name)}`, color: 'ededed', default: false, description: '' };
  }

  private commentJson(comment: StandInComment) {
    return {
      ...exampleOf('issue-comment'),
      id: comment.id,
      body: comment.body,
      user: { ...exampleOf('simple-user'), login: comment.user },
      html_url: `https://github.com/${this.owner}/${this.repo}/pull/${comment.issue}#issuecomment-${comment.id}`,
      issue_url: `${this.url}/repos/${this.owner}/${this.repo}/issues/${comment.issue}`,
    };
  }

  private async pullJson(pull: StandInPullRequest, simple = false) {
    const base = `${this.url}/repos/${this.owner}/${this.repo}`;
    const repository = { ...exampleOf('repository'), name: this.repo, full_name: `${this.owner}/${this.repo}`, owner: { ...exampleOf('simple-user'), login: this.owner } };
    const ref = async (branch: string, repositoryName = `${this.owner}/${this.repo}`) => {
      const owner = repositoryName.split('/')[0]!;
      const local = repositoryName === `${this.owner}/${this.repo}`;
      return {
        label: `${owner}:${branch}`,
        ref: branch,
        sha: (local ? await this.branchSha(branch) : undefined) ?? pull.mergeSha ?? '0'.repeat(40),
        repo: { ...repository, full_name: repositoryName, owner: { ...exampleOf('simple-user'), login: owner }, fork: !local },
        user: { ...exampleOf('simple-user'), login: owner },
      };
    };
    return {
      ...exampleOf(simple ? 'pull-request-simple' : 'pull-request'),
      id: pull.number,
      node_id: this.pullNodeId(pull),
      number: pull.number,
      title: pull.title,
      body: pull.body,
      state: pull.state,
      labels: pull.labels.map((name) => this.labelJson(name)),
      head: await ref(pull.head, pull.headRepository),
      base: await ref(pull.base),
      created_at: pull.createdAt,
      updated_at: pull.updatedAt,
      closed_at: pull.closedAt ?? null,
      merged_at: pull.mergedAt ?? null,
      merge_commit_sha: pull.mergeSha ?? null,
      user: { ...exampleOf('simple-user'), login: pull.author ?? this.botLogin },
      requested_reviewers: (pull.requestedReviewers ?? []).map((login) => ({ ...exampleOf('simple-user'), login })),
      requested_teams: (pull.requestedTeams ?? []).map((slug) => ({ ...exampleOf('team'), slug, name: slug })),
      draft: pull.draft ?? false,
      auto_merge: pull.autoMerge
        ? { enabled_by: { ...exampleOf('simple-user'), login: pull.autoMerge.enabledBy }, merge_method: pull.autoMerge.mergeMethod.toLowerCase(), commit_title: '', commit_message: '' }
        : null,
      url: `${base}/pulls/${pull.number}`,
      html_url: `https://github.com/${this.owner}/${this.repo}/pull/${pull.number}`,
      ...(simple ? {} : { merged: pull.mergedAt !== undefined, mergeable: pull.state === 'open' ? true : null }),
    };
  }
}
