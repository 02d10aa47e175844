/**
 * The pull-request body a reviewer reads: summary and the window it rests on,
 * current vs proposed with a link to the Prometheus graph of each observed
 * figure, confidence (no higher than the prediction of what runs now earned),
 * risk and redundancy in words, why, what was excluded, the declaration diff,
 * the Pareto chart, the canary plan, what Argo CD does after the merge, how to
 * pause the bot, the generated/ diff, a checkbox that regenerates the branch,
 * and a hidden metadata block a later run reads back. Pure.
 */
import { HOURS_PER_MONTH } from '../catalogue/prices.ts';
import { describeChange, describeConfiguration } from '../optimizer/describe.ts';
import type { Evidence } from '../optimizer/neighbourhood.ts';
import type { Signals } from '../optimizer/observe.ts';
import type { Configuration } from '../optimizer/predict.ts';
import { currentPredictionMiss, reportedConfidence, riskLabelOf } from './confidence.ts';
import type { CanaryTrafficPlan, CanaryTrafficStep, PodSplit } from '../fleet/canary-traffic.ts';
import type { CanaryPlan, Recommendation } from '../optimizer/recommendation.ts';
import { paretoChart } from './pareto-chart.ts';
import type { Proposal } from './proposal.ts';

/** One file of the generated/ diff. */
export interface FileDiff {
  readonly file: string;
  readonly added: number;
  readonly removed: number;
}

/** What a later run reads back from the body. */
export interface PullRequestMetadata {
  readonly deploymentId: string;
  readonly kind: Proposal['kind'];
  /** The rule that made an optimization (a safety answer replaces an open cost proposal; hysteresis keeps one of the same rule). */
  readonly rule?: string;
  readonly fingerprint: string;
  readonly to: Configuration;
  /** What the proposal was made on. */
  readonly evidence?: Evidence;
  /** The bot closed it itself (its evidence was gone): not a decline. */
  readonly autoClosed?: string;
  /** A person asked on the dashboard to retry it: its decline no longer holds. */
  readonly retried?: boolean;
  /** The bot has noted the decline (closing comment posted): when, and who asked (`/llmops ignore`). */
  readonly declined?: { readonly at: string; readonly by?: string };
}

/** What the body says beyond the proposal: where it will run and what the reviewer can check. */
export interface BodyContext {
  /** Lines added and removed per file of generated/. */
  readonly generatedDiff: readonly FileDiff[];
  /** The unified diff of the environment declaration. */
  readonly declarationDiff: string;
  /** Argo CD's sync of the environment and its Application's name. */
  readonly sync: 'auto' | 'manual';
  readonly argocdApplication: string;
  /** Minutes the bot watches the change after Argo CD synced it. */
  readonly verificationWindowMinutes: number;
  /** The window the figures were read over. */
  readonly window?: { readonly start: Date; readonly end: Date; readonly peakHours: number };
  /** A link per observed figure (signal name → Prometheus graph). */
  readonly links?: Partial<Record<keyof Signals, string>>;
  /** Banned neighbourhoods (reverted or declined) the proposal was kept out of, one line each. */
  readonly excluded?: readonly string[];
}

/** The checkbox that asks the bot to regenerate a branch (Renovate's "rebase/retry" box). */
export const REBASE_CHECKBOX_MARKER = '<!-- llmops-gitops:rebase -->';
const REBASE_CHECKBOX = `- [ ] ${REBASE_CHECKBOX_MARKER} Check this box to have the bot regenerate this branch on the base branch at its next run — also after someone committed to it: those commits are then replaced by the bot's one.`;

/** Whether a person checked the regenerate box in a body. */
export const rebaseRequested = (body: string) => new RegExp(`^\\s*[-*] \\[[xX]\\] ${REBASE_CHECKBOX_MARKER}`, 'm').test(body);

const METADATA_PREFIX = '<!-- llmops-gitops:metadata ';
const METADATA_SUFFIX = ' -->';

/** GitHub's limit on a pull-request body, characters. */
export const MAX_BODY_CHARACTERS = 65_536;

const usd = (value: number | undefined) => (value === undefined || !Number.isFinite(value) ? '-' : `${value.toFixed(2)}`);
const ms = (seconds: number | undefined) => (seconds === undefined || !Number.isFinite(seconds) ? '-' : `${Math.round(seconds * 1000)} ms`);
const pct = (ratio: number | undefined) => (ratio === undefined || !Number.isFinite(ratio) ? '-' : `${(ratio * 100).toFixed(2)} %`);
const perSecond = (value: number | undefined, unit: string) => (value === undefined || !Number.isFinite(value) ? '-' : `${value.toFixed(2)} ${unit}/s`);

