/**
 * What the bot trusts: only itself. A pull request or comment is the bot's when
 * GitHub says the bot's login wrote it and (for a pull request) its branch lives
 * in this repository, not a fork; a commit is the bot's when it carries a
 * signature keyed with the bot's secret over its parent and tree. Fingerprints
 * are keyed with the same secret, so nobody can write one for a proposal the
 * bot has not made yet.
 */
import { createHmac } from 'node:crypto';

/** Who the bot is: its git identity, its GitHub login and its key. */
export interface BotIdentity {
  /** Git author and committer name. */
  readonly name: string;
  /** Git author and committer e-mail. */
  readonly email: string;
  /**
   * Key of every fingerprint and commit signature (`LLMOPS_BOT_SECRET`): a
   * random string of at least 32 characters that only the bot holds.
   */
  readonly secret: string;
}

/** The git identity the bot commits as (with the secret it is given). */
export const BOT_GIT_IDENTITY = { name: 'llmops-bot', email: 'llmops-bot@users.noreply.github.com' } as const;

/** Fewest characters of a secret: 32 hex characters hold 128 bits. */
export const MIN_SECRET_CHARACTERS = 32;

/** HMAC-SHA256 of the parts (joined by a NUL, which no part contains), hex. */
export function keyedDigest(secret: string, ...parts: readonly string[]): string {
  return createHmac('sha256', secret).update(parts.join('\u0000')).digest('hex');
}

/** What the bot needs to know of a pull request to decide whether it wrote it. */
export interface PullRequestOrigin {
  /** Login of the author (GitHub's `user.login`). */
  readonly author?: string;
  /** `owner/name` of the repository the head branch lives in (`head.repo.full_name`). */
  readonly headRepository?: string;
}

/** The bot's own pull request: opened by its login from a branch of this repository. */
export function isOwnPullRequest(pull: PullRequestOrigin, login: string, repository: string): boolean {
  return pull.author === login && pull.headRepository?.toLowerCase() === repository.toLowerCase();
}
