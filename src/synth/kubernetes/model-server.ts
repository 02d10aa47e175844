/**
 * The vLLM model server's pod template, built with cdk8s-plus: container,
 * probes, volumes, security context, scheduling. The Rollout and the Deployment
 * both carry this template.
 */
import { ApiObject, App, Chart, Duration, Size } from 'cdk8s';
import type { Construct } from 'constructs';
import { GPU_NODE_TAINT } from '../../catalogue/gpus.ts';
import type { GpuMachine } from '../../clouds/cloud-plugin.ts';
import { cloudPlugin, machineFor } from '../../clouds/registry.ts';
import { deploymentNodeSelector } from '../../fleet/capacity.ts';
import type { FleetDeployment } from '../../fleet/fleet.ts';
import { weightsGiB } from '../../fleet/memory.ts';
import { modelServerServiceAccount } from '../../fleet/naming.ts';
import { HOME_GIB, modelCacheGiB, replicaEphemeralStorageGiB, streamsWeights, TMP_GIB } from '../../fleet/storage.ts';
import { workloadIdentity } from '../../fleet/workload-identity.ts';
import { dropConstructAddressLabel, limitEmptyDir, requestGpus, runtimeDefaultSeccomp, selectNodes, setPriorityClass, spreadAcrossNodes } from './escape-hatches.ts';
import { deploymentLabels, versionLabel, VLLM_PORT } from './labels.ts';
import { sharedModelCacheClaim } from './model-cache.ts';
import { modelStoreEnv } from './model-store-env.ts';
import { kplus } from './plus.ts';
import { vllmArgs } from './vllm-args.ts';

/** Secret holding the Hugging Face token (created by the team, never in git). */
export const HF_TOKEN_SECRET = { name: 'hf-token', key: 'token' } as const;

/** PriorityClass of the model servers (created with the cluster add-ons). */
export const MODEL_SERVER_PRIORITY_CLASS = 'llmops-model-server';

/**
 * The server's non-root user: UID 2000 is the `vllm` user newer vllm/vllm-openai
 * images ship (HOME /home/vllm; ai-dynamo/dynamo#12457). Older tags have no such
 * passwd entry, and since torch 2.11 start-up calls getpass.getuser(), which
 * fails for a UID without one (vllm#44548): `USER` answers getuser() first, and
 * HOME and the compile caches point at writable volumes, so the server starts
 * under any UID (llm-d and vllm-omni#7303 do the same).
 */
const SERVER_UID = 2000;
const SERVER_USER = 'vllm';
const HOME = '/home/vllm';

/** Seconds to download and load one GiB of weights, and the fixed start-up cost (image, CUDA graphs). */
const LOAD_SECONDS_PER_GIB = 20;
const STARTUP_BASE_SECONDS = 300;
const STARTUP_PERIOD_SECONDS = 10;

/** CPU and memory a replica requests: its share of the smallest node that can host it, leaving room for the system. */
export interface ReplicaResources {
  readonly cpuMillis: number;
  readonly memoryGiB: number;
  readonly sharedMemoryGiB: number;
}

/** The machine a replica is sized against: the smallest CPU/memory share among the pools that can host it. */
function hostMachine(deployment: FleetDeployment): GpuMachine {
  const { environment, spec } = deployment;
  const machines = environment.nodePools
    .filter((pool) => pool.gpuType === spec.gpu.type && pool.gpusPerNode >= spec.gpu.count)
    .map((pool) => machineFor(environment.cloud, pool.gpuType, pool.gpusPerNode)!)
    .sort((a, b) => a.memoryGiB / a.gpus - b.memoryGiB / b.gpus);
  return machines[0];
}

export function replicaResources(deployment: FleetDeployment): ReplicaResources {
  const machine = hostMachine(deployment);
  const share = deployment.spec.gpu.count / machine.gpus;
  const memoryGiB = Math.floor(machine.memoryGiB * share * 0.75);
  const parallel = deployment.spec.gpu.count > 1;
  return {
    cpuMillis: Math.max(1000, Math.floor(machine.vcpus * share * 0.8) * 1000),
    memoryGiB,
    // Tensor/pipeline parallel workers exchange tensors through /dev/shm; it counts against the memory limit.
    sharedMemoryGiB: parallel ? Math.min(16, Math.floor(memoryGiB / 4)) : 0,
  };
}

/** startupProbe failureThreshold: long enough to download and load the weights (a 70B model takes most of an hour). */
export function startupFailureThreshold(deployment: FleetDeployment): number {
  return Math.ceil((STARTUP_BASE_SECONDS + LOAD_SECONDS_PER_GIB * weightsGiB(deployment.model)) / STARTUP_PERIOD_SECONDS);
}

