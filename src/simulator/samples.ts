/** The samples a simulated fleet exports right now, one list for every exporter (backfill text, live /metrics). */
import type { FleetSimulation } from './simulation.ts';
import type { Family } from '../vllm/metrics.ts';
import { FAMILIES } from './families.ts';

export interface Sample {
  readonly family: Family;
  /** Sample name: the family name, or with `_total`, `_bucket`, `_sum`, `_count`. */
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** Every serving replica's vLLM and GPU metrics, and each deployment's replica count, as labelled by a Prometheus Operator scrape. */
export function currentSamples(simulation: FleetSimulation): Sample[] {
  const samples: Sample[] = [];
  const add = (family: Family, name: string, labels: Record<string, string>, value: number) => samples.push({ family, name, labels, value });
  for (const deployment of simulation.deployments) {
    const { namespace, model } = deployment.running;
    const ready = deployment.replicas.filter((replica) => replica.readyAtSeconds <= simulation.elapsedSeconds);
    add(FAMILIES.replicas, FAMILIES.replicas.name, { namespace, deployment: model }, ready.length);
    if (deployment.running.workloadKind === 'Rollout') {
      // The Argo Rollouts controller's info metric: one series per rollout, its phase as a label.
      const degradedFrom = deployment.scenario.rolloutDegradedFromMinute;
      const phase = degradedFrom !== undefined && simulation.elapsedSeconds >= degradedFrom * 60 ? 'Degraded' : 'Healthy';
      add(FAMILIES.rolloutInfo, FAMILIES.rolloutInfo.name, { namespace, name: model, strategy: 'canary', phase, job: 'argo-rollouts-metrics' }, 1);
    }
    for (const replica of ready) {
      const labels = { namespace, pod: replica.pod, model_name: model, engine: '0', job: 'vllm' };
      add(FAMILIES.running, FAMILIES.running.name, labels, replica.running);
      add(FAMILIES.waiting, FAMILIES.waiting.name, labels, replica.waiting);
      add(FAMILIES.kvCache, FAMILIES.kvCache.name, labels, replica.kvCacheUsage);
      add(FAMILIES.promptTokens, `${FAMILIES.promptTokens.name}_total`, labels, replica.promptTokens);
      add(FAMILIES.generationTokens, `${FAMILIES.generationTokens.name}_total`, labels, replica.generationTokens);
      for (const [reason, count] of Object.entries(replica.finished)) {
        add(FAMILIES.requestSuccess, `${FAMILIES.requestSuccess.name}_total`, { ...labels, finished_reason: reason }, count);
      }
      for (const [key, state] of Object.entries(replica.histograms)) {
        const family = FAMILIES[key as keyof typeof FAMILIES] as Family;
        let cumulative = 0;
        family.buckets!.forEach((bound, index) => {
          cumulative += state.counts[index];
          add(family, `${family.name}_bucket`, { ...labels, le: String(bound) }, cumulative);
        });
        add(family, `${family.name}_bucket`, { ...labels, le: '+Inf' }, state.count);
        add(family, `${family.name}_sum`, labels, state.sum);
        add(family, `${family.name}_count`, labels, state.count);
      }
      add(FAMILIES.gpuUtilization, FAMILIES.gpuUtilization.name, { namespace, pod: replica.pod, gpu: '0' }, replica.gpuUtilizationPct);
    }
  }
  return samples;
}
