/**
 * The answer to `/llmops explain`: what the bot would propose for the
 * deployment now and why, with the figures it read and what it kept out. Pure.
 */
import { HOURS_PER_MONTH } from '../catalogue/prices.ts';
import type { Recommendation } from '../optimizer/recommendation.ts';
import { reportedConfidence } from './confidence.ts';
import { changeWords } from './proposal.ts';

const ms = (seconds: number | undefined) => (seconds === undefined || !Number.isFinite(seconds) ? '-' : `${Math.round(seconds * 1000)} ms`);
const rate = (value: number | undefined) => (value === undefined || !Number.isFinite(value) ? '-' : `${value.toFixed(2)}/s`);

export function explanation(recommendation: Recommendation | undefined, deploymentId: string, excluded: readonly string[]): string {
  if (!recommendation) return `\`${deploymentId}\` is not planned on the base branch (is it still declared?), so there is nothing to explain.`;
  const { observed, current, proposed } = recommendation;
  const lines = [
    `**Explain \`${deploymentId}\`** — rule \`${recommendation.rule}\` of policy \`${recommendation.policy}\`: ${recommendation.reason}.`,
    '',
    `- Observed over the window: ${rate(observed.requestsPerSecond)} requests (peak ${rate(observed.peakRequestsPerSecond)}), p95 end-to-end ${ms(observed.e2eP95Seconds)}, time to first token ${ms(observed.ttftP95Seconds)}, inter-token ${ms(observed.interTokenP95Seconds)}, errors ${observed.errorRatio === undefined ? '-' : `${(observed.errorRatio * 100).toFixed(2)} %`}; ${Math.round(recommendation.orientation.requestsInWindow)} requests.`,
    `- Current configuration: predicted p95 end-to-end ${ms(current.prediction.e2eP95Seconds)} at the peak, ${(current.costPerHourUsd * HOURS_PER_MONTH).toFixed(0)} USD/month at minimum replicas.`,
  ];
  if (recommendation.action === 'change' && proposed) {
    const confidence = reportedConfidence(recommendation);
    lines.push(
      `- Proposed: ${changeWords(current.configuration, proposed.configuration)}; predicted p95 end-to-end ${ms(proposed.prediction.e2eP95Seconds)}, ${(proposed.costPerHourUsd * HOURS_PER_MONTH).toFixed(0)} USD/month, ${proposed.improvementPct.toFixed(1)} % better by the policy's weights.`,
      `- Confidence ${confidence.value?.toFixed(2) ?? '-'}${confidence.cappedBy ? ` (capped: the current prediction was ${confidence.cappedBy.factor.toFixed(1)}× off for ${confidence.cappedBy.figure})` : ''}, risk ${recommendation.risk === undefined ? '-' : `${(recommendation.risk * 100).toFixed(1)} %`}.`,
    );
  } else {
    lines.push('- The bot would not propose a change now.');
  }
  if (excluded.length > 0) lines.push('- Kept out:', ...excluded.map((line) => `  - ${line}`));
  return lines.join('\n');
}