function engineArgsOf(configuration: Configuration): string {
  return [`max-num-seqs ${configuration.maxNumSeqs}`, configuration.quantization ? `quantization ${configuration.quantization}` : undefined].filter(Boolean).join(', ');
}

/** "observed / predicted" for the current column. */
const both = (observed: string, predicted: string) => `${observed} observed / ${predicted} predicted`;

function comparisonTable(recommendation: Recommendation, links: BodyContext['links'] = {}): string[] {
  const current = recommendation.current;
  const proposed = recommendation.proposed!;
  const observed: Signals = recommendation.observed;
  const [now, next] = [current.prediction, proposed.prediction];
  // An observed figure links to the graph of the query it was read with.
  const seen = (signal: keyof Signals, text: string) => (links[signal] && text !== '-' ? `[${text}](${links[signal]})` : text);
  const rows: [string, string, string][] = [
    ['GPU', `${current.configuration.gpuCount}x ${current.configuration.gpuType} (${current.machine})`, `${proposed.configuration.gpuCount}x ${proposed.configuration.gpuType} (${proposed.machine})`],
    ['Replicas (min–max)', `${current.configuration.replicasMin}–${current.configuration.replicasMax}`, `${proposed.configuration.replicasMin}–${proposed.configuration.replicasMax}`],
    ['Engine args', engineArgsOf(current.configuration), engineArgsOf(proposed.configuration)],
    ['USD/hour (min replicas)', usd(current.costPerHourUsd), usd(proposed.costPerHourUsd)],
    ['USD/month (min replicas)', usd(current.costPerHourUsd * HOURS_PER_MONTH), usd(proposed.costPerHourUsd * HOURS_PER_MONTH)],
    ['p95 end-to-end latency', both(seen('e2eP95Seconds', ms(observed.e2eP95Seconds)), ms(now.e2eP95Seconds)), `${ms(next.e2eP95Seconds)} predicted`],
    ['p95 time to first token', both(seen('ttftP95Seconds', ms(observed.ttftP95Seconds)), ms(now.ttftP95Seconds)), `${ms(next.ttftP95Seconds)} predicted`],
    ['p95 inter-token latency', both(seen('interTokenP95Seconds', ms(observed.interTokenP95Seconds)), ms(now.interTokenP95Seconds)), `${ms(next.interTokenP95Seconds)} predicted`],
    ['Error ratio', `${seen('errorRatio', pct(observed.errorRatio))} observed`, 'not predicted (watched by the canary)'],
    [
      'Throughput',
      `${seen('requestsPerSecond', perSecond(observed.requestsPerSecond, 'req'))}, ${seen('generationTokensPerSecond', perSecond(observed.generationTokensPerSecond, 'tokens'))} observed`,
      `${perSecond(next.capacityRequestsPerSecond, 'req')} capacity predicted`,
    ],
    ['Peak utilization', `${pct(now.peakUtilization)} predicted`, `${pct(next.peakUtilization)} predicted`],
  ];
  return ['| | Current | Proposed |', '|---|---|---|', ...rows.map(([name, a, b]) => `| ${name} | ${a} | ${b} |`)];
}

const share = (pct: number) => `${Number(pct.toFixed(1))} %`;
const pods = (split: PodSplit) => `${split.canary} canary + ${split.stable} stable pods`;

/** The traffic one step really gives the canary: the weight with a router, else the pods' share at the minimum and maximum replicas. */
function stepTraffic(plan: CanaryTrafficPlan, step: CanaryTrafficStep): string {
  if (plan.router === 'gateway-api') return share(step.trafficPct.atMin);
  const { min, max } = plan.replicas;
  const atMin = `${share(step.trafficPct.atMin)} at ${Math.max(1, min)} replica(s) (${pods(step.pods.atMin)})`;
  return max > min ? `${atMin}; ${share(step.trafficPct.atMax)} at ${max} (${pods(step.pods.atMax)})` : atMin;
}

