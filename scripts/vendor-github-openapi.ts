/**
 * Vendors the part of GitHub's REST description (@octokit/openapi,
 * generated/api.github.com.json, 13 MB of a 385 MB package) that our GitHub
 * doubles are contract-checked against: exactly the operations they serve
 * (src/testing/github-api/operations.ts) and every component those reach
 * through `$ref`, transitively (schemas, parameters, responses, headers,
 * examples). Output: src/testing/github-api/api.github.com.subset.json, pretty
 * and deterministic (same package version, same bytes), headed by
 * `x-vendored` with the source package and the command that regenerates it.
 *
 *   npx tsx scripts/vendor-github-openapi.ts --version 23.0.2    # npm pack of that version, in a temporary directory
 *   npx tsx scripts/vendor-github-openapi.ts --from DIR          # an unpacked @octokit/openapi package
 *
 * Without either, the version recorded in the current vendored file.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { SERVED_OPERATIONS, VENDORED_DESCRIPTION as OUTPUT } from '../src/testing/github-api/operations.ts';

const PACKAGE = '@octokit/openapi';
const DESCRIPTION_FILE = 'generated/api.github.com.json';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

/** The subset of `description` holding `operations` (`<method> <template>`) and the components they reach. */
function subsetOf(description: JsonObject, operations: readonly string[]): { paths: JsonObject; components: JsonObject } {
  const paths = description.paths as Record<string, JsonObject>;
  const components = description.components as Record<string, JsonObject>;
  const selected: Record<string, JsonObject> = {};
  for (const key of operations) {
    const [method, template] = key.split(' ') as [string, string];
    const operation = paths[template]?.[method];
    if (!operation) throw new Error(`${key}: GitHub's description (${PACKAGE}) has no such operation; check the route in src/testing/github-api/operations.ts`);
    (selected[template] ??= {})[method] = operation;
  }
  // Keep the description's order of paths and of methods within a path.
  const orderedPaths: JsonObject = {};
  for (const [template, item] of Object.entries(paths)) {
    if (!selected[template]) continue;
    orderedPaths[template] = Object.fromEntries(
      Object.keys(item)
        .filter((method) => selected[template]![method])
        .map((method) => [method, selected[template]![method]!]),
    );
  }

  const reached = new Map<string, Set<string>>();
  const pending: Json[] = [orderedPaths];
  while (pending.length > 0) {
    const node = pending.pop()!;
    if (Array.isArray(node)) pending.push(...node);
    else if (node && typeof node === 'object') {
      const ref = node.$ref;
      if (typeof ref === 'string') {
        const [, , section, name, ...rest] = ref.split('/');
        if (!ref.startsWith('#/components/') || !section || !name || rest.length > 0) throw new Error(`unexpected $ref ${ref}: only #/components/<section>/<name> is vendored`);
        const names = reached.get(section) ?? reached.set(section, new Set()).get(section)!;
        if (!names.has(name)) {
          const target = components[section]?.[name];
          if (target === undefined) throw new Error(`${ref} is referenced but not defined in the description`);
          names.add(name);
          pending.push(target);
        }
      }
      pending.push(...Object.values(node));
    }
  }
  // Sections in the description's order, names sorted: stable under reordering of the walk.
  const vendoredComponents: JsonObject = {};
  for (const section of Object.keys(components)) {
    const names = reached.get(section);
    if (names) vendoredComponents[section] = Object.fromEntries([...names].sort().map((name) => [name, components[section]![name]!]));
  }
  return { paths: orderedPaths, components: vendoredComponents };
}

/** The unpacked package directory: `--from`, or `npm pack` of `version` into a temporary directory (removed by `cleanup`). */
function packageDirectory(from: string | undefined, version: string | undefined): { directory: string; cleanup: () => void } {
  if (from) return { directory: path.resolve(from), cleanup: () => {} };
  const recorded = existsSync(OUTPUT) ? (JSON.parse(readFileSync(OUTPUT, 'utf8')) as { 'x-vendored'?: { source?: { version?: string } } })['x-vendored']?.source?.version : undefined;
  const wanted = version ?? recorded;
  if (!wanted) throw new Error(`no version: pass --version (a version of ${PACKAGE}) or --from (an unpacked ${PACKAGE} package)`);
  const temporary = mkdtempSync(path.join(tmpdir(), 'vendor-github-openapi-'));
  const tarball = execFileSync('npm', ['pack', `${PACKAGE}@${wanted}`, '--silent', '--pack-destination', temporary], { cwd: temporary, encoding: 'utf8' })
    .trim()
    .split('\n')
    .pop()!;
  execFileSync('tar', ['-xzf', path.join(temporary, tarball), '-C', temporary, 'package/package.json', 'package/LICENSE', `package/${DESCRIPTION_FILE}`]);
  return { directory: path.join(temporary, 'package'), cleanup: () => rmSync(temporary, { recursive: true, force: true }) };
}

function main(): void {
  const { values } = parseArgs({ options: { from: { type: 'string' }, version: { type: 'string' } } });
  const { directory, cleanup } = packageDirectory(values.from, values.version);
  try {
    const manifest = JSON.parse(readFileSync(path.join(directory, 'package.json'), 'utf8')) as { name: string; version: string };
    if (manifest.name !== PACKAGE) throw new Error(`${directory} holds ${manifest.name}, not ${PACKAGE}`);
    const description = JSON.parse(readFileSync(path.join(directory, DESCRIPTION_FILE), 'utf8')) as JsonObject;
    const { paths, components } = subsetOf(description, SERVED_OPERATIONS);
    const tags = new Set(Object.values(paths).flatMap((item) => Object.values(item as JsonObject).flatMap((operation) => ((operation as JsonObject).tags ?? []) as string[])));
    const vendored = {
      'x-vendored': {
        description:
          'The operations of GitHub’s REST description that our GitHub doubles serve (src/testing/github-api/operations.ts) and every component they reference. Generated: do not edit; regenerate after changing those operations.',
        source: { package: manifest.name, version: manifest.version, file: DESCRIPTION_FILE },
        regenerate: `npx tsx scripts/vendor-github-openapi.ts --version ${manifest.version}`,
        license: readFileSync(path.join(directory, 'LICENSE'), 'utf8').trim(),
      },
      openapi: description.openapi,
      info: description.info,
      servers: description.servers,
      externalDocs: description.externalDocs,
      tags: (description.tags as JsonObject[]).filter((tag) => tags.has(tag.name as string)),
      paths,
      components,
    };
    writeFileSync(OUTPUT, `${JSON.stringify(vendored, null, 2)}\n`);
    const operations = Object.values(paths).flatMap((item) => Object.keys(item as JsonObject)).length;
    const counts = Object.entries(components).map(([section, names]) => `${Object.keys(names as JsonObject).length} ${section}`);
    console.log(`${path.relative(process.cwd(), OUTPUT)}: ${operations} operations of ${manifest.name}@${manifest.version}, ${counts.join(', ')}`);
  } finally {
    cleanup();
  }
}

main();
