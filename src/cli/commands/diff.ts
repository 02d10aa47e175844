import { createTwoFilesPatch } from 'diff';
import { simpleGit } from 'simple-git';
import { synthesize } from '../../synth/steps.ts';
import { SynthesisError } from '../../synth/synthesizer.ts';
import { GENERATED_DIR, PRESERVED_DIRS } from '../../synth/write.ts';
import { ExitCode } from '../exit-codes.ts';
import { fleetOrFail } from '../fleet-or-fail.ts';
import { githubFromEnvironment } from '../github-from-env.ts';
import { CliError, type Io } from '../io.ts';

/** Marker of the one upserted pull-request comment. */
export const DIFF_COMMENT_MARKER = '<!-- llmops-gitops:rendered-diff -->';

/** GitHub's limit on a comment body, characters; the diff is cut well before it. */
const MAX_COMMENT_CHARACTERS = 65_536;
const MAX_DIFF_CHARACTERS = 60_000;

export interface DiffCommandOptions {
  readonly root: string;
  /** The git ref the pull request merges into, e.g. origin/main. */
  readonly base: string;
  /** Upsert the diff as this pull request's comment instead of printing it. */
  readonly comment?: string;
  readonly repository?: string;
  readonly githubApiUrl?: string;
}

/** generated/ at a git ref (outside the preserved folders), relative to generated/. */
async function generatedAt(root: string, ref: string): Promise<Map<string, string>> {
  const git = simpleGit(root);
  const listing = await git.raw(['ls-tree', '-r', '--name-only', ref, '--', `${GENERATED_DIR}/`]).catch(() => {
    throw new CliError(`--base: expected a git ref of this repository (got ${JSON.stringify(ref)}); fetch it first, e.g. git fetch origin main`, ExitCode.usage);
  });
  const tree = new Map<string, string>();
  for (const file of listing.split('\n').filter(Boolean)) {
    const relative = file.slice(GENERATED_DIR.length + 1);
    if (PRESERVED_DIRS.some((dir) => relative.startsWith(`${dir}/`))) continue;
    tree.set(relative, await git.show([`${ref}:${file}`]));
  }
  return tree;
}

interface FileChange {
  readonly file: string;
  readonly patch: string;
  readonly added: number;
  readonly removed: number;
}

/** The rendered-manifest diff as Markdown: one collapsible section per environment, like argocd-diff-preview. */
export function renderDiffMarkdown(base: string, changes: readonly FileChange[]): string {
  if (changes.length === 0) return `### Rendered manifests\n\nNo change to \`generated/\` against \`${base}\`.\n`;
  const environments = [...new Set(changes.map((change) => change.file.split('/')[0]!))].sort();
  let budget = MAX_DIFF_CHARACTERS;
  const sections = environments.map((environment) => {
    const files = changes.filter((change) => change.file.split('/')[0] === environment);
    const added = files.reduce((sum, file) => sum + file.added, 0);
    const removed = files.reduce((sum, file) => sum + file.removed, 0);
    const patches = files.map((file) => {
      if (file.patch.length > budget) return `# generated/${file.file}: +${file.added} −${file.removed} (diff too long for a comment; run \`llmops diff --base ${base}\`)`;
      budget -= file.patch.length;
      return file.patch.trimEnd();
    });
    return [`<details>`, `<summary><b>${environment}</b>: ${files.length} file(s), +${added} −${removed}</summary>`, '', '```diff', ...patches, '```', '', '</details>'].join('\n');
  });
  return [`### Rendered manifests: ${changes.length} file(s) in ${environments.length} environment(s) against \`${base}\``, '', ...sections, ''].join('\n');
}

/** `llmops diff`: what this checkout's declarations render, against generated/ on the base ref. */
export async function diffCommand(options: DiffCommandOptions, io: Io): Promise<void> {
  const fleet = await fleetOrFail(options.root, io);
  let tree: Map<string, string>;
  try {
    tree = synthesize(fleet);
  } catch (error) {
    if (error instanceof SynthesisError) throw new CliError(error.message, ExitCode.failure);
    throw error;
  }
  const before = await generatedAt(options.root, options.base);
  const files = [...new Set([...before.keys(), ...tree.keys()])].sort();
  const changes: FileChange[] = [];
  for (const file of files) {
    const [old, next] = [before.get(file) ?? '', tree.get(file) ?? ''];
    if (old === next) continue;
    const patch = createTwoFilesPatch(`a/generated/${file}`, `b/generated/${file}`, old, next, undefined, undefined, { context: 3 });
    const lines = patch.split('\n').slice(4);
    changes.push({ file, patch: patch.split('\n').slice(1).join('\n'), added: lines.filter((line) => line.startsWith('+')).length, removed: lines.filter((line) => line.startsWith('-')).length });
  }
  const markdown = renderDiffMarkdown(options.base, changes);
  if (options.comment === undefined) {
    io.out(markdown);
    return;
  }
  const number = Number(options.comment);
  if (!Number.isInteger(number) || number < 1) throw new CliError(`--comment: expected a pull request number (got ${JSON.stringify(options.comment)})`, ExitCode.usage);
  const github = await githubFromEnvironment(options, 'export a token with pull-requests write access, or leave out --comment to print the diff');
  const result = await github.upsertComment(number, DIFF_COMMENT_MARKER, markdown.slice(0, MAX_COMMENT_CHARACTERS - DIFF_COMMENT_MARKER.length - 1));
  io.out(`rendered-manifest diff comment on #${number}: ${result} (${changes.length} file(s) changed)\n`);
}
