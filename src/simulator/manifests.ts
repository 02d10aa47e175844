/**
 * What the simulator runs: read from `generated/<env>/kubernetes/` — the
 * rendered vLLM arguments, GPU requests, node selector and autoscaler bounds —
 * never from the declarations, so it sees exactly what a cluster would run.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { GPU_RESOURCE_NAME, GPU_TYPE_NODE_LABEL, GpuType } from '../catalogue/gpus.ts';
import { QUANTIZATION_BYTES_PER_PARAMETER, type EngineArgs } from '../vllm/engine-args.ts';
import { engineArgsFromFlags, parseFlags } from '../vllm/flags.ts';

/** One deployment as the cluster would run it. */
export interface RunningDeployment {
  /** `<environment>/<model>`. */
  readonly id: string;
  readonly environment: string;
  readonly namespace: string;
  /** Served model name. */
  readonly model: string;
  /** `Rollout` (Argo Rollouts canary) or a plain `Deployment`. */
  readonly workloadKind: 'Rollout' | 'Deployment';
  readonly gpuType: GpuType;
  readonly gpuCount: number;
  readonly minReplicas: number;
  readonly maxReplicas: number;
  /** KEDA target: waiting requests per replica. */
  readonly waitingPerReplicaTarget: number;
  /** The engine arguments the container's vLLM flags set (parsed with the declarations' own schema). */
  readonly engineArgs: EngineArgs;
}

/** Bytes per weight as served (a quantization overrides the model's own width). */
export function servedBytesPerParameter(engineArgs: EngineArgs, modelBytes: number): number {
  return engineArgs.quantization ? QUANTIZATION_BYTES_PER_PARAMETER[engineArgs.quantization] : modelBytes;
}

// biome-ignore lint/suspicious/noExplicitAny: a manifest of any kind, read back from generated YAML
type Manifest = { kind: string; metadata: { name: string; namespace: string }; spec: any };

/** Every deployment of every environment under `generatedDir`. */
export async function readRunningDeployments(generatedDir: string): Promise<RunningDeployment[]> {
  const deployments: RunningDeployment[] = [];
  const environments = (await readdir(generatedDir, { withFileTypes: true }))
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
  for (const environment of environments) {
    const folder = path.join(generatedDir, environment, 'kubernetes');
    const files = await readdir(folder).catch(() => [] as string[]);
    for (const file of files.filter((name) => name.endsWith('.yaml')).sort()) {
      const manifests = parseAllDocuments(await readFile(path.join(folder, file), 'utf8')).map((document) => document.toJS() as Manifest);
      const workload = manifests.find((manifest) => manifest.kind === 'Rollout' || manifest.kind === 'Deployment');
      const scaler = manifests.find((manifest) => manifest.kind === 'ScaledObject');
      if (!workload || !scaler) continue;
      const pod = workload.spec.template.spec;
      const container = pod.containers[0];
      const flags = parseFlags(container.args);
      deployments.push({
        id: `${environment}/${flags['served-model-name']}`,
        environment,
        namespace: workload.metadata.namespace,
        model: String(flags['served-model-name']),
        workloadKind: workload.kind as RunningDeployment['workloadKind'],
        gpuType: GpuType.parse(pod.nodeSelector[GPU_TYPE_NODE_LABEL]),
        gpuCount: Number(container.resources.limits[GPU_RESOURCE_NAME]),
        minReplicas: scaler.spec.minReplicaCount,
        maxReplicas: scaler.spec.maxReplicaCount,
        waitingPerReplicaTarget: Number(scaler.spec.triggers[0].metadata.threshold),
        engineArgs: engineArgsFromFlags(flags),
      });
    }
  }
  return deployments;
}
