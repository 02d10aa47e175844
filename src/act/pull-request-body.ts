/**
 * The pull-request body a reviewer reads: summary, current vs proposed, why,
 * the Pareto chart, the canary plan, the generated/ diff, and a hidden
 * metadata block a later run reads back. Pure.
 */
import { HOURS_PER_MONTH } from '../catalogue/prices.ts';
import { describeChange } from '../optimizer/describe.ts';
import type { Signals } from '../optimizer/observe.ts';
import type { Configuration } from '../optimizer/predict.ts';
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
  readonly fingerprint: string;
  readonly to: Configuration;
}

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

function comparisonTable(recommendation: Recommendation): string[] {
  const current = recommendation.current;
  const proposed = recommendation.proposed!;
  const observed: Signals = recommendation.observed;
  const [now, next] = [current.prediction, proposed.prediction];
  const rows: [string, string, string][] = [
    ['GPU', `${current.configuration.gpuCount}x ${current.configuration.gpuType} (${current.machine})`, `${proposed.configuration.gpuCount}x ${proposed.configuration.gpuType} (${proposed.machine})`],
    ['Replicas (min–max)', `${current.configuration.replicasMin}–${current.configuration.replicasMax}`, `${proposed.configuration.replicasMin}–${proposed.configuration.replicasMax}`],
    ['Engine args', engineArgsOf(current.configuration), engineArgsOf(proposed.configuration)],
    ['USD/hour (min replicas)', usd(current.costPerHourUsd), usd(proposed.costPerHourUsd)],
    ['USD/month (min replicas)', usd(current.costPerHourUsd * HOURS_PER_MONTH), usd(proposed.costPerHourUsd * HOURS_PER_MONTH)],
    ['p95 end-to-end latency', both(ms(observed.e2eP95Seconds), ms(now.e2eP95Seconds)), `${ms(next.e2eP95Seconds)} predicted`],
    ['p95 time to first token', both(ms(observed.ttftP95Seconds), ms(now.ttftP95Seconds)), `${ms(next.ttftP95Seconds)} predicted`],
    ['p95 inter-token latency', both(ms(observed.interTokenP95Seconds), ms(now.interTokenP95Seconds)), `${ms(next.interTokenP95Seconds)} predicted`],
    ['Error ratio', `${pct(observed.errorRatio)} observed`, 'not predicted (watched by the canary)'],
    ['Throughput', `${perSecond(observed.requestsPerSecond, 'req')}, ${perSecond(observed.generationTokensPerSecond, 'tokens')} observed`, `${perSecond(next.capacityRequestsPerSecond, 'req')} capacity predicted`],
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
  if (!plan.enabled) return ['### Rollout', '', 'This environment rolls out without a canary (a plain Deployment): the bot watches the SLOs after the merge and opens a revert pull request if they break.'];
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
    ...traffic.steps.map((step, index) => `| ${index + 1} | ${stepTraffic(traffic, step)} | ${step.pauseMinutes === 0 ? (index === traffic.steps.length - 1 ? '-' : 'until promoted') : `${step.pauseMinutes} min`} | ${step.analysis ? 'yes' : 'no'} |`),
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
  const metadata: PullRequestMetadata = { deploymentId: proposal.deploymentId, kind: proposal.kind, fingerprint: proposal.fingerprint, to: proposal.to };
  return `${METADATA_PREFIX}${JSON.stringify(metadata)}${METADATA_SUFFIX}`;
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

export function renderPullRequestBody(proposal: Proposal, diff: readonly FileDiff[]): string {
  const lines: string[] = [];
  if (proposal.kind === 'revert') {
    const verdict = proposal.verdict!;
    lines.push(
      `**llmops** reverts \`${proposal.deploymentId}\`: the change merged before failed its verification window (until ${verdict.windowEnd.toISOString()}).`,
      '',
      '### Evidence',
      '',
      ...verdict.evidence.map((line) => `- ${line}`),
      '',
      '### Revert',
      '',
      `\`${proposal.sourceFile}\` goes back to ${proposal.to.gpuCount}x ${proposal.to.gpuType}, ${proposal.to.replicasMin}–${proposal.to.replicasMax} replicas, ${engineArgsOf(proposal.to)}. The failed configuration is not proposed again within the policy's cooldown.`,
    );
  } else {
    const recommendation = proposal.recommendation!;
    const saved = recommendation.current.costPerHourUsd - recommendation.proposed!.costPerHourUsd;
    const money = Number.isFinite(saved) ? `, ${saved >= 0 ? 'saving' : 'costing'} ${Math.abs(saved).toFixed(2)} USD/h (${Math.abs(saved * HOURS_PER_MONTH).toFixed(0)} USD/month)` : '';
    lines.push(
      `**llmops** proposes for \`${proposal.deploymentId}\`: ${describeChange(recommendation)}${money}.`,
      '',
      '### Current vs proposed',
      '',
      ...comparisonTable(recommendation),
      '',
      `Confidence ${recommendation.confidence?.toFixed(2) ?? '-'}, predicted probability of an SLO breach ${recommendation.risk === undefined ? '-' : `${(recommendation.risk * 100).toFixed(1)} %`}. Predictions are for the window's peak load on the minimum replicas.`,
      '',
      '### Why',
      '',
      `${recommendation.reason}.`,
      '',
      `Rule \`${recommendation.rule}\` of policy \`${recommendation.policy}\`; ${Math.round(recommendation.orientation.requestsInWindow)} requests observed in the window.${recommendation.orientation.notes.length > 0 ? ` Notes: ${recommendation.orientation.notes.join('; ')}.` : ''}`,
    );
    const chart = paretoChart(recommendation);
    if (chart) lines.push('', '### Pareto set', '', chart);
    lines.push('', ...canarySection(recommendation.canaryPlan));
  }
  lines.push('', ...diffSection(diff), '', `Edits \`${proposal.sourceFile}\` only; generated/ is the output of \`npm run synth\` at this commit. Close this pull request to decline; the bot will not force-push a branch someone else has committed to.`, '', metadataBlock(proposal));
  return lines.join('\n').replace(/\n{3,}/g, '\n\n');
}
