/**
 * The samples a simulated fleet exports right now, one list for every exporter
 * (backfill text, live /metrics), labelled as a Prometheus Operator scrape
 * labels them. Each workload kind gets exactly the series a real cluster has:
 * a Rollout's replica counts from the Argo Rollouts controller, a Deployment's
 * from kube-state-metrics; every pod's vLLM, HTTP and GPU series.
 */
import { ROLLOUT_PHASE } from '../prometheus/exporters.ts';
import { CHAT_COMPLETIONS_HANDLER, ENGINE_LABEL, HTTP_HANDLER_LABEL, HTTP_METHOD_LABEL, HTTP_STATUS_LABEL, MODEL_LABEL, type Family } from '../vllm/metrics.ts';
import { GPU_CATALOGUE } from '../catalogue/gpus.ts';
import type { FleetSimulation, SimulatedDeployment } from './simulation.ts';
import { FAMILIES } from './families.ts';

export interface Sample {
  readonly family: Family;
  /** Sample name: the family name, or with `_total`, `_bucket`, `_sum`, `_count`. */
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

type Add = (family: Family, name: string, labels: Record<string, string>, value: number) => void;

/** The workload's replica counts, from the exporter a cluster has for its kind. */
function workloadSamples(add: Add, deployment: SimulatedDeployment, elapsedSeconds: number): void {
  const { namespace, model, workloadKind } = deployment.running;
  const total = deployment.replicas.length;
  const available = deployment.replicas.filter((replica) => replica.readyAtSeconds <= elapsedSeconds).length;
  if (workloadKind === 'Rollout') {
    const job = { job: 'argo-rollouts-metrics' };
    const labels = { namespace, name: model, ...job };
    const abortedFrom = deployment.scenario.rolloutDegradedFromMinute;
    const phase = abortedFrom !== undefined && elapsedSeconds >= abortedFrom * 60 ? ROLLOUT_PHASE.aborted : ROLLOUT_PHASE.completed;
    // traffic_router is empty without a built-in router, and Prometheus drops empty labels.
    add(FAMILIES.rolloutInfo, FAMILIES.rolloutInfo.name, { ...labels, strategy: 'canary', phase }, 1);
    add(FAMILIES.rolloutReplicasAvailable, FAMILIES.rolloutReplicasAvailable.name, labels, available);
    add(FAMILIES.rolloutReplicasUnavailable, FAMILIES.rolloutReplicasUnavailable.name, labels, total - available);
    add(FAMILIES.rolloutReplicasDesired, FAMILIES.rolloutReplicasDesired.name, labels, total);
    add(FAMILIES.rolloutReplicasUpdated, FAMILIES.rolloutReplicasUpdated.name, labels, total);
    return;
  }
  const labels = { namespace, deployment: model, job: 'kube-state-metrics' };
  add(FAMILIES.deploymentReplicas, FAMILIES.deploymentReplicas.name, labels, total);
  add(FAMILIES.deploymentReplicasAvailable, FAMILIES.deploymentReplicasAvailable.name, labels, available);
  add(FAMILIES.deploymentReplicasUnavailable, FAMILIES.deploymentReplicasUnavailable.name, labels, total - available);
  add(FAMILIES.deploymentReplicasReady, FAMILIES.deploymentReplicasReady.name, labels, available);
  add(FAMILIES.deploymentReplicasUpdated, FAMILIES.deploymentReplicasUpdated.name, labels, total);
  add(FAMILIES.deploymentSpecReplicas, FAMILIES.deploymentSpecReplicas.name, labels, total);
}

/** Every serving replica's vLLM, HTTP and GPU metrics, and each workload's replica counts. */
export function currentSamples(simulation: FleetSimulation): Sample[] {
  const samples: Sample[] = [];
  const add: Add = (family, name, labels, value) => samples.push({ family, name, labels, value });
  for (const deployment of simulation.deployments) {
    workloadSamples(add, deployment, simulation.elapsedSeconds);
    const { namespace, model, gpuType, gpuCount } = deployment.running;
    const ready = deployment.replicas.filter((replica) => replica.readyAtSeconds <= simulation.elapsedSeconds);
    for (const replica of ready) {
      // The ServiceMonitor scrapes the pods through the model's Service: Prometheus adds namespace, pod and service.
      const target = { namespace, pod: replica.pod };
      const scraped = { ...target, service: model };
      const labels = { ...scraped, [MODEL_LABEL]: model, [ENGINE_LABEL]: '0', job: 'vllm' };
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
      for (const [status, count] of Object.entries(replica.responses)) {
        add(
          FAMILIES.requests,
          `${FAMILIES.requests.name}_total`,
          { ...scraped, job: 'vllm', [HTTP_HANDLER_LABEL]: CHAT_COMPLETIONS_HANDLER, [HTTP_METHOD_LABEL]: 'POST', [HTTP_STATUS_LABEL]: status },
          count,
        );
      }
      // dcgm-exporter, one series per GPU, mapped to the pod that holds it (pod, namespace, container labels kept with honorLabels).
      for (let gpu = 0; gpu < gpuCount; gpu += 1) {
        add(
          FAMILIES.gpuUtilization,
          FAMILIES.gpuUtilization.name,
          {
            gpu: String(gpu),
            UUID: `GPU-${replica.pod}-${gpu}`,
            device: `nvidia${gpu}`,
            modelName: GPU_CATALOGUE[gpuType].displayName,
            Hostname: `node-of-${replica.pod}`,
            container: 'vllm',
            ...target,
            job: 'nvidia-dcgm-exporter',
          },
          replica.gpuUtilizationPct,
        );
      }
    }
  }
  return samples;
}
