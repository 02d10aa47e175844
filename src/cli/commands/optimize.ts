import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, symlink } from 'node:fs/promises';
import { createServer } from 'node:http';
import { isIP } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { BotRepository } from '../../act/bot-repository.ts';
import { runCycle, type CycleReport } from '../../act/cycle.ts';
import { appCredentialsFromEnvironment, GitHubAppError, mintInstallationToken } from '../../act/github-app-token.ts';
import { OptimizerMetrics } from '../../act/metrics.ts';
import { publicBaseUrl } from '../../act/prometheus-links.ts';
import { MIN_SECRET_CHARACTERS } from '../../act/trust.ts';
import { PrometheusError } from '../../prometheus/client.ts';
import { ExitCode } from '../exit-codes.ts';
import { githubApiUrlOf, githubFromEnvironment, githubRepositoryOfUrl, repositoryOf } from '../github-from-env.ts';
import { CliError, type Io } from '../io.ts';
import { durationOption, prometheusOption } from '../prometheus-options.ts';

export interface OptimizeCommandOptions {
  readonly root: string;
  readonly prometheus: string;
  /** One cycle, then exit (a scheduled GitHub Action). */
  readonly once?: boolean;
  /** Cycle every `interval` minutes with /metrics and /healthz on `port`. */
  readonly serve?: boolean;
  readonly interval?: string;
  readonly port?: string;
  /** Address /metrics and /healthz listen on with `serve`. Default: see {@link serveAddress}. */
  readonly host?: string;
  /** No GitHub: bot branches in the local repository, bodies printed. */
  readonly local?: boolean;
  readonly repository?: string;
  readonly githubApiUrl?: string;
  readonly base?: string;
  readonly remote?: string;
  /** Clone this repository into `root` first when `root` is not a git repository yet (a pod starts with an empty volume). */
  readonly clone?: string;
  readonly window?: string;
  readonly recent?: string;
  readonly at?: string;
  /** The Prometheus UI pull requests link to; default LLMOPS_PROMETHEUS_LINK_URL, then --prometheus. */
  readonly prometheusLinkUrl?: string;
}

/** The Prometheus UI reviewers can open (the bot may read an in-cluster address they cannot), without credentials. */
function linkUrl(options: OptimizeCommandOptions): string | undefined {
  const url = options.prometheusLinkUrl ?? (process.env.LLMOPS_PROMETHEUS_LINK_URL || undefined);
  if (url === undefined) return undefined;
  try {
    return publicBaseUrl(url);
  } catch {
    throw new CliError(`--prometheus-link-url: expected a URL such as https://prometheus.example.com (got ${JSON.stringify(url)})`, ExitCode.usage);
  }
}

function printReport(report: CycleReport, io: Io): void {
  for (const outcome of report.outcomes) {
    if (outcome.body) io.out(`\n--- pull request body for ${outcome.deploymentId} (${outcome.detail}) ---\n${outcome.body}\n`);
  }
  const counts = new Map<string, number>();
  for (const outcome of report.outcomes) counts.set(outcome.kind, (counts.get(outcome.kind) ?? 0) + 1);
  io.out(
    `cycle on ${report.baseSha.slice(0, 12)}: ${[...counts].map(([kind, count]) => `${count} ${kind}`).join(', ') || 'nothing to do'}${report.stopped ? ` (stopped: ${report.stopped.split('\n')[0]})` : ''}\n`,
  );
}

/** Key of local branches, whose fingerprints only this checkout reads. */
const LOCAL_SECRET = 'llmops-local-branches-are-yours-only';

/**
 * The bot's key, LLMOPS_BOT_SECRET: it keys fingerprints and commit signatures
 * so that nobody can forge a proposal of the bot's. Required with GitHub.
 */
function botSecret(local: boolean): string {
  const secret = process.env.LLMOPS_BOT_SECRET ?? '';
  if (secret === '' && local) return LOCAL_SECRET;
  if (secret.length < MIN_SECRET_CHARACTERS) {
    throw new CliError(
      `LLMOPS_BOT_SECRET: expected a random secret of at least ${MIN_SECRET_CHARACTERS} characters that only the bot holds (got ${secret === '' ? 'nothing' : `${secret.length} characters`}); it keys the bot's fingerprints and commit signatures so that nobody can forge them. Generate one with \`openssl rand -hex 32\` and store it as a repository secret`,
      ExitCode.usage,
    );
  }
  return secret;
}

