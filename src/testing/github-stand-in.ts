/**
 * A local stand-in for the GitHub REST endpoints the bot uses, on 127.0.0.1,
 * backed by a real bare git repository. Every request and response is checked
 * against GitHub's published OpenAPI description; a request the description
 * rejects gets GitHub's 422, a response that would break it is recorded as a
 * contract violation (tests assert there are none). Faults — secondary rate
 * limits (403), 429, 5xx, slow responses — can be injected per request.
 * Several accounts can call it (the bot and, say, an attacker), each with its
 * token; pull requests carry their author and the repository of their head
 * branch (this one, or a fork), as GitHub reports them.
 */
import { execFile } from 'node:child_process';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { exampleOf, matchOperation, requestViolations, responseViolations, type MatchedOperation } from './github-openapi.ts';

const run = promisify(execFile);

/** The endpoints served (templates of the OpenAPI description). */
const TEMPLATES = [
  '/user',
  '/repos/{owner}/{repo}/pulls',
  '/repos/{owner}/{repo}/pulls/{pull_number}',
  '/repos/{owner}/{repo}/pulls/{pull_number}/merge',
  '/repos/{owner}/{repo}/issues/{issue_number}/labels',
  '/repos/{owner}/{repo}/issues/{issue_number}/comments',
  '/repos/{owner}/{repo}/issues/comments/{comment_id}',
];

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

const validationFailed = (message: string) => new HttpError(422, { message: 'Validation Failed', documentation_url: 'https://docs.github.com/rest', errors: [{ resource: 'PullRequest', code: 'custom', message }] });

export class GitHubStandIn {
  readonly pulls: StandInPullRequest[] = [];
  readonly comments: StandInComment[] = [];
  readonly requests: RecordedRequest[] = [];
  readonly contractViolations: string[] = [];
  private readonly faults: { fault: Fault; left: number }[] = [];
  private server?: Server;
  private nextId = 1;
  private readonly owner: string;
  private readonly repo: string;
  private readonly clock: () => Date;
  url = '';

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

