/**
 * The loader: discovers the declaration files of a fleet root, evaluates them
 * in the sandbox (src/fleet/sandbox), validates each result against its kind's
 * schema, cross-checks them and resolves one Fleet. Every problem is collected
 * and returned; nothing is thrown at the user.
 */
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import type { z } from 'zod';
import { Environment } from '../declarations/environment.ts';
import { validate, type DeclarationIssue } from '../declarations/issues.ts';
import { Model } from '../declarations/model.ts';
import { Policy, resolvePolicy } from '../declarations/policy.ts';
import { Prompt } from '../declarations/prompt.ts';
import { crossCheck, type Declarations, type Loaded } from './cross-check.ts';
import { readRepositoryUrl } from './repository.ts';
import { DECLARATION_KINDS, type DeclarationKind, type Fleet, type FleetDeployment } from './fleet.ts';
import { DEFINE_FUNCTIONS } from './sandbox/protocol.ts';
import { loadInSandbox, type FileOutcome, type SandboxLimits } from './sandbox/sandbox.ts';

/**
 * The fleet, with `inputs`: the repository files the declarations were
 * compiled from (they and what they import, relative POSIX paths), which the
 * synth cache hashes besides the declaration folders; or every problem found.
 */
export type LoadResult = { ok: true; fleet: Fleet; inputs: readonly string[] } | { ok: false; issues: DeclarationIssue[] };

const SCHEMAS: Record<DeclarationKind, z.ZodType> = { models: Model, prompts: Prompt, environments: Environment, policies: Policy };

/**
 * Declaration files of one kind: `<kind>/*.ts`, sorted, leaving out tests,
 * type declarations and files starting with `_` (shared helpers).
 */
async function discover(root: string, kind: DeclarationKind): Promise<string[] | undefined> {
  let names: string[];
  try {
    names = await readdir(path.join(root, kind));
  } catch {
    return undefined;
  }
  return names
    .filter((name) => name.endsWith('.ts') && !name.endsWith('.d.ts') && !name.endsWith('.test.ts') && !name.startsWith('_'))
    .sort()
    .map((name) => `${kind}/${name}`);
}

/** Validates what a file's sandboxed evaluation gave, here in the loader: the sandbox's word is never taken for it. */
function validateOutcome(file: string, kind: DeclarationKind, outcome: FileOutcome): Loaded<unknown> | DeclarationIssue[] {
  if (outcome.kind === 'issues') return outcome.issues.map((issue) => ({ file, ...issue }));
  if (!('value' in outcome)) return [{ file, path: '', message: `expected a default export: export default ${DEFINE_FUNCTIONS[kind]}({ … }) (got none)` }];
  const result = validate(SCHEMAS[kind], outcome.value, file);
  return result.ok ? { file, value: result.value } : result.issues;
}

export interface LoadOptions {
  /** Time and memory limits of the sandbox. Default: from LLMOPS_LOAD_TIMEOUT_SECONDS and LLMOPS_LOAD_MEMORY_MIB, else 30 s and 512 MiB. */
  readonly limits?: SandboxLimits;
}

/**
 * Loads a fleet: every declaration evaluated in the sandbox, validated,
 * cross-checked and resolved; or every problem found.
 */
export async function loadFleet(fleetRoot: string, options: LoadOptions = {}): Promise<LoadResult> {
  const root = path.resolve(fleetRoot);
  const issues: DeclarationIssue[] = [];
  const loaded: Record<DeclarationKind, Loaded<unknown>[]> = { models: [], prompts: [], environments: [], policies: [] };
  const invalidFiles: string[] = [];

  const filesByKind = await Promise.all(DECLARATION_KINDS.map((kind) => discover(root, kind)));
  if (filesByKind.every((files) => files === undefined)) {
    return { ok: false, issues: [{ file: root, path: '', message: `expected a fleet root holding ${DECLARATION_KINDS.map((kind) => `${kind}/`).join(', ')} (got none of them); pass --root` }] };
  }
  const kinds = DECLARATION_KINDS.filter((_, index) => filesByKind[index] !== undefined);
  const files = filesByKind.flatMap((found) => found ?? []);
  const sandboxed = await loadInSandbox(root, files, kinds, options.limits);
  if (sandboxed.issues.length > 0) return { ok: false, issues: sandboxed.issues };
  for (const [index, kind] of DECLARATION_KINDS.entries()) {
    for (const file of filesByKind[index] ?? []) {
      const result = validateOutcome(file, kind, sandboxed.outcomes.get(file)!);
      if (Array.isArray(result)) {
        issues.push(...result);
        invalidFiles.push(file);
      } else loaded[kind].push(result);
    }
  }
  if ((filesByKind[2] ?? []).length === 0) {
    issues.push({ file: 'environments/', path: '', message: 'expected at least one environment declaration (got none)' });
  }

  const declarations = loaded as unknown as Declarations;
  issues.push(...crossCheck(declarations, invalidFiles));
  const repository = await readRepositoryUrl(root);
  if (!repository.ok) issues.push(repository.issue);
  if (issues.length > 0 || !repository.ok) return { ok: false, issues };
  return { ok: true, fleet: resolveFleet(root, repository.url, declarations), inputs: sandboxed.inputs };
}

function byName<T extends { name: string }>(a: T, b: T): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/** Links the validated declarations into a Fleet (references are known to resolve). */
function resolveFleet(root: string, repositoryUrl: string, declarations: Declarations): Fleet {
  const models = declarations.models.map(({ value }) => value).sort(byName);
  const prompts = declarations.prompts.map(({ value }) => value).sort(byName);
  const environments = declarations.environments.map(({ value }) => value).sort(byName);
  const policies = declarations.policies.map(({ value }) => resolvePolicy(value)).sort(byName);
  const sourceFiles = new Map<string, string>();
  for (const kind of DECLARATION_KINDS) {
    for (const { file, value } of declarations[kind]) sourceFiles.set(`${kind}/${(value as { name: string }).name}`, file);
  }

  const deployments: FleetDeployment[] = environments.flatMap((environment) =>
    Object.keys(environment.deployments)
      .sort()
      .map((modelName) => {
        const spec = environment.deployments[modelName];
        const model = models.find((candidate) => candidate.name === modelName)!;
        return {
          id: `${environment.name}/${modelName}`,
          environment,
          model,
          policy: policies.find((candidate) => candidate.name === spec.policy)!,
          spec,
          engineArgs: { ...model.engineArgs, ...spec.engineArgs, 'tensor-parallel-size': spec.engineArgs['tensor-parallel-size'] ?? model.engineArgs['tensor-parallel-size'] ?? spec.gpu.count },
          prompts: prompts.filter((prompt) => prompt.model === modelName),
          sourceFile: sourceFiles.get(`environments/${environment.name}`)!,
        };
      }),
  );
  return { root, repositoryUrl, models, prompts, environments, policies, deployments, sourceFiles };
}
