/**
 * Publishes a bot commit through GitHub's Git Data API instead of `git push`:
 * the changed files' blobs, a tree on the base's, a commit made by the App's
 * own identity (so GitHub signs it and shows it verified), and the branch
 * pointed at it. The commit built locally is the blueprint: the tree GitHub
 * builds must be the same tree (same content, same object), so the bot's
 * keyed signature over parent and tree — in the message — holds for the
 * commit GitHub makes. `--local` keeps git (there is no GitHub).
 */
import { BOT_BRANCH_PREFIX, type BotRepository, type BuiltCommit } from './bot-repository.ts';
import type { GitHubRepository } from './github.ts';

/** GitHub built a different tree from the same files: the signature would not hold, so nothing is published. */
export class TreeMismatchError extends Error {
  override readonly name = 'TreeMismatchError';
}

export interface PublishedCommit {
  readonly sha: string;
  /** GitHub reports the commit's signature as verified. */
  readonly verified: boolean;
}

/**
 * Makes `built` on GitHub and points `branch` at it where the branch is still
 * at `expectedSha` (absent: must not exist). Undefined when the branch moved
 * meanwhile: another run owns it (GitHub's refs API has no compare-and-swap, so
 * the check reads the ref first; the workflow's concurrency group keeps runs apart).
 */
export async function publishThroughApi(
  repository: BotRepository,
  github: GitHubRepository,
  branch: string,
  built: BuiltCommit,
  expectedSha: string | undefined,
): Promise<PublishedCommit | undefined> {
  if (!branch.startsWith(BOT_BRANCH_PREFIX)) throw new Error(`refusing to write ${branch}: the bot writes only ${BOT_BRANCH_PREFIX}* branches`);
  const files = await repository.changedFiles(built.parent, built.sha);
  const entries = [];
  for (const file of files) {
    if (file.blob === null) {
      entries.push({ path: file.path, mode: file.mode, sha: null });
      continue;
    }
    const sha = await github.createBlob(await repository.blob(file.blob));
    if (sha !== file.blob) throw new TreeMismatchError(`GitHub stored ${file.path} as blob ${sha}, not ${file.blob}: the content changed in transit; nothing was published`);
    entries.push({ path: file.path, mode: file.mode, sha });
  }
  const tree = await github.createTree(await repository.treeOf(built.parent), entries);
  if (tree !== built.tree) throw new TreeMismatchError(`GitHub built tree ${tree} for ${branch}, not the ${built.tree} the bot signed; nothing was published`);
  const commit = await github.createCommit(built.message, tree, [built.parent]);
  const current = await github.branchSha(branch);
  if (current !== expectedSha) return undefined;
  if (expectedSha === undefined) {
    if (!(await github.createBranch(branch, commit.sha))) return undefined;
  } else {
    await github.forceBranch(branch, commit.sha);
  }
  await repository.track(branch);
  return commit;
}
