/**
 * The bot's dashboard: one issue per repository, "llmops dashboard", like
 * Renovate's Dependency Dashboard. Rewritten in place every cycle (never a
 * second one; only an issue the bot's own login opened counts), and written
 * only when its text changes. Safety actions a pause or freeze blocks come
 * first; then what is paused or frozen, the open proposals, those held back by
 * limits, branches people took over, declined proposals (each with a box to
 * retry it), what is being verified, and recent verifications and reverts.
 * Pure: the cycle gathers the state and writes the text.
 */

export const DASHBOARD_TITLE = 'llmops dashboard';
const MARKER = '<!-- llmops-gitops:dashboard -->';
const retryMarker = (pullRequest: number) => `<!-- llmops-gitops:retry #${pullRequest} -->`;

export interface DashboardState {
  /** Deployments whose SLO breach a pause or freeze keeps the bot from answering. */
  readonly blockedSafety: readonly { readonly deploymentId: string; readonly detail: string }[];
  /** Deployments the bot leaves alone for now: paused, frozen. */
  readonly stopped: readonly { readonly deploymentId: string; readonly detail: string }[];
  readonly open: readonly { readonly number: number; readonly title: string; readonly labels: readonly string[]; readonly autoMerge: boolean }[];
  readonly limited: readonly { readonly deploymentId: string; readonly detail: string }[];
  readonly handsOff: readonly { readonly deploymentId: string; readonly pullRequest?: number; readonly detail: string }[];
  readonly declined: readonly { readonly pullRequest: number; readonly deploymentId: string; readonly what: string; readonly how: string; readonly reopenedBy?: string }[];
  readonly verifying: readonly { readonly deploymentId: string; readonly detail: string }[];
  /** Newest first. */
  readonly recent: readonly { readonly at: Date; readonly deploymentId: string; readonly detail: string }[];
  readonly failed: readonly { readonly deploymentId: string; readonly detail: string }[];
}

const section = <T>(title: string, items: readonly T[], line: (item: T) => string, empty?: string): string[] =>
  items.length > 0 ? [`## ${title}`, '', ...items.map(line), ''] : empty ? [`## ${title}`, '', empty, ''] : [];

const day = (at: Date) => `${at.toISOString().slice(0, 16).replace('T', ' ')} UTC`;

export function renderDashboard(state: DashboardState): string {
  return [
    MARKER,
    'What the llmops bot is doing in this repository, rewritten by every run. Check a box below to have the next run act on it.',
    '',
    ...section('⚠ Safety actions blocked', state.blockedSafety, (item) => `- **\`${item.deploymentId}\`**: ${item.detail}`),
    ...section('Paused or frozen', state.stopped, (item) => `- \`${item.deploymentId}\`: ${item.detail}`),
    ...section('Open proposals', state.open, (item) => `- #${item.number} ${item.title} (${item.labels.filter((label) => label.startsWith('risk:') || label === 'rollback').join(', ') || 'no risk label'}${item.autoMerge ? ', auto-merge on' : ''})`, 'None.'),
    ...section('Held back by limits', state.limited, (item) => `- \`${item.deploymentId}\`: ${item.detail}`),
    ...section('Branches a person committed to', state.handsOff, (item) => `- \`${item.deploymentId}\`${item.pullRequest ? ` #${item.pullRequest}` : ''}: ${item.detail}; check the box in the pull request to hand it back`),
    ...section('Declined and ignored', state.declined, (item) =>
      item.reopenedBy
        ? `- [ ] ${retryMarker(item.pullRequest)} #${item.pullRequest} \`${item.deploymentId}\` ${item.what}: ${item.how}; the evidence has moved since (${item.reopenedBy}), so it may be proposed again`
        : `- [ ] ${retryMarker(item.pullRequest)} #${item.pullRequest} \`${item.deploymentId}\` ${item.what}: ${item.how}; its neighbourhood is ignored until the evidence changes — check to retry now`,
    ),
    ...section('Being verified', state.verifying, (item) => `- \`${item.deploymentId}\`: ${item.detail}`),
    ...section('Recent verifications and reverts', state.recent, (item) => `- ${day(item.at)} \`${item.deploymentId}\`: ${item.detail}`, 'None in the last 14 days.'),
    ...section('Failed this run', state.failed, (item) => `- \`${item.deploymentId}\`: ${item.detail.split('\n')[0]}`),
  ]
    .join('\n')
    .trimEnd()
    .concat('\n');
}

/** The pull requests whose retry box a person checked. */
export function retryRequests(body: string): number[] {
  return [...body.matchAll(/^\s*[-*] \[[xX]\] <!-- llmops-gitops:retry #(\d+) -->/gm)].map((match) => Number(match[1]));
}