/** Seconds a new replica may take to become ready (the startup probe's budget). */
export function startupBudgetSeconds(deployment: FleetDeployment): number {
  return startupFailureThreshold(deployment) * STARTUP_PERIOD_SECONDS;
}

/** GiB of node disk a replica's emptyDirs may fill: scratch, HOME and, with a node-disk cache, the weights (none when they are streamed). */
export function ephemeralStorageGiB(deployment: FleetDeployment): number {
  return replicaEphemeralStorageGiB(deployment.model, deployment.environment.modelCache.kind === 'node-disk');
}

/**
 * The API key vLLM's OpenAI server requires on `/v1` paths (`VLLM_API_KEY`,
 * read when `--api-key` is not given), from the environment's Secret: the key
 * never enters git or the command line, and the pod does not start without it.
 */
function apiKeyEnv(scope: Construct, deployment: FleetDeployment): Record<string, kplus.EnvValue> {
  const authentication = deployment.environment.authentication;
  if (authentication.kind !== 'api-key') return {};
  const secret = kplus.Secret.fromSecretName(scope, 'api-key', authentication.secretName);
  return { VLLM_API_KEY: kplus.EnvValue.fromSecretValue({ secret, key: authentication.secretKey }, { optional: false }) };
}

/** The container image: the model's vLLM tag, from the environment's mirror when declared, pinned to the digest when declared. */
export function vllmImage(deployment: FleetDeployment): string {
  const { model, environment } = deployment;
  const repository = environment.imageRegistry ? `${environment.imageRegistry}/vllm/vllm-openai` : 'vllm/vllm-openai';
  return `${repository}:${model.vllmImageTag}${model.vllmImageDigest ? `@${model.vllmImageDigest}` : ''}`;
}

