import { formatIssue } from '../../declarations/issues.ts';
import { fleetWarnings } from '../../fleet/warnings.ts';
import type { Io } from '../io.ts';
import { ledgerProblems } from '../../act/ledger-check.ts';
import { fleetOrFail } from '../fleet-or-fail.ts';

export interface ValidateOptions {
  readonly root: string;
  readonly json?: boolean;
}

/** `llmops validate`: load and cross-check every declaration, and the bot's ledger line by line; write nothing; list the warnings of a valid fleet. */
export async function validateCommand(options: ValidateOptions, io: Io): Promise<void> {
  const fleet = await fleetOrFail(options.root, io, options.json, ledgerProblems);
  const counts = {
    models: fleet.models.length,
    prompts: fleet.prompts.length,
    environments: fleet.environments.length,
    policies: fleet.policies.length,
    deployments: fleet.deployments.length,
  };
  const warnings = fleetWarnings(fleet);
  if (options.json) {
    io.out(`${JSON.stringify({ valid: true, ...counts, warnings }, null, 2)}\n`);
    return;
  }
  io.out(
    `The fleet is valid: ${Object.entries(counts)
      .map(([kind, count]) => `${count} ${kind}`)
      .join(', ')}.\n`,
  );
  for (const warning of warnings) io.out(`warning: ${formatIssue(warning)}\n`);
}