/** The canary plan as the cluster will run it: per step the canary's real share of traffic, pause and analysis. */
export function canarySection(plan: CanaryPlan): string[] {
  if (!plan.enabled)
    return ['### Rollout', '', 'This environment rolls out without a canary (a plain Deployment): the bot watches the SLOs after the merge and opens a revert pull request if they break.'];
  const { rollback, traffic } = plan;
  const analysis = [
    `server-error ratio ≤ ${(rollback.maxErrorRateRatio * 100).toFixed(2)} %`,
    `p95 time to first token and inter-token latency at most ${rollback.maxP95LatencyIncreasePct} % above stable`,
    ...(rollback.qualityMetric ? [`${rollback.qualityMetric} ≥ ${rollback.minQuality ?? 0}`] : []),
  ];
  const router =
    traffic.router === 'gateway-api'
      ? "Exact weights: Argo Rollouts' Gateway API traffic router sets the route's stable and canary backend weights."
      : `No traffic router: the canary's share is its share of the pods (the policy's ${traffic.steps.map((step) => `${step.declaredWeightPct} %`).join(', ')}), at the replica count KEDA holds when the rollout starts.`;
  return [
    '### Canary plan',
    '',
    '| Step | Canary traffic | Pause | Analysis |',
    '|---:|---|---|---|',
    ...traffic.steps.map(
      (step, index) =>
        `| ${index + 1} | ${stepTraffic(traffic, step)} | ${step.pauseMinutes === 0 ? (index === traffic.steps.length - 1 ? '-' : 'until promoted') : `${step.pauseMinutes} min`} | ${step.analysis ? 'yes' : 'no'} |`,
    ),
    '',
    router,
    '',
    `Analysis every ${plan.analysisIntervalSeconds} s, ${plan.analysisCount} measurements, failure limit ${plan.failureLimit}, each counted only once the canary served enough requests: ${analysis.join('; ')}. A failed analysis aborts the rollout; the bot then opens a revert pull request.`,
  ];
}

function diffSection(diff: readonly FileDiff[]): string[] {
  const added = diff.reduce((sum, file) => sum + file.added, 0);
  const removed = diff.reduce((sum, file) => sum + file.removed, 0);
  return [
    '<details>',
    `<summary>generated/ changes: ${diff.length} file(s), +${added} −${removed}</summary>`,
    '',
    '| File | + | − |',
    '|---|---:|---:|',
    ...diff.map((file) => `| \`${file.file}\` | ${file.added} | ${file.removed} |`),
    '',
    '</details>',
  ];
}

function metadataBlock(proposal: Proposal): string {
  const metadata: PullRequestMetadata = {
    deploymentId: proposal.deploymentId,
    kind: proposal.kind,
    ...(proposal.recommendation ? { rule: proposal.recommendation.rule } : {}),
    fingerprint: proposal.fingerprint,
    to: proposal.to,
    ...(proposal.evidence ? { evidence: proposal.evidence } : {}),
  };
  return metadataText(metadata);
}

const metadataText = (metadata: PullRequestMetadata) => `${METADATA_PREFIX}${JSON.stringify(metadata)}${METADATA_SUFFIX}`;

/** `body` with its metadata block replaced by `metadata` (the bot marks what it closed or what a person retried). */
export function withMetadata(body: string, metadata: PullRequestMetadata): string {
  const start = body.indexOf(METADATA_PREFIX);
  if (start < 0) return `${body}\n\n${metadataText(metadata)}`;
  const end = body.indexOf(METADATA_SUFFIX, start + METADATA_PREFIX.length) + METADATA_SUFFIX.length;
  return body.slice(0, start) + metadataText(metadata) + body.slice(end);
}

/** Reads the hidden metadata back from a body; undefined when it is not a bot pull request. */
export function parseMetadata(body: string | null | undefined): PullRequestMetadata | undefined {
  const start = body?.indexOf(METADATA_PREFIX) ?? -1;
  if (!body || start < 0) return undefined;
  const end = body.indexOf(METADATA_SUFFIX, start + METADATA_PREFIX.length);
  try {
    return JSON.parse(body.slice(start + METADATA_PREFIX.length, end));
  } catch {
    return undefined;
  }
}

/** Minimum replicas in words: what a drain or a crash does with the proposed floor, when it changes that. */
export function redundancyWords(from: Configuration, to: Configuration): string | undefined {
  if (from.replicasMin === to.replicasMin) return undefined;
  const change = `Minimum replicas ${from.replicasMin} → ${to.replicasMin}`;
  if (to.replicasMin === 0) return `${change}: scales to zero when idle; the first request after a quiet spell waits for a replica to load its weights.`;
  if (from.replicasMin >= 2 && to.replicasMin < 2)
    return `${change} loses redundancy: a node drain, a crash or a restart takes the model offline until a replacement has loaded its weights (README, "Node drains").`;
  if (from.replicasMin < 2 && to.replicasMin >= 2) return `${change} gains redundancy: one replica can be drained or crash while the others serve.`;
  return `${change}: ${to.replicasMin >= 2 ? 'still redundant' : 'still a single replica'}.`;
}

