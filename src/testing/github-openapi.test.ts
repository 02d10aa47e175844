import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { SERVED_OPERATIONS, VENDORED_DESCRIPTION } from './github-api/operations.ts';
import { exampleOf, matchOperation } from './github-openapi.ts';
import { GitHubStandIn } from './github-stand-in.ts';

type JsonObject = Record<string, unknown>;
const text = readFileSync(VENDORED_DESCRIPTION, 'utf8');
const vendored = JSON.parse(text) as {
  'x-vendored': { source: { package: string; version: string; file: string }; regenerate: string; license: string };
  paths: Record<string, JsonObject>;
  components: Record<string, JsonObject>;
};

/** `#/components/<section>/<name>` of every `$ref` reached from `node`, following refs into the vendored components. */
function reachedComponents(node: unknown, reached = new Set<string>()): Set<string> {
  if (Array.isArray(node)) for (const item of node) reachedComponents(item, reached);
  else if (node && typeof node === 'object') {
    const ref = (node as JsonObject).$ref;
    if (typeof ref === 'string' && !reached.has(ref)) {
      reached.add(ref);
      const [, , section, name] = ref.split('/');
      reachedComponents(vendored.components[section!]?.[name!], reached);
    }
    for (const value of Object.values(node)) reachedComponents(value, reached);
  }
  return reached;
}

describe('the vendored GitHub REST description', () => {
  it('holds exactly the operations the GitHub doubles serve', () => {
    const described = Object.entries(vendored.paths).flatMap(([template, item]) => Object.keys(item).map((method) => `${method} ${template}`));

    expect(described.sort()).toEqual([...SERVED_OPERATIONS].sort());
  });

  it('defines every component its operations reach, and no other', () => {
    const reached = reachedComponents(vendored.paths);
    const defined = Object.entries(vendored.components).flatMap(([section, names]) => Object.keys(names).map((name) => `#/components/${section}/${name}`));

    expect([...reached].filter((ref) => !defined.includes(ref))).toEqual([]);
    expect(defined.filter((ref) => !reached.has(ref))).toEqual([]);
  });

  it('names its source package and the command that regenerates it, pretty-printed as that command writes it', () => {
    const { source, regenerate, license } = vendored['x-vendored'];

    expect(source).toEqual({ package: '@octokit/openapi', version: expect.stringMatching(/^\d+\.\d+\.\d+$/), file: 'generated/api.github.com.json' });
    expect(regenerate).toBe(`npx tsx scripts/vendor-github-openapi.ts --version ${source.version}`);
    expect(license).toMatch(/^MIT License Copyright \(c\) 2020 Octokit contributors/);
    expect(text).toBe(`${JSON.stringify(vendored, null, 2)}\n`);
  });
});

describe('a request outside the vendored description', () => {
  let standIn: GitHubStandIn | undefined;
  afterEach(async () => standIn?.stop());

  it('is a contract violation at the stand-in, answered 404', async () => {
    // GitHub serves GET /repos/{owner}/{repo}/labels; the stand-in does not, so its 404 is not GitHub's answer.
    standIn = await new GitHubStandIn({ bareRepository: '/nonexistent', repository: 'acme/llmops-gitops', token: 'ghs_token' }).start();

    const response = await fetch(`${standIn.url}/repos/acme/llmops-gitops/labels`, { headers: { authorization: 'token ghs_token' } });

    expect(response.status).toBe(404);
    expect(standIn.contractViolations).toEqual(['GET /repos/acme/llmops-gitops/labels: the stand-in serves no such operation (src/testing/github-api/operations.ts)']);
  });

  it('is an error naming the regeneration command when a double serves an operation the description lacks', () => {
    const served = ['get /repos/{owner}/{repo}/labels'];

    expect(() => matchOperation('GET', '/repos/acme/llmops-gitops/labels', served)).toThrow(
      `GET /repos/{owner}/{repo}/labels is not in the vendored GitHub description (${VENDORED_DESCRIPTION}): add the operation to src/testing/github-api/operations.ts and regenerate the vendored description: ${vendored['x-vendored'].regenerate}`,
    );
    expect(() => exampleOf('code-of-conduct')).toThrow(`#/components/schemas/code-of-conduct is not in the vendored GitHub description (${VENDORED_DESCRIPTION})`);
  });

  it('is not matched when no double serves it, even though GitHub describes a neighbour', () => {
    // Octokit sends `{ref}` percent-encoded, `/` included.
    expect(matchOperation('DELETE', '/repos/acme/llmops-gitops/git/refs/heads%2Fmain', SERVED_OPERATIONS)).toBeUndefined();
    expect(matchOperation('PATCH', '/repos/acme/llmops-gitops/git/refs/heads%2Fmain', SERVED_OPERATIONS)).toMatchObject({
      key: 'patch /repos/{owner}/{repo}/git/refs/{ref}',
      params: { owner: 'acme', repo: 'llmops-gitops', ref: 'heads/main' },
    });
  });
});
