import path from 'node:path';
import { suggestion } from '../../declarations/issues.ts';
import { codeOwnersProblems } from '../../fleet/code-owners.ts';
import { synthesize } from '../../synth/steps.ts';
import { SynthesisError } from '../../synth/synthesizer.ts';
import { ledgerProblems } from '../../act/ledger-check.ts';
import { diffTrees, GENERATED_DIR, GeneratedBusyError, isClean, readTree, recoverGenerated, scopeTree, writeTreeAtomically } from '../../synth/write.ts';
import { ExitCode } from '../exit-codes.ts';
import { fleetOrFail } from '../fleet-or-fail.ts';
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

/** `llmops synth`: compile the fleet into generated/, or check that it is up to date. */
export async function synthCommand(options: SynthOptions, io: Io): Promise<void> {
  // --check also reads the bot's ledger, which CI would otherwise carry broken.
  const fleet = await fleetOrFail(options.root, io, false, options.check ? ledgerProblems : undefined);
  const environments = fleet.environments.map((environment) => environment.name);
  if (options.env !== undefined && !environments.includes(options.env)) {
    throw new CliError(`--env: expected one of ${environments.join(', ')}${suggestion(options.env, environments)} (got ${JSON.stringify(options.env)})`, ExitCode.usage);
  }

  let tree: Map<string, string>;
  try {
    tree = synthesize(fleet);
  } catch (error) {
    if (error instanceof SynthesisError) throw new CliError(`${error.message}\ngenerated/ was not changed.`, ExitCode.failure);
    throw error;
  }
  const generatedDir = path.join(fleet.root, GENERATED_DIR);
  // A write killed earlier left a complete tree aside: put it back before reading what is on disk.
  if (!options.check) await recoverGenerated(fleet.root).catch(busy);
  const onDisk = await readTree(generatedDir);
  const scope = options.env === undefined ? undefined : [`${options.env}/`];
  const diff = diffTrees(scopeTree(tree, scope), scopeTree(onDisk, scope));

  if (options.check) {
    const codeOwners = await codeOwnersProblems(fleet, tree.keys());
    const upToDate = isClean(diff) && codeOwners.length === 0;
    if (options.json) io.out(`${JSON.stringify({ upToDate, ...diff, codeOwners }, null, 2)}\n`);
    if (upToDate) {
      if (!options.json) io.out(`generated/ is up to date (${scopeTree(tree, scope).size} files).\n`);
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

  // A scoped synth keeps every file outside the environment's folder as it is.
  const next = scope === undefined ? tree : new Map([...scopeTree(onDisk, undefined)].filter(([file]) => !file.startsWith(scope[0])).concat([...scopeTree(tree, scope)]));
  await writeTreeAtomically(fleet.root, new Map([...next].sort(([a], [b]) => (a < b ? -1 : 1)))).catch(busy);
  const changed = diff.stale.length + diff.missing.length + diff.extra.length;
  if (options.json) io.out(`${JSON.stringify({ written: next.size, ...diff }, null, 2)}\n`);
  else io.out(`Wrote ${scopeTree(tree, scope).size} files to generated/${options.env ? `${options.env}/` : ''} (${diff.stale.length} changed, ${diff.missing.length} added, ${diff.extra.length} removed${changed === 0 ? ': already up to date' : ''}).\n`);
}
