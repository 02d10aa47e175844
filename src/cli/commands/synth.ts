/**
 * `llmops synth`: compile the fleet into generated/, or check that it is up to
 * date. With nothing changed since this machine's last synth, it answers from
 * the synth cache's hashes, proven against generated/ on disk, without loading
 * the fleet; otherwise only the environments whose slice changed are
 * synthesized (src/synth/pipeline.ts).
 */
import { readdir } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { formatIssue, suggestion } from '../../declarations/issues.ts';
import type { FileHashes } from '../../synth/content-hash.ts';
import { SynthCache, type UnchangedFleet } from '../../synth/synth-cache.ts';
import { GeneratedBusyError, isClean, type TreeDiff } from '../../synth/write.ts';
import { ExitCode } from '../exit-codes.ts';
import { CliError, type Io } from '../io.ts';

export interface SynthOptions {
  readonly root: string;
  /** Only this environment's folder. */
  readonly env?: string;
  /** Compare with generated/ instead of writing. */
  readonly check?: boolean;
  readonly json?: boolean;
}

function busy(error: unknown): never {
  if (error instanceof GeneratedBusyError) throw new CliError(error.message, ExitCode.failure);
  throw error;
}

function checkEnvironment(option: string | undefined, environments: readonly string[]): void {
  if (option !== undefined && !environments.includes(option)) {
    throw new CliError(`--env: expected one of ${environments.join(', ')}${suggestion(option, environments)} (got ${JSON.stringify(option)})`, ExitCode.usage);
  }
}

/** `LLMOPS_SYNTH_THREADS`: threads for synthesis, the main one included (1: no worker); unset: one per core for a large fleet. */
function threadsFromEnvironment(environment: NodeJS.ProcessEnv = process.env): number | undefined {
  const text = environment.LLMOPS_SYNTH_THREADS;
  if (text === undefined || text === '') return undefined;
  if (!/^[1-9]\d*$/.test(text)) throw new CliError(`LLMOPS_SYNTH_THREADS: expected a whole number of threads, at least 1 (got ${JSON.stringify(text)})`, ExitCode.usage);
  return Number(text);
}

/** At most how many deployments the fleet declares (models × environments), known before it loads. */
async function deploymentsAtMost(root: string): Promise<number> {
  const count = (folder: string) =>
    readdir(path.join(root, folder)).then(
      (names) => names.filter((name) => name.endsWith('.ts')).length,
      () => 0,
    );
  return (await count('models')) * (await count('environments'));
}

const inScope = (scope: string | undefined) => (file: string) => scope === undefined || file.startsWith(`${scope}/`);

/** Prints what --check found: up to date, or every stale, missing and extra file and the CODEOWNERS problems. */
function reportCheck(options: SynthOptions, io: Io, inScopeCount: number, diff: TreeDiff, codeOwners: readonly string[]): void {
  const upToDate = isClean(diff) && codeOwners.length === 0;
  if (options.json) io.out(`${JSON.stringify({ upToDate, ...diff, codeOwners }, null, 2)}\n`);
  if (upToDate) {
    if (!options.json) io.out(`generated/ is up to date (${inScopeCount} files).\n`);
    return;
  }
  if (!options.json && !isClean(diff)) {
    const lines = [
      ...diff.stale.map((file) => `  stale    generated/${file}`),
      ...diff.missing.map((file) => `  missing  generated/${file}`),
      ...diff.extra.map((file) => `  extra    generated/${file}`),
    ];
    io.err(`generated/ is out of date with the declarations:\n${lines.join('\n')}\nRun \`npm run synth\` and commit the result.\n`);
  }
  if (!options.json && codeOwners.length > 0) io.err(`${codeOwners.join('\n')}\n`);
  throw new CliError('', ExitCode.invalid);
}

function reportWrite(options: SynthOptions, io: Io, written: number, inScopeCount: number, diff: TreeDiff): void {
  const changed = diff.stale.length + diff.missing.length + diff.extra.length;
  if (options.json) io.out(`${JSON.stringify({ written, ...diff }, null, 2)}\n`);
  else
    io.out(
      `Wrote ${inScopeCount} files to generated/${options.env ? `${options.env}/` : ''} (${diff.stale.length} changed, ${diff.missing.length} added, ${diff.extra.length} removed${changed === 0 ? ': already up to date' : ''}).\n`,
    );
}

