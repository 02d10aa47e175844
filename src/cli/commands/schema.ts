import { z } from 'zod';
import { Environment } from '../../declarations/environment.ts';
import { suggestion } from '../../declarations/issues.ts';
import { Model } from '../../declarations/model.ts';
import { Policy } from '../../declarations/policy.ts';
import { Prompt } from '../../declarations/prompt.ts';
import { ExitCode } from '../exit-codes.ts';
import { CliError, type Io } from '../io.ts';

const KINDS = { model: Model, prompt: Prompt, environment: Environment, policy: Policy } as const;

/** `llmops schema [kind]`: JSON Schema (draft 2020-12) of the declaration kinds, from the zod schemas. */
export function schemaCommand(kind: string | undefined, io: Io): void {
  const names = Object.keys(KINDS);
  if (kind !== undefined && !(kind in KINDS)) {
    throw new CliError(`kind: expected one of ${names.join(', ')}${suggestion(kind, names)} (got ${JSON.stringify(kind)})`, ExitCode.usage);
  }
  const toSchema = (schema: z.ZodType) => z.toJSONSchema(schema, { io: 'input' });
  const output = kind === undefined ? Object.fromEntries(Object.entries(KINDS).map(([name, schema]) => [name, toSchema(schema)])) : toSchema(KINDS[kind as keyof typeof KINDS]);
  io.out(`${JSON.stringify(output, null, 2)}\n`);
}
