/**
 * CODEOWNERS kept in step with the fleet: every path whose change alters what
 * a production environment runs must have a code owner, so that "Require
 * review from Code Owners" really guards production — also against the bot.
 * Production environments are those a person syncs (`sync: 'manual'`). Their
 * output changes with the environment's declaration (and shared helpers of
 * environments/), any model, prompt or policy (a model can be added to
 * production in the same change), the environment's generated/ folder and
 * the Argo CD objects, and the compiler itself (src/, bin/, package.json,
 * package-lock.json). `llmops synth --check` reports the paths no rule covers.
 *
 * Matching follows GitHub's CODEOWNERS rules: gitignore-style patterns, the
 * last matching line wins, a line without owners leaves its paths unowned.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Fleet } from './fleet.ts';

/** Where GitHub looks for the file, in order. */
export const CODE_OWNERS_LOCATIONS = ['.github/CODEOWNERS', 'CODEOWNERS', 'docs/CODEOWNERS'] as const;

export interface CodeOwnersRule {
  readonly pattern: string;
  readonly owners: readonly string[];
}

export function parseCodeOwners(text: string): CodeOwnersRule[] {
  return text
    .split('\n')
    .map((line) => line.replace(/(^|\s)#.*$/, '').trim())
    .filter((line) => line !== '')
    .map((line) => {
      const [pattern, ...owners] = line.split(/\s+/);
      return { pattern: pattern!, owners };
    });
}

const escapeRegExp = (text: string) => text.replace(/[.+^${}()|[\]\\]/g, '\\$&');

/** A gitignore-style pattern as a regular expression over repository-relative paths. */
function patternToRegExp(pattern: string): RegExp {
  const anchored = pattern.startsWith('/') || pattern.slice(0, -1).includes('/');
  const directoryOnly = pattern.endsWith('/');
  const body = pattern.replace(/^\//, '').replace(/\/$/, '');
  const source = body
    .split('/')
    .map((segment) => (segment === '**' ? '\u0000' : escapeRegExp(segment).replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]')))
    .join('/')
    .replace(/^\u0000\//, '(?:.*/)?')
    .replace(/\/\u0000\//g, '/(?:.*/)?')
    .replace(/\/\u0000$/, '/.*')
    .replace(/^\u0000$/, '.*');
  return new RegExp(`^${anchored ? '' : '(?:.*/)?'}${source}${directoryOnly ? '/.*' : '(?:/.*)?'}$`);
}

/** The owners of a file: those of the last matching rule (none when no rule matches). */
export function ownersOf(rules: readonly CodeOwnersRule[], file: string): readonly string[] {
  let owners: readonly string[] = [];
  for (const rule of rules) if (patternToRegExp(rule.pattern).test(file)) owners = rule.owners;
  return owners;
}

async function filesUnder(root: string, folder: string): Promise<string[]> {
  const entries = await readdir(path.join(root, folder), { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((entry) => entry.isFile()).map((entry) => path.relative(root, path.join(entry.parentPath, entry.name)).split(path.sep).join('/'));
}

/** Every path whose change alters a production environment's output (generated files from `tree`, relative to generated/). */
export async function productionPaths(fleet: Fleet, tree: Iterable<string>): Promise<string[]> {
  const production = fleet.environments.filter((environment) => environment.sync === 'manual').map((environment) => environment.name);
  if (production.length === 0) return [];
  const { root } = fleet;
  const declared = (await Promise.all(['models', 'prompts', 'policies', 'src', 'bin'].map((folder) => filesUnder(root, folder)))).flat();
  const environments = (await filesUnder(root, 'environments')).filter(
    (file) => path.basename(file).startsWith('_') || production.some((name) => fleet.sourceFiles.get(`environments/${name}`) === file),
  );
  const manifests = (await readdir(root)).filter((name) => name === 'package.json' || name === 'package-lock.json');
  // The Argo CD objects all environments share (app of apps, project) and the production Applications; not the others' Applications.
  const others = fleet.environments.filter((environment) => !production.includes(environment.name)).map((environment) => `argocd/apps/${environment.name}.yaml`);
  const generated = [...tree].filter((file) => (file.startsWith('argocd/') && !others.includes(file)) || production.some((name) => file.startsWith(`${name}/`))).map((file) => `generated/${file}`);
  return [...new Set([...environments, ...declared, ...manifests, ...generated])].sort();
}

/** What `synth --check` says about CODEOWNERS: nothing when every production path has an owner. */
export async function codeOwnersProblems(fleet: Fleet, tree: Iterable<string>): Promise<string[]> {
  const paths = await productionPaths(fleet, tree);
  if (paths.length === 0) return [];
  let found: { file: string; text: string } | undefined;
  for (const file of CODE_OWNERS_LOCATIONS) {
    const text = await readFile(path.join(fleet.root, file), 'utf8').catch(() => undefined);
    if (text !== undefined) {
      found = { file, text };
      break;
    }
  }
  if (!found) return [`expected ${CODE_OWNERS_LOCATIONS[0]} naming code owners for what changes production's output (got no CODEOWNERS file)`];
  const rules = parseCodeOwners(found.text);
  const unowned = paths.filter((file) => ownersOf(rules, file).length === 0);
  if (unowned.length === 0) return [];
  const shown = unowned.slice(0, 12).map((file) => `  ${file}`);
  if (unowned.length > shown.length) shown.push(`  … and ${unowned.length - shown.length} more`);
  return [
    `${found.file}: expected a code owner for every path that changes production's output; these have none:`,
    ...shown,
    `Add rules such as \`/models/ @your-team\` (the last matching line wins).`,
  ];
}