/** The answer when nothing changed: generated/ is exactly what synth would write, so nothing is written. */
function answerUnchanged(options: SynthOptions, io: Io, unchanged: UnchangedFleet): void {
  checkEnvironment(options.env, unchanged.environments);
  const all = Object.keys(unchanged.files);
  const count = all.filter(inScope(options.env)).length;
  const clean: TreeDiff = { stale: [], missing: [], extra: [] };
  if (options.check) reportCheck(options, io, count, clean, unchanged.checkProblems);
  else reportWrite(options, io, all.length, count, clean);
}

export async function synthCommand(options: SynthOptions, io: Io): Promise<void> {
  const root = path.resolve(options.root);
  const cache = await SynthCache.open();
  const unchanged = await cache?.unchangedFleet(root);
  // A --check with problems beside the files goes the long way, which names them with the fleet loaded.
  if (unchanged && !(options.check && unchanged.checkProblems.length > 0)) return answerUnchanged(options, io, unchanged);

  const threads = threadsFromEnvironment();
  const before = await cache?.inputsBeforeLoad(root);
  const [{ loadedOrFail }, { ledgerProblems }, { codeOwnersProblems }, { runPipeline, PARALLEL_FROM_DEPLOYMENTS }, { SynthesisError }, { startRunners }] = await Promise.all([
    import('../fleet-or-fail.ts'),
    import('../../act/ledger-check.ts'),
    import('../../fleet/code-owners.ts'),
    import('../../synth/pipeline.ts'),
    import('../../synth/synthesizer.ts'),
    import('../../synth/unit-runner.ts'),
  ]);
  // A large fleet: the workers load the synthesis libraries while this thread loads the fleet.
  const runners = threads !== 1 && (await deploymentsAtMost(root)) >= PARALLEL_FROM_DEPLOYMENTS ? startRunners(threads ?? availableParallelism()) : undefined;
  let loaded;
  try {
    // --check also reads the bot's ledger, which CI would otherwise carry broken.
    loaded = await loadedOrFail(root, io, false, options.check ? ledgerProblems : undefined);
    checkEnvironment(
      options.env,
      loaded.fleet.environments.map((environment) => environment.name),
    );
  } catch (error) {
    await (await runners)?.close();
    throw error;
  }
  const { fleet, inputs } = loaded;
  const environments = fleet.environments.map((environment) => environment.name);

  let result;
  try {
    result = await runPipeline(fleet.root, { fleet, scope: options.env, check: options.check === true, cache, threads, runners });
  } catch (error) {
    if (error instanceof SynthesisError) throw new CliError(`${error.message}\ngenerated/ was not changed.`, ExitCode.failure);
    return busy(error);
  }
  const inScopeCount = Object.keys(result.files).length;
  const tree: FileHashes = { ...Object.fromEntries(Object.entries(result.onDiskAfter).filter(([file]) => !inScope(options.env)(file))), ...result.files };
  const codeOwners = await codeOwnersProblems(fleet, Object.keys(tree).sort());
  const upToDateAfter = !options.check || (isClean(result.diff) && options.env === undefined);
  if (cache && before && options.env === undefined && upToDateAfter) {
    // What a later --check answering from the record must still report: a damaged ledger line (a --check run failed on one before synthesis).
    const ledger = options.check ? [] : (await ledgerProblems(fleet.root)).map(formatIssue);
    await cache.recordFleet(fleet.root, before, inputs, { files: result.onDiskAfter, checkProblems: [...codeOwners, ...ledger], environments }).catch(() => undefined);
    await cache.prune().catch(() => undefined);
  }
  if (options.check) reportCheck(options, io, inScopeCount, result.diff, codeOwners);
  else reportWrite(options, io, Object.keys(result.onDiskAfter).length, inScopeCount, result.diff);
}
