/** Short human descriptions of recommendations, shared by `llmops plan` and the pull-request body. */
import { TUNED_KNOBS } from '../vllm/knobs.ts';
import type { Configuration } from './predict.ts';
import type { Recommendation } from './recommendation.ts';

/** GPUs, replicas and max-num-seqs (the other tuned knobs show in describeChange, to keep titles short). */
export function describeConfiguration(configuration: Configuration): string {
  const quantization = configuration.quantization ? ` ${configuration.quantization}` : '';
  return `${configuration.gpuCount}x ${configuration.gpuType}${quantization}, ${configuration.replicasMin}-${configuration.replicasMax} replicas, max-num-seqs ${configuration.maxNumSeqs}`;
}

/** "replicas 2-8 → 1-6, max-num-seqs 128 → 64", or "-" without a change. */
export function describeChange(recommendation: Recommendation): string {
  const proposed = recommendation.proposed?.configuration;
  if (recommendation.action !== 'change' || !proposed) return '-';
  const current = recommendation.current.configuration;
  const parts: string[] = [];
  if (proposed.gpuType !== current.gpuType || proposed.gpuCount !== current.gpuCount) parts.push(`gpu ${current.gpuCount}x ${current.gpuType} → ${proposed.gpuCount}x ${proposed.gpuType}`);
  if (proposed.replicasMin !== current.replicasMin || proposed.replicasMax !== current.replicasMax)
    parts.push(`replicas ${current.replicasMin}-${current.replicasMax} → ${proposed.replicasMin}-${proposed.replicasMax}`);
  for (const knob of TUNED_KNOBS) {
    if (proposed[knob.key] !== current[knob.key]) parts.push(`${knob.flag} ${current[knob.key] ?? 'default'} → ${proposed[knob.key] ?? 'default'}`);
  }
  if (proposed.quantization !== current.quantization) parts.push(`quantization ${current.quantization ?? 'none'} → ${proposed.quantization ?? 'none'}`);
  // Pools grown so that the change fits the cluster (src/optimizer/fit.ts), in the same pull request.
  for (const pool of recommendation.change?.nodePools ?? []) parts.push(`node pool ${pool.name} maxNodes → ${pool.maxNodes}`);
  return parts.join(', ');
}

/** A recommendation without the raw length histograms (Maps), for JSON output. */
export function recommendationJson(recommendation: Recommendation): object {
  const { promptLengths, outputLengths, e2eP95PerMinute, ...signals } = recommendation.observed as Recommendation['observed'] & Record<string, unknown>;
  return { ...recommendation, observed: signals };
}
