/**
 * The folders declaration code may read: the declaration folders, under both
 * their given and their real path. Node's permission model follows symbolic
 * links wherever they point, so a link in those folders that leaves the
 * repository (or enters .git/, where a checkout may keep its token) would be
 * a way out; such links, and links to nothing, are refused with their file.
 */
import { readdir, realpath } from 'node:fs/promises';
import path from 'node:path';
import type { DeclarationIssue } from '../../declarations/issues.ts';

const isInside = (folder: string, file: string) => file === folder || file.startsWith(`${folder}${path.sep}`);

export async function readableFolders(root: string, folders: readonly string[]): Promise<{ folders: string[]; issues: DeclarationIssue[] }> {
  const realRoot = await realpath(root);
  const gitDir = path.join(realRoot, '.git');
  const readable: string[] = [];
  const issues: DeclarationIssue[] = [];
  for (const folder of folders) {
    const absolute = path.join(root, folder);
    const real = await realpath(absolute).catch(() => undefined);
    if (real === undefined) continue;
    if (!isInside(realRoot, real) || isInside(gitDir, real)) {
      issues.push({ file: `${folder}/`, path: '', message: `expected a folder of the repository (got a symbolic link to ${real}); the loader lets declarations read the repository only` });
      continue;
    }
    readable.push(absolute, real);
    for (const entry of await readdir(absolute, { recursive: true, withFileTypes: true })) {
      if (!entry.isSymbolicLink()) continue;
      const link = path.join(entry.parentPath, entry.name);
      const file = path.relative(root, link).split(path.sep).join('/');
      const target = await realpath(link).catch(() => undefined);
      if (target === undefined) issues.push({ file, path: '', message: 'expected a file (got a symbolic link to nothing); restore its target or remove the link' });
      else if (!isInside(realRoot, target) || isInside(gitDir, target)) {
        issues.push({ file, path: '', message: `expected a file of the repository (got a symbolic link to ${target}); the loader lets declarations read the repository only` });
      }
    }
  }
  return { folders: [...new Set(readable)], issues };
}
