/**
 * The loader: discovers the declaration files of a fleet root, imports them,
 * validates each against its kind's schema, cross-checks them and resolves one
 * Fleet. Every problem is collected and returned; nothing is thrown at the user.
 */
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { register, type ScopedImport } from 'tsx/esm/api';
import type { z } from 'zod';
import { Environment } from '../declarations/environment.ts';
import { DeclarationError, validate, type DeclarationIssue } from '../declarations/issues.ts';
import { Model } from '../declarations/model.ts';
import { Policy, resolvePolicy } from '../declarations/policy.ts';
import { Prompt } from '../declarations/prompt.ts';
import { crossCheck, type Declarations, type Loaded } from './cross-check.ts';
import { readRepositoryUrl } from './repository.ts';
import { DECLARATION_KINDS, type DeclarationKind, type Fleet, type FleetDeployment } from './fleet.ts';

export type LoadResult = { ok: true; fleet: Fleet } | { ok: false; issues: DeclarationIssue[] };

const SCHEMAS: Record<DeclarationKind, { schema: z.ZodType; define: string }> = {
  models: { schema: Model, define: 'defineModel' },
  prompts: { schema: Prompt, define: 'definePrompt' },
  environments: { schema: Environment, define: 'defineEnvironment' },
  policies: { schema: Policy, define: 'definePolicy' },
};

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

let declarationImport: ScopedImport | undefined;

/**
 * Imports TypeScript through one tsx loader hook registered for the process,
 * whatever runs us (node, vitest). Modules the declarations share (the
 * compiler, zod) load once.
 */
function importDeclaration(url: string): Promise<{ default?: unknown }> {
  declarationImport ??= register({ namespace: 'llmops-declarations' }).import;
  return declarationImport(url, import.meta.url);
}

/** Imports one declaration file and validates its default export. */
async function loadFile(root: string, file: string, kind: DeclarationKind): Promise<Loaded<unknown> | DeclarationIssue[]> {
  const absolute = path.join(root, file);
  const { mtimeMs } = await stat(absolute);
  let module: { default?: unknown };
  try {
    // The query makes a long-running process (the bot) see edits to a file it loaded before.
    module = await importDeclaration(`${pathToFileURL(absolute).href}?mtime=${mtimeMs}`);
  } catch (error) {
    if (error instanceof DeclarationError || (error as Error)?.name === 'DeclarationError') {
      return (error as DeclarationError).issues.map((issue) => ({ ...issue, file }));
    }
    return [{ file, path: '', message: `could not be loaded: ${describeLoadError(error, root)}` }];
  }
  const { schema, define } = SCHEMAS[kind];
  if (module.default === undefined) {
    return [{ file, path: '', message: `expected a default export: export default ${define}({ … }) (got none)` }];
  }
  const result = validate(schema, module.default, file);
  return result.ok ? { file, value: result.value } : result.issues;
}

/** The first lines of an import error, with the fleet root's absolute path removed. */
function describeLoadError(error: unknown, root: string): string {
  const text = typeof (error as Error)?.message === 'string' ? (error as Error).message : String(error);
  return text.split(`${root}${path.sep}`).join('').split('\n').filter((line) => line.trim() !== '').slice(0, 3).join(' ').trim();
}

export async function loadFleet(fleetRoot: string): Promise<LoadResult> {
  const root = path.resolve(fleetRoot);
  const issues: DeclarationIssue[] = [];
  const loaded: Record<DeclarationKind, Loaded<unknown>[]> = { models: [], prompts: [], environments: [], policies: [] };
  const invalidFiles: string[] = [];

  const filesByKind = await Promise.all(DECLARATION_KINDS.map((kind) => discover(root, kind)));
  if (filesByKind.every((files) => files === undefined)) {
    return { ok: false, issues: [{ file: root, path: '', message: `expected a fleet root holding ${DECLARATION_KINDS.map((kind) => `${kind}/`).join(', ')} (got none of them); pass --root` }] };
  }
  // Imported one by one: declaration files share modules, and order keeps messages stable.
  for (const [index, kind] of DECLARATION_KINDS.entries()) {
    for (const file of filesByKind[index] ?? []) {
      const result = await loadFile(root, file, kind);
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
  return { ok: true, fleet: resolveFleet(root, repository.url, declarations) };
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
