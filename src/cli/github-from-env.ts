import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { GitHubRepository } from '../act/github.ts';
import { ExitCode } from './exit-codes.ts';
import { CliError } from './io.ts';

/** `owner/name` of a github.com repository URL (https or ssh), or undefined. */
export const githubRepositoryOfUrl = (url: string | undefined): string | undefined => /github\.com[/:]([^/]+\/[^/.]+)/.exec(url ?? '')?.[1];

/** `owner/name` from package.json's repository URL. */
async function repositoryFromPackage(root: string): Promise<string | undefined> {
  try {
    const { repository } = JSON.parse(await readFile(path.join(root, 'package.json'), 'utf8'));
    return githubRepositoryOfUrl(typeof repository === 'string' ? repository : repository?.url);
  } catch {
    return undefined;
  }
}

export interface GitHubCliOptions {
  readonly root: string;
  /** `owner/name`; default: GITHUB_REPOSITORY (set in Actions), then package.json's repository. */
  readonly repository?: string;
  readonly githubApiUrl?: string;
}

/**
 * The GitHub client for a command, with the token from GITHUB_TOKEN and the
 * bot's login from LLMOPS_BOT_LOGIN (else GitHub's answer to GET /user, which
 * only user tokens get). `hint` says what to do instead when there is no token.
 */
export async function githubFromEnvironment(options: GitHubCliOptions, hint: string): Promise<GitHubRepository> {
  const token = process.env.GITHUB_TOKEN;
  if (!token) throw new CliError(`GITHUB_TOKEN is not set: ${hint}`, ExitCode.usage);
  return new GitHubRepository({ token, repository: await repositoryOf(options), apiUrl: githubApiUrlOf(options), login: process.env.LLMOPS_BOT_LOGIN || undefined });
}

/** `owner/name`: --repository, then GITHUB_REPOSITORY (set in Actions), then package.json's repository. */
export async function repositoryOf(options: GitHubCliOptions): Promise<string> {
  const repository = options.repository ?? (process.env.GITHUB_REPOSITORY || undefined) ?? (await repositoryFromPackage(options.root));
  if (!repository) throw new CliError('--repository: expected owner/name (GITHUB_REPOSITORY is not set and package.json has no github.com repository URL)', ExitCode.usage);
  return repository;
}

/** The REST API root: --github-api-url, then GITHUB_API_URL (set in Actions); undefined for api.github.com. */
export const githubApiUrlOf = (options: GitHubCliOptions): string | undefined => options.githubApiUrl ?? (process.env.GITHUB_API_URL || undefined);