const run = promisify(execFile);
/** The name declarations import the compiler by. */
const COMPILER_PACKAGE = 'llmops-gitops';
const usageError = (error: Error): never => {
  throw new CliError(error.message, ExitCode.usage);
};
const failure = (error: Error): never => {
  throw new CliError(error.message, ExitCode.failure);
};

/** This package's root: the compiler the bot runs. */
const COMPILER_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/**
 * Clones `url` into `root` unless `root` already holds a git repository (a
 * restarted container keeps its volume), and gives the clone the running
 * compiler's dependencies, as `npm ci` would: a fork of this repository (whose
 * declarations import the compiler by its own name) gets its node_modules, any
 * other fleet the compiler as `node_modules/llmops-gitops`.
 */
async function cloneInto(url: string, root: string): Promise<void> {
  if (existsSync(path.join(root, '.git'))) return;
  await run('git', ['clone', '--quiet', '--', url, root]).catch((error: { stderr?: string }) => {
    throw new CliError(`--clone: cannot clone ${url} into ${root}: ${error.stderr?.trim() || String(error)}`, ExitCode.failure);
  });
  const { name } = JSON.parse(await readFile(path.join(root, 'package.json'), 'utf8').catch(() => '{}')) as { name?: string };
  if (name === COMPILER_PACKAGE) {
    await symlink(path.join(COMPILER_ROOT, 'node_modules'), path.join(root, 'node_modules'), 'dir');
  } else {
    await mkdir(path.join(root, 'node_modules'), { recursive: true });
    await symlink(COMPILER_ROOT, path.join(root, 'node_modules', COMPILER_PACKAGE), 'dir');
  }
}

/** Where `--serve` listens: an address, or all interfaces when `host` is undefined. */
export interface ServeAddress {
  readonly host: string | undefined;
  /** For the log line. */
  readonly description: string;
}

/**
 * The address `--serve` listens on. Default: all interfaces in a Kubernetes
 * pod, where the kubelet's probes and Prometheus reach the pod's IP (the
 * kubelet sets KUBERNETES_SERVICE_HOST in every container); loopback anywhere
 * else, so a bot run on a laptop or a shared runner exposes nothing.
 */
export function serveAddress(host: string | undefined, environment: NodeJS.ProcessEnv = process.env): ServeAddress {
  if (host !== undefined) {
    if (isIP(host) === 0) throw new CliError(`--host: expected an IP address such as 0.0.0.0, :: or 127.0.0.1 (got ${JSON.stringify(host)})`, ExitCode.usage);
    return { host, description: host.includes(':') ? `[${host}]` : host };
  }
  // Node listens on :: (IPv4 too) where IPv6 is available, else on 0.0.0.0.
  return environment.KUBERNETES_SERVICE_HOST ? { host: undefined, description: 'all interfaces' } : { host: '127.0.0.1', description: '127.0.0.1' };
}