const RISK_WORDS: Readonly<Record<string, string>> = { 'risk:low': 'low', 'risk:medium': 'medium', 'risk:high': 'high' };

/** Confidence, risk and redundancy, in words a reviewer can weigh. */
function confidenceSection(recommendation: Recommendation): string[] {
  const shown = reportedConfidence(recommendation);
  const miss = shown.cappedBy;
  const matched = currentPredictionMiss(recommendation);
  const confidence =
    shown.value === undefined
      ? 'Confidence: not estimated.'
      : miss
        ? `Confidence ${shown.value.toFixed(2)}: the model's own figure is ${shown.model!.toFixed(2)}, but its prediction for the current configuration was ${miss.factor.toFixed(miss.factor >= 10 ? 0 : 1)}× off the observation (${miss.figure} ${ms(miss.observedSeconds)} observed, ${ms(miss.predictedSeconds)} predicted), so no more than ${shown.value.toFixed(2)} is claimed.`
        : `Confidence ${shown.value.toFixed(2)}; ${matched ? `the prediction for the current configuration was within ${((matched.factor - 1) * 100).toFixed(0)} % of the observation at worst (${matched.figure})` : 'no latency of the current configuration was observed to check the prediction against'}.`;
  const label = riskLabelOf(recommendation);
  const risk = `Risk ${RISK_WORDS[label]}: ${recommendation.risk === undefined ? 'no' : `${(recommendation.risk * 100).toFixed(1)} %`} predicted probability that the proposed configuration breaks an SLO at the window's peak${label !== 'risk:low' && recommendation.risk !== undefined && recommendation.risk < 0.02 ? ', raised because the confidence is low' : ''}.`;
  const redundancy = redundancyWords(recommendation.current.configuration, recommendation.proposed!.configuration);
  const hardware =
    recommendation.current.configuration.gpuType !== recommendation.proposed!.configuration.gpuType
      ? `The GPU type changes: its figures are carried over from what ${recommendation.current.configuration.gpuType} was observed doing, which the canary checks on real traffic.`
      : undefined;
  return ['### Confidence and risk', '', `- ${confidence}`, `- ${risk}`, ...(redundancy ? [`- ${redundancy}`] : []), ...(hardware ? [`- ${hardware}`] : [])];
}

/** What happens after the merge, per environment, and how to stop the bot. */
function afterMergeSection(proposal: Proposal, context: BodyContext, policy: string): string[] {
  const { argocdApplication: application, sync, verificationWindowMinutes: minutes } = context;
  const argo =
    sync === 'manual'
      ? `**${proposal.environment} syncs manually**: merging changes git only. Nothing changes in the cluster until someone syncs the Argo CD Application \`${application}\` (\`argocd app sync ${application}\`, or Sync in the UI). The bot verifies the change for ${minutes} min from that sync, not from the merge.`
      : `**${proposal.environment} syncs automatically**: Argo CD applies the merge to \`${application}\` at its next refresh (3 min by default, at once with a webhook) and the rollout starts. The bot verifies the change for ${minutes} min from the sync.`;
  return [
    '### After the merge',
    '',
    `- ${argo}`,
    `- To stop the bot for every deployment of policy \`${policy}\`: merge \`paused: true\` in \`policies/${policy}.ts\` (or add a \`freezeWindows\` entry for a release freeze). Comment \`/llmops ignore\` to decline this proposal and its neighbourhood, \`/llmops explain\` for the evidence, \`/llmops rebase\` to regenerate the branch (people with write access only).`,
  ];
}

/** A needs-decision draft: what breaches, the fixes considered and the rule that blocked each, and what a person can do. */
function decisionSection(recommendation: Recommendation): string[] {
  const { escalation } = recommendation;
  if (!escalation) return [];
  return [
    '### A person decides',
    '',
    `The SLO is breached (${escalation.breach}) and every fix the bot found is blocked by the policy \`${recommendation.policy}\`, so this is a **draft**: the change below is the fix most likely to hold the SLOs. Mark it ready and merge it to take it, change the policy (thresholds, search space, node pools) to let the bot act, or close it to decline.`,
    '',
    '| fix considered | USD/h | blocked by |',
    '|---|---:|---|',
    ...escalation.considered.map((fix) => `| ${describeConfiguration(fix.configuration)} | ${fix.costPerHourUsd.toFixed(2)} | ${fix.blockedBy ?? '-'} |`),
  ];
}

