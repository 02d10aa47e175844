/**
 * The compiler's cache folder, outside the repository and never in git:
 * `LLMOPS_CACHE_DIR`, else `llmops-gitops` in the user's cache directory
 * (`$XDG_CACHE_HOME` or `~/.cache` on Linux, `~/Library/Caches` on macOS,
 * `%LOCALAPPDATA%` on Windows). `LLMOPS_CACHE=off` turns every cache off.
 *
 * It holds nothing secret, but what it holds steers what the compiler does
 * (the sandbox's compiled runtime) and reports (synth's no-op answer), so it is
 * used only when it is a real folder that belongs to this user and nobody else
 * may write to, as ssh treats ~/.ssh: a folder another user planted (in a
 * shared temporary directory, say) is refused, and the compiler runs without a
 * cache instead.
 */
import { lstatSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

function userCacheRoot(environment: NodeJS.ProcessEnv): string | undefined {
  if (environment.LLMOPS_CACHE_DIR) return path.resolve(environment.LLMOPS_CACHE_DIR);
  const home = os.homedir();
  if (process.platform === 'win32') return environment.LOCALAPPDATA ? path.join(environment.LOCALAPPDATA, 'llmops-gitops', 'Cache') : undefined;
  if (process.platform === 'darwin') return home ? path.join(home, 'Library', 'Caches', 'llmops-gitops') : undefined;
  const xdg = environment.XDG_CACHE_HOME;
  if (xdg && path.isAbsolute(xdg)) return path.join(xdg, 'llmops-gitops');
  return home ? path.join(home, '.cache', 'llmops-gitops') : undefined;
}

/** Whether `dir` is a folder of this user that no one else may write to (always true where there are no POSIX owners). */
export function ownedPrivately(dir: string): boolean {
  try {
    const stats = lstatSync(dir);
    if (!stats.isDirectory()) return false;
    if (process.getuid === undefined) return true;
    return stats.uid === process.getuid() && (stats.mode & 0o022) === 0;
  } catch {
    return false;
  }
}

/**
 * The cache folder `name` (created when missing, readable and writable by this
 * user only), or undefined when caching is off or no safe folder is available.
 */
export function cacheDir(name: string, environment: NodeJS.ProcessEnv = process.env): string | undefined {
  if (environment.LLMOPS_CACHE === 'off') return undefined;
  const root = userCacheRoot(environment);
  if (root === undefined) return undefined;
  const dir = path.join(root, name);
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch {
    return undefined;
  }
  return ownedPrivately(root) && ownedPrivately(dir) ? dir : undefined;
}