/** `llmops optimize`: plan, then open or update the bot's pull requests (or local branches). */
export async function optimizeCommand(options: OptimizeCommandOptions, io: Io): Promise<void> {
  if (options.once === options.serve) throw new CliError('expected exactly one of --once and --serve', ExitCode.usage);
  const positive = (name: string, value: string | undefined) => {
    if (value !== undefined && !(Number(value) > 0)) throw new CliError(`${name}: expected a positive number (got ${JSON.stringify(value)})`, ExitCode.usage);
  };
  positive('--at', options.at);
  positive('--interval', options.interval);
  if (options.port !== undefined && !(Number.isInteger(Number(options.port)) && Number(options.port) > 0 && Number(options.port) < 65536))
    throw new CliError(`--port: expected a TCP port 1–65535 (got ${JSON.stringify(options.port)})`, ExitCode.usage);
  const address = serveAddress(options.host);
  // With a GitHub App (LLMOPS_GITHUB_APP_*), a new installation token every cycle, in GITHUB_TOKEN for the client and for
  // git's credential helper, and the App's bot user as the bot's login (LLMOPS_BOT_LOGIN) unless one is set.
  const app = options.local ? undefined : await appCredentialsFromEnvironment().catch(usageError);
  const githubOptions = { ...options, repository: options.repository ?? githubRepositoryOfUrl(options.clone) };
  const renewToken = async () => {
    if (!app) return;
    const minted = await mintInstallationToken(app, await repositoryOf(githubOptions), githubApiUrlOf(githubOptions));
    process.env.GITHUB_TOKEN = minted.token;
    process.env.LLMOPS_BOT_LOGIN ||= minted.login;
  };
  await renewToken().catch(failure);
  if (options.clone) await cloneInto(options.clone, options.root);
  const connect = () =>
    options.local
      ? undefined
      : githubFromEnvironment(
          githubOptions,
          'export a token with contents and pull-requests write access, or run with --local to write the branches here and print the pull-request bodies; with a GitHub App, set LLMOPS_GITHUB_APP_CLIENT_ID and LLMOPS_GITHUB_APP_PRIVATE_KEY_FILE instead',
        );
  let github = await connect();

  const metrics = new OptimizerMetrics();
  const repository = new BotRepository({ root: options.root, base: options.base, remote: options.remote, local: options.local, secret: botSecret(options.local === true) });
  const prometheus = await prometheusOption(options.prometheus);
  const prometheusLinkUrl = linkUrl(options);
  const plan = { window: durationOption('--window', options.window), recent: durationOption('--recent', options.recent) };
  const stop = new AbortController();
  const onSignal = () => {
    io.err('received SIGTERM: finishing the current deployment, then stopping\n');
    stop.abort();
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  const cycle = async () => {
    if (app && options.serve) {
      await renewToken();
      github = await connect();
    }
    const report = await runCycle({
      repository,
      github,
      prometheus,
      metrics,
      signal: stop.signal,
      now: options.at === undefined ? undefined : new Date(Number(options.at) * 1000),
      plan,
      prometheusLinkUrl,
      log: (line) => io.err(`${line}\n`),
    });
    printReport(report, io);
    return report;
  };

  try {
    if (options.once) {
      let report: CycleReport;
      try {
        report = await cycle();
      } catch (error) {
        if (error instanceof PrometheusError || error instanceof GitHubAppError) throw new CliError(`${error.message}\nNothing was pushed.`, ExitCode.failure);
        throw error;
      }
      if (report.outcomes.some((outcome) => outcome.kind === 'failed') || (report.stopped && report.stopped !== 'stop requested')) throw new CliError('', ExitCode.failure);
      return;
    }
    const intervalMs = Number(options.interval ?? 15) * 60_000;
    let healthy = true;
    const server = createServer(async (request, response) => {
      if (request.url === '/metrics') {
        response.writeHead(200, { 'content-type': metrics.registry.contentType });
        response.end(await metrics.registry.metrics());
      } else if (request.url === '/healthz') {
        response.writeHead(healthy ? 200 : 503, { 'content-type': 'text/plain' });
        response.end(healthy ? 'ok\n' : 'last cycle failed\n');
      } else {
        response.writeHead(404).end();
      }
    });
    await new Promise<void>((resolve) => server.listen(Number(options.port ?? 9464), address.host, resolve));
    io.err(`serving /metrics and /healthz on ${address.description}:${options.port ?? 9464}; a cycle every ${intervalMs / 60_000} min\n`);
    while (!stop.signal.aborted) {
      try {
        const report = await cycle();
        healthy = !report.outcomes.some((outcome) => outcome.kind === 'failed');
      } catch (error) {
        healthy = false;
        io.err(`cycle failed: ${error instanceof Error ? error.message : String(error)}\n`);
      }
      // A stop requested during the cycle ends the loop now (an abort listener added later would never fire).
      if (stop.signal.aborted) break;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, intervalMs);
        stop.signal.addEventListener(
          'abort',
          () => {
            clearTimeout(timer);
            resolve();
          },
          { once: true },
        );
      });
    }
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  }
}