function declarationSection(context: BodyContext): string[] {
  if (context.declarationDiff.trim() === '') return [];
  return [
    '### Declaration change',
    '',
    '```diff',
    ...context.declarationDiff
      .trimEnd()
      .split('\n')
      .filter((line) => !/^(diff --git|index |--- |\+\+\+ )/.test(line)),
    '```',
  ];
}

const utc = (at: Date) => `${at.toISOString().slice(0, 16).replace('T', ' ')} UTC`;

export function renderPullRequestBody(proposal: Proposal, context: BodyContext): string {
  const lines: string[] = [];
  const policy = proposal.recommendation?.policy;
  if (proposal.kind === 'revert') {
    const verdict = proposal.verdict!;
    lines.push(
      `**llmops** reverts \`${proposal.deploymentId}\`: the change merged before failed its verification window (${verdict.start.at ? `${utc(verdict.start.at)}` : 'from the sync'}${verdict.windowEnd ? ` until ${utc(verdict.windowEnd)}` : ''}; ${verdict.start.detail}).`,
      '',
      '### Evidence',
      '',
      ...verdict.evidence.map((line) => `- ${line}`),
      '',
      '### Revert',
      '',
      `\`${proposal.sourceFile}\` goes back to ${proposal.to.gpuCount}x ${proposal.to.gpuType}, ${proposal.to.replicasMin}–${proposal.to.replicasMax} replicas, ${engineArgsOf(proposal.to)}. ${proposal.ban ? ` The failed configuration and its neighbourhood are not proposed again until ${utc(new Date(proposal.ban.until))} (ban ${proposal.ban.strike} of this neighbourhood: ${proposal.ban.days} days; each repeat doubles it).` : ''}`,
      '',
      ...declarationSection(context),
    );
  } else {
    const recommendation = proposal.recommendation!;
    const saved = recommendation.current.costPerHourUsd - recommendation.proposed!.costPerHourUsd;
    const money = Number.isFinite(saved) ? `, ${saved >= 0 ? 'saving' : 'costing'} ${Math.abs(saved).toFixed(2)} USD/h (${Math.abs(saved * HOURS_PER_MONTH).toFixed(0)} USD/month)` : '';
    const { window } = context;
    lines.push(
      `**llmops** proposes for \`${proposal.deploymentId}\`: ${describeChange(recommendation)}${money}.`,
      '',
      ...(window
        ? [
            `Observed from ${utc(window.start)} to ${utc(window.end)}; minimum replicas are sized for the peak of the ${window.peakHours} hours before. Each observed figure links to its Prometheus query.`,
            '',
          ]
        : []),
      '### Current vs proposed',
      '',
      ...comparisonTable(recommendation, context.links),
      '',
      "Predictions are for the window's peak load on the minimum replicas.",
      '',
      ...confidenceSection(recommendation),
      '',
      '### Why',
      '',
      `${recommendation.reason}.`,
      '',
      ...(recommendation.escalation ? [...decisionSection(recommendation), ''] : []),
      `Rule \`${recommendation.rule}\` of policy \`${recommendation.policy}\`; ${Math.round(recommendation.orientation.requestsInWindow)} requests observed in the window.${recommendation.orientation.notes.length > 0 ? ` Notes: ${recommendation.orientation.notes.join('; ')}.` : ''}`,
      ...(recommendation.held ?? []).map((rule) => `\n- ${rule[0]!.toUpperCase()}${rule.slice(1)}.`),
      ...(context.excluded && context.excluded.length > 0 ? ['', '### Excluded', '', ...context.excluded.map((line) => `- ${line}`)] : []),
      '',
      ...declarationSection(context),
    );
    const chart = paretoChart(recommendation);
    if (chart) lines.push('', '### Pareto set', '', chart);
    lines.push('', ...canarySection(recommendation.canaryPlan));
  }
  lines.push(
    '',
    ...afterMergeSection(proposal, context, policy ?? "the deployment's policy"),
    '',
    ...diffSection(context.generatedDiff),
    '',
    `Edits \`${proposal.sourceFile}\` only; generated/ is the output of \`npm run synth\` at this commit. Close this pull request to decline it: the bot then leaves configurations like it alone until the evidence changes.`,
    '',
    REBASE_CHECKBOX,
    '',
    metadataBlock(proposal),
  );
  return lines.join('\n').replace(/\n{3,}/g, '\n\n');
}
