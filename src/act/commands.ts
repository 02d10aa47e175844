/**
 * Comment commands on the bot's pull requests, handled by its next run, like
 * Renovate's and Dependabot's: `/llmops rebase` regenerates the branch,
 * `/llmops ignore` declines the proposal and its neighbourhood, `/llmops
 * explain` replies with the evidence. Only people with write access are obeyed
 * (GitHub's answer to GET …/collaborators/{username}/permission), and each
 * command is answered exactly once: the bot's reply carries a marker with the
 * command comment's id, so a later run sees it was handled.
 */
import type { GitHubRepository, IssueComment, Permission, PullRequest } from './github.ts';

export const COMMANDS = ['rebase', 'ignore', 'explain'] as const;
export type Command = (typeof COMMANDS)[number];

/** The command a comment gives: a line `/llmops <command>` of its own. */
export function parseCommand(body: string): Command | undefined {
  const match = /^\s*\/llmops\s+(\w+)\s*$/m.exec(body);
  return COMMANDS.find((command) => command === match?.[1]);
}

/** The marker that tells a comment of the bot's answers command comment `id`. */
export const answerMarker = (id: number) => `<!-- llmops-gitops:answer ${id} -->`;

/** A command nobody has answered yet. */
export interface PendingCommand {
  readonly pull: PullRequest;
  readonly comment: IssueComment;
  readonly command: Command;
  /** Login of the person who gave it. */
  readonly by: string;
  /** They have write access. */
  readonly allowed: boolean;
}

const WRITE: readonly Permission[] = ['admin', 'write'];

/** The unanswered commands on the bot's open pull requests, with whether their authors may give them. */
export async function pendingCommands(github: GitHubRepository, pulls: readonly PullRequest[]): Promise<PendingCommand[]> {
  const login = await github.login();
  const permissions = new Map<string, Promise<Permission>>();
  const pending: PendingCommand[] = [];
  for (const pull of pulls) {
    const comments = await github.listComments(pull.number);
    // Answers are the bot's own comments only: someone else cannot mark a command as handled.
    const answered = comments
      .filter((comment) => comment.author === login)
      .map((comment) => comment.body)
      .join('\n');
    for (const comment of comments) {
      const command = parseCommand(comment.body);
      if (!command || !comment.author || comment.author === login || answered.includes(answerMarker(comment.id))) continue;
      if (!permissions.has(comment.author)) permissions.set(comment.author, github.permissionOf(comment.author));
      pending.push({ pull, comment, command, by: comment.author, allowed: WRITE.includes(await permissions.get(comment.author)!) });
    }
  }
  return pending;
}

/** Answers a command once: the reply carries the marker of the comment it answers. */
export async function answer(github: GitHubRepository, pending: PendingCommand, text: string): Promise<void> {
  await github.comment(pending.pull.number, `${answerMarker(pending.comment.id)}\n@${pending.by}: ${text}`);
}

/** The answer to someone without write access. */
export const refusal = (pending: PendingCommand) => `\`/llmops ${pending.command}\` needs write access to this repository; nothing was done.`;
