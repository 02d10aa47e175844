import { formatIssue, type DeclarationIssue } from '../declarations/issues.ts';
import type { Fleet } from '../fleet/fleet.ts';
import { loadFleet, type LoadResult } from '../fleet/load.ts';
import { ExitCode } from './exit-codes.ts';
import { CliError, type Io } from './io.ts';

/**
 * Loads the fleet or reports every issue and fails with exit code 1.
 * `alsoCheck` adds problems found beside the declarations (the bot's ledger).
 */
export async function fleetOrFail(root: string, io: Io, json = false, alsoCheck?: (root: string) => Promise<DeclarationIssue[]>): Promise<Fleet> {
  return (await loadedOrFail(root, io, json, alsoCheck)).fleet;
}

/** {@link fleetOrFail}, with the files the declarations were compiled from. */
export async function loadedOrFail(root: string, io: Io, json = false, alsoCheck?: (root: string) => Promise<DeclarationIssue[]>): Promise<Extract<LoadResult, { ok: true }>> {
  const [result, more] = await Promise.all([loadFleet(root), alsoCheck?.(root) ?? []]);
  const issues = [...(result.ok ? [] : result.issues), ...more];
  if (result.ok && issues.length === 0) return result;
  if (json) io.out(`${JSON.stringify({ valid: false, issues }, null, 2)}\n`);
  else io.err(`${issues.map(formatIssue).join('\n')}\n${issues.length} problem(s) in the declarations; generated/ was not changed.\n`);
  throw new CliError('', ExitCode.invalid);
}