/** The pod template (`spec.template` of a Deployment or Rollout) of a deployment's model server. */
export function modelServerPodTemplate(deployment: FleetDeployment): Record<string, unknown> {
  const { model, environment, spec } = deployment;
  // A scratch chart: cdk8s-plus builds the pod; only its template is kept.
  const chart = new Chart(new App(), 'scratch', { disableResourceNameHashes: true });
  const resources = replicaResources(deployment);
  const identity = workloadIdentity(environment, model.name);
  const cacheDeclaration = environment.modelCache;

  const tmp = kplus.Volume.fromEmptyDir(chart, 'tmp', 'tmp', { sizeLimit: Size.gibibytes(TMP_GIB) });
  const home = kplus.Volume.fromEmptyDir(chart, 'home', 'home', { sizeLimit: Size.gibibytes(HOME_GIB) });
  const claimName = cacheDeclaration.kind === 'existing-claim' ? cacheDeclaration.claimName : sharedModelCacheClaim(environment);
  const cacheReadOnly = cacheDeclaration.kind === 'existing-claim' && cacheDeclaration.readOnly;
  // Weights streamed from the object store straight to the GPUs need no cache volume.
  const cache = streamsWeights(model)
    ? undefined
    : cacheDeclaration.kind === 'node-disk'
      ? kplus.Volume.fromEmptyDir(chart, 'model-cache', 'model-cache', { sizeLimit: Size.gibibytes(modelCacheGiB(model)) })
      : kplus.Volume.fromPersistentVolumeClaim(chart, 'model-cache', kplus.PersistentVolumeClaim.fromClaimName(chart, 'model-cache-claim', claimName), {
          name: 'model-cache',
          readOnly: cacheReadOnly,
        });
  const volumes = [tmp, home, ...(cache ? [cache] : [])];
  const shm = resources.sharedMemoryGiB > 0 ? kplus.Volume.fromEmptyDir(chart, 'shm', 'shm', { medium: kplus.EmptyDirMedium.MEMORY }) : undefined;
  if (shm) volumes.push(shm);

  const health = (options: { periodSeconds: number; failureThreshold: number; timeoutSeconds: number }) =>
    kplus.Probe.fromHttpGet('/health', {
      port: VLLM_PORT,
      periodSeconds: Duration.seconds(options.periodSeconds),
      failureThreshold: options.failureThreshold,
      timeoutSeconds: Duration.seconds(options.timeoutSeconds),
    });
  const value = kplus.EnvValue.fromValue;

  const workload = new kplus.Deployment(chart, 'server', {
    metadata: { name: model.name },
    select: false,
    podMetadata: { labels: { ...deploymentLabels(deployment), ...versionLabel(deployment), ...identity.podLabels } },
    serviceAccount: kplus.ServiceAccount.fromServiceAccountName(chart, 'service-account', modelServerServiceAccount(model.name)),
    // The cloud identity arrives through its own projected token; the Kubernetes API token is not needed.
    automountServiceAccountToken: false,
    securityContext: { ensureNonRoot: true, user: SERVER_UID, group: SERVER_UID, fsGroup: SERVER_UID, fsGroupChangePolicy: kplus.FsGroupChangePolicy.ON_ROOT_MISMATCH },
    terminationGracePeriod: Duration.seconds(120),
    volumes,
    containers: [
      {
        name: 'vllm',
        image: vllmImage(deployment),
        imagePullPolicy: kplus.ImagePullPolicy.IF_NOT_PRESENT,
        args: vllmArgs(deployment),
        ports: [{ name: 'http', number: VLLM_PORT }],
        envVariables: {
          USER: value(SERVER_USER),
          HOME: value(HOME),
          XDG_CACHE_HOME: value(`${HOME}/.cache`),
          VLLM_CACHE_ROOT: value(`${HOME}/.cache/vllm`),
          VLLM_CONFIG_ROOT: value(`${HOME}/.config/vllm`),
          TORCHINDUCTOR_CACHE_DIR: value(`${HOME}/.cache/torchinductor`),
          TRITON_CACHE_DIR: value(`${HOME}/.cache/triton`),
          HF_HOME: value(cache ? '/models/huggingface' : `${HOME}/.cache/huggingface`),
          VLLM_NO_USAGE_STATS: value('1'),
          DO_NOT_TRACK: value('1'),
          ...modelStoreEnv(chart, deployment),
          ...apiKeyEnv(chart, deployment),
          ...(model.source.kind === 'huggingface'
            ? {
                HF_TOKEN: kplus.EnvValue.fromSecretValue({ secret: kplus.Secret.fromSecretName(chart, 'hf-token', HF_TOKEN_SECRET.name), key: HF_TOKEN_SECRET.key }, { optional: false }),
              }
            : {}),
        },
        resources: {
          cpu: { request: kplus.Cpu.millis(resources.cpuMillis) },
          memory: { request: Size.gibibytes(resources.memoryGiB), limit: Size.gibibytes(resources.memoryGiB) },
          // The scheduler only places a replica on a node whose disk holds the weights it downloads.
          ephemeralStorage: { request: Size.gibibytes(ephemeralStorageGiB(deployment)) },
        },
        securityContext: {
          ensureNonRoot: true,
          user: SERVER_UID,
          group: SERVER_UID,
          privileged: false,
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          capabilities: { drop: [kplus.Capability.ALL] },
          seccompProfile: { type: kplus.SeccompProfileType.RUNTIME_DEFAULT },
        },
        startup: health({ periodSeconds: STARTUP_PERIOD_SECONDS, failureThreshold: startupFailureThreshold(deployment), timeoutSeconds: 5 }),
        readiness: health({ periodSeconds: 5, failureThreshold: 3, timeoutSeconds: 3 }),
        liveness: health({ periodSeconds: 15, failureThreshold: 4, timeoutSeconds: 5 }),
        // Leave the endpoints before the server stops taking requests.
        lifecycle: { preStop: kplus.Handler.fromCommand(['sleep', '15']) },
        volumeMounts: [
          { path: '/tmp', volume: tmp },
          { path: HOME, volume: home },
          ...(cache ? [{ path: '/models', volume: cache, readOnly: cacheReadOnly }] : []),
          ...(shm ? [{ path: '/dev/shm', volume: shm }] : []),
        ],
      },
    ],
  });

  workload.scheduling.tolerate(kplus.Node.tainted(kplus.NodeTaintQuery.is(GPU_NODE_TAINT.key, GPU_NODE_TAINT.value, { effect: kplus.TaintEffect.NO_SCHEDULE })));
  const spotTaint = cloudPlugin(environment.cloud).spotNodeTaint;
  const spotPoolCanHost = environment.nodePools.some((pool) => pool.gpuType === spec.gpu.type && pool.gpusPerNode >= spec.gpu.count && pool.capacity === 'spot');
  if (spotTaint && spotPoolCanHost) {
    workload.scheduling.tolerate(kplus.Node.tainted(kplus.NodeTaintQuery.is(spotTaint.key, spotTaint.value, { effect: kplus.TaintEffect.NO_SCHEDULE })));
  }
  requestGpus(workload, spec.gpu.count);
  selectNodes(workload, deploymentNodeSelector(environment, spec));
  spreadAcrossNodes(workload, { 'app.kubernetes.io/name': 'vllm', 'app.kubernetes.io/instance': model.name });
  runtimeDefaultSeccomp(workload);
  setPriorityClass(workload, MODEL_SERVER_PRIORITY_CLASS);
  dropConstructAddressLabel(workload);
  if (shm) limitEmptyDir(workload, volumes.indexOf(shm), `${resources.sharedMemoryGiB}Gi`);

  return (ApiObject.of(workload).toJson() as { spec: { template: Record<string, unknown> } }).spec.template;
}
