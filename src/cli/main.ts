/** The `llmops` command line. */
import { Command, CommanderError } from 'commander';
import { compilerVersion } from '../runtime/compiler-id.ts';
import { ExitCode } from './exit-codes.ts';
import { CliError, processIo, type Io } from './io.ts';

// Commands load on use, so `validate` does not pay for the cdk8s and cdktf libraries that `synth` needs.
const ROOT_HELP = 'fleet root holding models/, prompts/, environments/, policies/';

function program(io: Io, version: string): Command {
  const root = new Command('llmops')
    .description('Compile typed LLM fleet declarations into Kubernetes, Helm, Terraform and Argo CD under generated/.')
    .version(version, '-V, --version', 'print the version of llmops')
    .showHelpAfterError()
    .exitOverride()
    .configureOutput({ writeOut: io.out, writeErr: io.err });

  const command = (name: string, description: string) =>
    root.command(name).description(description).option('--root <dir>', ROOT_HELP, process.cwd()).exitOverride().configureOutput({ writeOut: io.out, writeErr: io.err });

  command('validate', 'load and cross-check every declaration; write nothing')
    .option('--json', 'print the result as JSON')
    .action(async (options) => (await import('./commands/validate.ts')).validateCommand(options, io));

  command('synth', 'compile the fleet into generated/ (atomically), or check that generated/ is up to date')
    .option('--env <name>', "only this environment's folder")
    .option('--check', 'write nothing; exit 1 listing every stale, missing or extra file')
    .option('--json', 'print the result as JSON')
    .action(async (options) => (await import('./commands/synth.ts')).synthCommand(options, io));

  command('ls', 'list the deployments with GPU, replicas, policy and estimated monthly cost')
    .option('--json', 'print the rows as JSON')
    .action(async (options) => (await import('./commands/ls.ts')).lsCommand(options, io));

  command('plan', 'read Prometheus and print what the bot would propose for each deployment, and why; changes nothing')
    .requiredOption('--prometheus <url>', 'Prometheus base URL, e.g. http://prometheus-operated.monitoring.svc:9090')
    .option('--env <name>', 'only this environment')
    .option('--window <duration>', 'window the decision averages over (default 1h)')
    .option('--recent <duration>', 'trailing part compared with the rest for drift and latency change (default 15m)')
    .option('--at <unix-seconds>', 'evaluate at this time instead of now')
    .option('--json', 'print the recommendations as JSON')
    .action(async (options) => (await import('./commands/plan.ts')).planCommand(options, io));

  command('simulate', 'run a traffic scenario against what generated/ runs and write vLLM metrics for Prometheus (backfill)')
    .requiredOption('--scenario <file>', 'scenario file: traffic, request lengths, errors and the hidden true performance')
    .option('--out <file>', 'write OpenMetrics text with timestamps here')
    .option('--tsdb <dir>', 'backfill this Prometheus data directory with promtool')
    .option('--end <unix-seconds>', 'when the simulated window ends (default: now)')
    .option('--serve <port>', 'serve live on 127.0.0.1:PORT/metrics (prom-client) instead of writing samples')
    .option('--speed <factor>', 'simulated seconds per real second with --serve (default 60)')
    .action(async (options) => (await import('./commands/simulate.ts')).simulateCommand(options, io));

  command('diff', "render the fleet and show the manifest diff against generated/ on a base ref, per environment; or upsert it as the pull request's one comment")
    .requiredOption('--base <ref>', 'git ref the change merges into, e.g. origin/main')
    .option('--comment <number>', "upsert the diff as this pull request's comment (GITHUB_TOKEN, GITHUB_REPOSITORY)")
    .option('--repository <owner/name>', 'GitHub repository (default: GITHUB_REPOSITORY, then package.json repository)')
    .option('--github-api-url <url>', 'GitHub REST API root (default: GITHUB_API_URL, then https://api.github.com)')
    .action(async (options) => (await import('./commands/diff.ts')).diffCommand(options, io));

  command('optimize', 'plan, then open or update one pull request per deployment to change (Renovate-style), and revert changes that fail after merge')
    .requiredOption('--prometheus <url>', 'Prometheus base URL')
    .option('--once', 'run one cycle and exit (a scheduled GitHub Action)')
    .option('--serve', 'run a cycle every --interval minutes, serving /metrics and /healthz')
    .option('--interval <minutes>', 'minutes between cycles with --serve (default 15)')
    .option('--port <port>', 'port of /metrics and /healthz with --serve (default 9464)')
    .option('--host <address>', 'address /metrics and /healthz listen on with --serve (default: all interfaces in a Kubernetes pod, else 127.0.0.1)')
    .option('--local', 'no GitHub: write the bot branches in this repository and print the pull-request bodies')
    .option('--repository <owner/name>', 'GitHub repository (default: from package.json repository)')
    .option('--github-api-url <url>', 'GitHub REST API root (default https://api.github.com)')
    .option('--base <branch>', 'base branch (default main)')
    .option('--remote <name>', 'git remote (default origin)')
    .option('--clone <url>', 'clone this repository into --root first when --root is not a git repository (in a pod)')
    .option('--window <duration>', 'window the decision averages over (default 1h)')
    .option('--recent <duration>', 'trailing part compared with the rest (default 15m)')
    .option('--at <unix-seconds>', 'run the cycle as of this time instead of now')
    .option('--prometheus-link-url <url>', 'Prometheus UI the pull requests link their figures to (default: LLMOPS_PROMETHEUS_LINK_URL, then --prometheus without credentials)')
    .action(async (options) => (await import('./commands/optimize.ts')).optimizeCommand(options, io));

  root
    .command('schema')
    .description('print the JSON Schema of the declaration kinds (model, prompt, environment, policy) for editors')
    .argument('[kind]', 'one kind; all four when absent')
    .exitOverride()
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .action(async (kind?: string) => (await import('./commands/schema.ts')).schemaCommand(kind, io));

  return root;
}

/** Runs the CLI and returns its exit code; never throws. */
export async function main(argv: readonly string[], io: Io = processIo): Promise<number> {
  try {
    await program(io, await compilerVersion()).parseAsync([...argv], { from: 'user' });
    return ExitCode.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
    }
    if (error instanceof CliError) {
      if (error.message) io.err(`${error.message}\n`);
      return error.exitCode;
    }
    io.err(`llmops: unexpected error: ${error instanceof Error ? error.message : String(error)}\n`);
    if (process.env.LLMOPS_DEBUG) io.err(`${(error as Error)?.stack ?? ''}\n`);
    return ExitCode.failure;
  }
}
