/** The Git repository Argo CD pulls generated/ from: the `repository` field of the fleet's package.json. */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { show, type DeclarationIssue } from '../declarations/issues.ts';

const GIT_URL = /^(https:\/\/|ssh:\/\/|git@)[^\s]+$/;

export async function readRepositoryUrl(root: string): Promise<{ ok: true; url: string } | { ok: false; issue: DeclarationIssue }> {
  const fail = (message: string) => ({ ok: false as const, issue: { file: 'package.json', path: 'repository.url', message } });
  let manifest: { repository?: string | { url?: string } };
  try {
    manifest = JSON.parse(await readFile(path.join(root, 'package.json'), 'utf8'));
  } catch {
    return fail('expected a package.json with the Git URL Argo CD pulls generated/ from (got no readable package.json)');
  }
  const url = typeof manifest.repository === 'string' ? manifest.repository : manifest.repository?.url;
  if (typeof url !== 'string' || !GIT_URL.test(url)) {
    return fail(`expected the Git URL Argo CD pulls generated/ from, such as "https://github.com/acme/fleet.git" (got ${show(url)})`);
  }
  return { ok: true, url: url.replace(/^git\+/, '') };
}
