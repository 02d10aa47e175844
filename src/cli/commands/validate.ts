import type { Io } from '../io.ts';
import { ledgerProblems } from '../../act/ledger-check.ts';
import { fleetOrFail } from '../fleet-or-fail.ts';

export interface ValidateOptions {
  readonly root: string;
  readonly json?: boolean;
}

/** `llmops validate`: load and cross-check every declaration, and the bot's ledger line by line; write nothing. */
export async function validateCommand(options: ValidateOptions, io: Io): Promise<void> {
  const fleet = await fleetOrFail(options.root, io, options.json, ledgerProblems);
  const counts = {
    models: fleet.models.length,
    prompts: fleet.prompts.length,
    environments: fleet.environments.length,
    policies: fleet.policies.length,
    deployments: fleet.deployments.length,
  };
  if (options.json) io.out(`${JSON.stringify({ valid: true, ...counts }, null, 2)}\n`);
  else io.out(`The fleet is valid: ${Object.entries(counts).map(([kind, count]) => `${count} ${kind}`).join(', ')}.\n`);
}
