import { formatIssue } from '../declarations/issues.ts';
import type { Fleet } from '../fleet/fleet.ts';
import { loadFleet } from '../fleet/load.ts';
import { ExitCode } from './exit-codes.ts';
import { CliError, type Io } from './io.ts';

/** Loads the fleet or reports every issue and fails with exit code 1. */
export async function fleetOrFail(root: string, io: Io, json = false): Promise<Fleet> {
  const result = await loadFleet(root);
  if (result.ok) return result.fleet;
  if (json) io.out(`${JSON.stringify({ valid: false, issues: result.issues }, null, 2)}\n`);
  else io.err(`${result.issues.map(formatIssue).join('\n')}\n${result.issues.length} problem(s) in the declarations; generated/ was not changed.\n`);
  throw new CliError('', ExitCode.invalid);
}