  /** Merges a pull request into its base as a reviewer would (a real merge commit in the bare repository). */
  async merge(number: number, reviewer = 'octo-reviewer'): Promise<string> {
    const pull = this.pulls.find((candidate) => candidate.number === number);
    if (!pull || pull.state !== 'open') throw new HttpError(405, { message: 'Pull Request is not mergeable', documentation_url: 'https://docs.github.com/rest' });
    const git = (...args: string[]) => run('git', ['-C', this.options.bareRepository, ...args], { env: { ...process.env, GIT_COMMITTER_NAME: reviewer, GIT_COMMITTER_EMAIL: `${reviewer}@users.noreply.github.com`, GIT_AUTHOR_NAME: reviewer, GIT_AUTHOR_EMAIL: `${reviewer}@users.noreply.github.com`, GIT_COMMITTER_DATE: this.clock().toISOString(), GIT_AUTHOR_DATE: this.clock().toISOString() } });
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
      const matched = matchOperation(method, url.pathname, TEMPLATES);
      if (!matched) throw new HttpError(404, { message: 'Not Found', documentation_url: 'https://docs.github.com/rest' });
      const body = text ? JSON.parse(text) : undefined;
      const problems = requestViolations(matched, url.searchParams, body);
      if (problems.length > 0) throw new HttpError(422, { message: `Invalid request.\n\n${problems.join('\n')}`, documentation_url: 'https://docs.github.com/rest' });
      if (matched.params.owner !== undefined && (matched.params.owner !== this.owner || matched.params.repo !== this.repo)) throw new HttpError(404, { message: 'Not Found', documentation_url: 'https://docs.github.com/rest' });
      ({ status, payload, headers } = await this.route(matched, url.searchParams, body, caller, token === this.options.token && this.options.appToken === true));
      for (const problem of responseViolations(matched, status, payload)) this.contractViolations.push(`${method} ${url.pathname}: ${problem}`);
    } catch (error) {
      if (!(error instanceof HttpError)) {
        this.contractViolations.push(`${method} ${url.pathname}: stand-in failure ${String(error)}`);
        [status, payload] = [500, { message: 'Server Error' }];
      } else {
        [status, payload, headers] = [error.status, error.body, error.headers];
        const matched = matchOperation(method, url.pathname, TEMPLATES);
        // Rate limits, 5xx and auth failures are GitHub-wide answers, not described per operation.
        if (matched && ![401, 403, 429, 500, 502, 503].includes(status)) for (const problem of responseViolations(matched, status, payload)) this.contractViolations.push(`${method} ${url.pathname}: ${problem}`);
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
      return new HttpError(fault.status, { message: 'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.', documentation_url: 'https://docs.github.com/rest/overview/rate-limits-for-the-rest-api' }, retryAfter);
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

  private async route(matched: MatchedOperation, query: URLSearchParams, body: any, caller: string, appToken: boolean): Promise<{ status: number; payload: unknown; headers: Record<string, string> }> {
    const ok = (payload: unknown, status = 200, headers: Record<string, string> = {}) => ({ status, payload, headers });
    const key = `${matched.method} ${matched.template.replace('/repos/{owner}/{repo}', '')}`;
    const pull = (number: string | undefined) => {
      const found = this.pulls.find((candidate) => candidate.number === Number(number));
      if (!found) throw new HttpError(404, { message: 'Not Found', documentation_url: 'https://docs.github.com/rest' });
      return found;
    };
    const now = this.clock().toISOString();
    switch (key) {
      case 'get /user':
        if (appToken) throw new HttpError(403, { message: 'Resource not accessible by integration', documentation_url: 'https://docs.github.com/rest/users/users#get-the-authenticated-user', status: '403' });
        return ok({ ...exampleOf('public-user'), login: caller, user_view_type: 'public', type: 'User' });
      case 'get /pulls': {
        const state = query.get('state') ?? 'open';
        const head = query.get('head');
        // GitHub's default: newest first when sorting by creation (the default sort), else ascending.
        const direction = query.get('direction') ?? (!query.get('sort') || query.get('sort') === 'created' ? 'desc' : 'asc');
        let found = this.pulls.filter((candidate) => (state === 'all' || candidate.state === state) && (!head || this.headLabel(candidate) === head) && (!query.get('base') || candidate.base === query.get('base')));
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
      case 'post /pulls': {
        // `head` is `branch` or `owner:branch`; another owner's is a fork, whose branches live elsewhere.
        const [headOwner, branch] = String(body.head).includes(':') ? String(body.head).split(':') as [string, string] : [this.owner, String(body.head)];
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
        };
        this.pulls.push(created);
        return ok(await this.pullJson(created), 201);
      }
      case 'get /pulls/{pull_number}':
        return ok(await this.pullJson(pull(matched.params.pull_number)));
      case 'patch /pulls/{pull_number}': {
        const found = pull(matched.params.pull_number);
        if (body.title !== undefined) found.title = body.title;
        if (body.body !== undefined) found.body = body.body;
        if (body.state !== undefined) Object.assign(found, { state: body.state, closedAt: body.state === 'closed' ? now : undefined });
        found.updatedAt = now;
        return ok(await this.pullJson(found));
      }
      case 'put /pulls/{pull_number}/merge': {
        const sha = await this.merge(Number(matched.params.pull_number));
        return ok({ sha, merged: true, message: 'Pull Request successfully merged' });
      }
      case 'post /issues/{issue_number}/labels': {
        const found = pull(matched.params.issue_number);
        const names: string[] = Array.isArray(body) ? body : (body.labels ?? []).map((label: string | { name: string }) => (typeof label === 'string' ? label : label.name));
        for (const name of names) if (!found.labels.includes(name)) found.labels.push(name);
        return ok(found.labels.map((name) => this.labelJson(name)));
      }
      case 'get /issues/{issue_number}/comments':
        pull(matched.params.issue_number);
        return ok(this.comments.filter((comment) => comment.issue === Number(matched.params.issue_number)).map((comment) => this.commentJson(comment)));
      case 'post /issues/{issue_number}/comments': {
        const found = pull(matched.params.issue_number);
        const comment: StandInComment = { id: this.nextId++, issue: found.number, body: body.body, user: caller };
        this.comments.push(comment);
        return ok(this.commentJson(comment), 201);
      }
      case 'patch /issues/comments/{comment_id}': {
        const comment = this.comments.find((candidate) => candidate.id === Number(matched.params.comment_id));
        if (!comment) throw new HttpError(404, { message: 'Not Found', documentation_url: 'https://docs.github.com/rest' });
        comment.body = body.body;
        return ok(this.commentJson(comment));
      }
      default:
        throw new HttpError(404, { message: 'Not Found', documentation_url: 'https://docs.github.com/rest' });
    }
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
      url: `${base}/pulls/${pull.number}`,
      html_url: `https://github.com/${this.owner}/${this.repo}/pull/${pull.number}`,
      ...(simple ? {} : { merged: pull.mergedAt !== undefined, mergeable: pull.state === 'open' ? true : null }),
    };
  }
}
