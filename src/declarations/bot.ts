import { z } from 'zod';
import { DnsLabel } from './dns-label.ts';
import { ImageDigest } from './image.ts';
import { expected } from './issues.ts';

/** The container image the bot runs: this repository's compiler with its dependencies, Node.js 20+, git and a POSIX shell. */
export const BotImage = z.strictObject({
  /** Image repository, e.g. `ghcr.io/acme/llmops-gitops`. */
  repository: z.string().regex(/^[a-z0-9.-]+(:\d+)?(\/[a-z0-9._-]+)+$/, { error: expected('an image repository such as "ghcr.io/acme/llmops-gitops"') }),
  /** Image tag (a release or commit of this repository); never `latest`, which would change under a running bot. */
  tag: z
    .string()
    .regex(/^\w[\w.-]{0,127}$/, { error: expected('an image tag: letters, digits, "_", "." and "-", at most 128 characters') })
    .refine((tag) => tag !== 'latest', { error: expected('a pinned tag, not "latest"') }),
  /** Digest pinning the bytes behind the tag. Default: none. */
  digest: ImageDigest.optional(),
});
export type BotImage = z.infer<typeof BotImage>;

/** The GitHub App the bot acts as; its installation token is minted from the App's key at every cycle. */
export const BotGitHubApp = z.strictObject({
  /** The App's client ID (its settings page, "Client ID"). */
  clientId: z.string().regex(/^[A-Za-z0-9.]+$/, { error: expected('a GitHub App client ID such as "Iv23liAbCdEf123456"') }),
});
export type BotGitHubApp = z.infer<typeof BotGitHubApp>;

/**
 * The bot (`llmops optimize`) running in this environment's cluster, next to
 * the Prometheus it reads (README, "Where the bot runs"). `service`: a
 * Deployment running `--serve`, a cycle every `intervalMinutes`, its /metrics
 * scraped by a ServiceMonitor and /healthz probed. `schedule`: a CronJob
 * running `--once` every `intervalMinutes`. Either way with its own
 * ServiceAccount (no Kubernetes API access) and a NetworkPolicy that lets it
 * reach Prometheus, DNS and GitHub only.
 */
export const Bot = z.strictObject({
  /** `service` (a Deployment with --serve) or `schedule` (a CronJob with --once). */
  mode: z.enum(['service', 'schedule']),
  /** The bot's image. */
  image: BotImage,
  /** Minutes between cycles, 1–60. Default: 15, like the scheduled workflow. */
  intervalMinutes: z.int().min(1).max(60).default(15),
  /** The GitHub App the bot acts as. */
  githubApp: BotGitHubApp,
  /**
   * Secret in the environment's namespace, created out of band and never in
   * git, holding the App's private key (PEM) under `github-app-private-key` and
   * the bot's signing key (LLMOPS_BOT_SECRET, e.g. `openssl rand -hex 32`)
   * under `signing-key`. Default: `llmops-bot`.
   */
  secretName: DnsLabel.default('llmops-bot'),
});
export type Bot = z.infer<typeof Bot>;
