/**
 * Rules that span declarations: references resolve, GPUs exist where they are
 * asked for, models fit the memory they are given. Each returns issues naming the
 * file and field; all rules run so that every problem is reported at once.
 */
import { GPU_TYPES } from '../catalogue/gpus.ts';
import { isCloudIssue } from '../clouds/cloud-plugin.ts';
import { cloudPlugin } from '../clouds/registry.ts';
import { DEFAULT_GPU_MEMORY_UTILIZATION } from '../vllm/engine-args.ts';
import type { Environment } from '../declarations/environment.ts';
import { suggestion, type DeclarationIssue } from '../declarations/issues.ts';
import type { Model } from '../declarations/model.ts';
import type { Policy } from '../declarations/policy.ts';
import { promptTraffic, type Prompt } from '../declarations/prompt.ts';
import { capacityIssues, clusterPeers } from './capacity.ts';
import { usableGiB, weightsGiB } from './memory.ts';
import { checkCanaryEvidence, checkServing, checkSharedClusters } from './serving-checks.ts';
import { cloudNames, kubernetesNames } from './derived-names.ts';
import { checkDerivedNames } from './name-check.ts';
import { checkPromotionCycles } from './promotion-check.ts';

/** A declaration and the file it came from (relative to the fleet root). */
export interface Loaded<T> {
  readonly file: string;
  readonly value: T;
}

export interface Declarations {
  readonly models: readonly Loaded<Model>[];
  readonly prompts: readonly Loaded<Prompt>[];
  readonly environments: readonly Loaded<Environment>[];
  readonly policies: readonly Loaded<Policy>[];
}

type Report = (file: string, path: string, message: string) => void;

/** `models/llama.ts` → `llama`. */
export function fileStem(file: string): string {
  return file.replace(/^.*\//, '').replace(/\.ts$/, '');
}

/**
 * Cross-checks the declarations that validated. `invalidFiles` are the files that
 * did not: references to them are not reported again (their own errors say it).
 */
export function crossCheck(declarations: Declarations, invalidFiles: readonly string[] = []): DeclarationIssue[] {
  const issues: DeclarationIssue[] = [];
  const report: Report = (file, path, message) => issues.push({ file, path, message });
  const namesOf = (folder: string, loaded: readonly Loaded<{ name: string }>[]) =>
    new Set([...loaded.map(({ value }) => value.name), ...invalidFiles.filter((file) => file.startsWith(`${folder}/`)).map(fileStem)]);

  checkNames(declarations, report);
  const known: Known = {
    models: new Map(declarations.models.map(({ value }) => [value.name, value])),
    modelNames: namesOf('models', declarations.models),
    policies: namesOf('policies', declarations.policies),
    environments: namesOf('environments', declarations.environments),
  };
  for (const prompt of declarations.prompts) checkPrompt(prompt, known.modelNames, report);
  for (const environment of declarations.environments) checkEnvironment(environment, known, report);
  for (const environment of declarations.environments) checkServing(environment, report);
  checkSharedClusters(declarations.environments, report);
  const environments = declarations.environments.map(({ value }) => value);
  for (const { file, value } of declarations.environments) for (const issue of capacityIssues(value, clusterPeers(value, environments))) report(file, issue.path, issue.message);
  checkCanaryEvidence(declarations.environments, declarations.policies, report);
  for (const policy of declarations.policies) checkPolicy(policy, report);
  checkNamespaces(declarations.environments, report);
  issues.push(...checkPromotionCycles(declarations.environments));
  issues.push(...checkDerivedNames([...kubernetesNames(declarations), ...cloudNames(declarations)]));
  return issues;
}

/** A declaration's name matches its file name, so names are unique per kind. */
function checkNames(declarations: Declarations, report: Report): void {
  for (const loaded of [...declarations.models, ...declarations.prompts, ...declarations.environments, ...declarations.policies]) {
    const stem = fileStem(loaded.file);
    if (loaded.value.name !== stem) {
      report(loaded.file, 'name', `expected ${JSON.stringify(stem)}, the file's name, so that names are unique (got ${JSON.stringify(loaded.value.name)}); rename the file or the declaration`);
    }
  }
}

const FOLDERS = { model: 'models', policy: 'policies', environment: 'environments' } as const;

function reference(kind: keyof typeof FOLDERS, name: string, known: Iterable<string>): string {
  return `expected the name of ${kind === 'environment' ? 'an' : 'a'} ${kind} in ${FOLDERS[kind]}/${suggestion(name, [...known])} (got ${JSON.stringify(name)})`;
}

function checkPrompt({ file, value: prompt }: Loaded<Prompt>, modelNames: ReadonlySet<string>, report: Report): void {
  if (!modelNames.has(prompt.model)) report(file, 'model', reference('model', prompt.model, modelNames));
  if (!prompt.traffic) return;
  const versions = Object.keys(prompt.versions);
  for (const version of Object.keys(prompt.traffic)) {
    if (!Object.hasOwn(prompt.versions, version))
      report(file, `traffic.${version}`, `expected a version of this prompt (${versions.join(', ')})${suggestion(version, versions)} (got ${JSON.stringify(version)})`);
  }
  const total = Object.values(promptTraffic(prompt)).reduce((sum, share) => sum + share, 0);
  if (total !== 100) report(file, 'traffic', `expected shares that sum to 100 (got ${total})`);
}

/** Names that exist (including those of files that failed validation, so they are not reported twice). */
interface Known {
  /** Models that validated. */
  readonly models: ReadonlyMap<string, Model>;
  readonly modelNames: ReadonlySet<string>;
  readonly policies: ReadonlySet<string>;
  readonly environments: ReadonlySet<string>;
}

function checkEnvironment({ file, value: environment }: Loaded<Environment>, known: Known, report: Report): void {
  const { cloud } = environment;
  const plugin = cloudPlugin(cloud);
  if (environment.promotesFrom !== undefined && (!known.environments.has(environment.promotesFrom) || environment.promotesFrom === environment.name)) {
    report(
      file,
      'promotesFrom',
      reference(
        'environment',
        environment.promotesFrom,
        [...known.environments].filter((name) => name !== environment.name),
      ),
    );
  }

  const poolNames = new Set<string>();
  environment.nodePools.forEach((pool, index) => {
    const at = `nodePools[${index}]`;
    if (poolNames.has(pool.name)) report(file, `${at}.name`, `expected a name unique among the node pools (got ${JSON.stringify(pool.name)} twice)`);
    poolNames.add(pool.name);
    if (pool.minNodes > pool.maxNodes) report(file, `${at}.minNodes`, `expected at most maxNodes (${pool.maxNodes}) (got ${pool.minNodes})`);
    if (pool.capacity === 'spot' && !plugin.sellsSpot) report(file, `${at}.capacity`, `expected "on-demand": ${cloud} sells no spot GPU capacity (got "spot")`);
    const machines = plugin.gpuMachines[pool.gpuType];
    if (!machines) {
      report(file, `${at}.gpuType`, `expected a GPU type that ${cloud} offers (${offeredBy(cloud)}) (got ${JSON.stringify(pool.gpuType)})`);
    } else if (!machines.some((machine) => machine.gpus === pool.gpusPerNode)) {
      report(file, `${at}.gpusPerNode`, `expected a machine shape ${cloud} sells for ${pool.gpuType}: ${machines.map((machine) => machine.gpus).join(', ')} GPUs per node (got ${pool.gpusPerNode})`);
    } else {
      const placement = plugin.placement(environment, pool);
      if (isCloudIssue(placement)) report(file, `${at}.${placement.path}`, placement.message);
    }
  });
  for (const issue of plugin.crossCheck(environment, Object.keys(environment.deployments))) report(file, issue.path, issue.message);

  for (const [modelName, deployment] of Object.entries(environment.deployments)) {
    const at = `deployments.${modelName}`;
    const model = known.models.get(modelName);
    if (!known.modelNames.has(modelName)) report(file, at, reference('model', modelName, known.modelNames));
    if (!known.policies.has(deployment.policy)) report(file, `${at}.policy`, reference('policy', deployment.policy, known.policies));

    const { min, max } = deployment.replicas;
    if (min > max) report(file, `${at}.replicas.min`, `expected at most replicas.max (${max}) (got ${min})`);
    if (min === 0 && !environment.scaleToZero) report(file, `${at}.replicas.min`, 'expected at least 1: this environment does not allow scale to zero (set scaleToZero: true to allow it) (got 0)');

    const { type: gpuType, count } = deployment.gpu;
    if (!plugin.gpuMachines[gpuType]) {
      report(file, `${at}.gpu.type`, `expected a GPU type that ${cloud} offers (${offeredBy(cloud)}) (got ${JSON.stringify(gpuType)})`);
    } else {
      const pools = environment.nodePools.filter((pool) => pool.gpuType === gpuType);
      if (pools.length === 0) {
        report(
          file,
          `${at}.gpu.type`,
          `expected a GPU type one of this environment's node pools carries (${[...new Set(environment.nodePools.map((pool) => pool.gpuType))].join(', ')}) (got ${JSON.stringify(gpuType)}); add a node pool for it`,
        );
      } else if (!pools.some((pool) => pool.gpusPerNode >= count)) {
        report(file, `${at}.gpu.count`, `expected at most ${Math.max(...pools.map((pool) => pool.gpusPerNode))}, the GPUs per node of the ${gpuType} pools: a replica runs on one node (got ${count})`);
      }
    }

    const engineArgs = { ...model?.engineArgs, ...deployment.engineArgs };
    const tensorParallel = engineArgs['tensor-parallel-size'] ?? count;
    if (count % tensorParallel !== 0) {
      report(file, `${at}.engineArgs.tensor-parallel-size`, `expected a divisor of the GPU count ${count} (got ${tensorParallel})`);
    }
    if (!model) continue;
    if (engineArgs.quantization && !model.quantizations[engineArgs.quantization]) {
      const allowed = Object.keys(model.quantizations);
      report(
        file,
        `${at}.engineArgs.quantization`,
        `expected a quantization model ${model.name} allows (${allowed.length ? allowed.join(', ') : 'none'}) (got ${JSON.stringify(engineArgs.quantization)})`,
      );
    }
    if (engineArgs['max-model-len'] !== undefined && engineArgs['max-model-len'] > model.contextLengthTokens) {
      report(file, `${at}.engineArgs.max-model-len`, `expected at most the model's context length ${model.contextLengthTokens} (got ${engineArgs['max-model-len']})`);
    }
    const utilization = engineArgs['gpu-memory-utilization'] ?? DEFAULT_GPU_MEMORY_UTILIZATION;
    const weights = weightsGiB(model, engineArgs.quantization);
    const usable = usableGiB(gpuType, count, utilization);
    if (weights >= usable) {
      const precision = engineArgs.quantization ?? model.dtype;
      report(
        file,
        `${at}.gpu`,
        `expected GPUs that hold the weights: ${model.name} needs ${weights.toFixed(1)} GiB at ${precision}, but ${count} × ${gpuType} leave ${Math.max(0, usable).toFixed(1)} GiB at gpu-memory-utilization ${utilization} (got count ${count}); use more GPUs, a larger GPU type or a quantization`,
      );
    }
  }
}

function offeredBy(cloud: Environment['cloud']): string {
  const machines = cloudPlugin(cloud).gpuMachines;
  return GPU_TYPES.filter((gpuType) => machines[gpuType]).join(', ');
}

function checkPolicy({ file, value: policy }: Loaded<Policy>, report: Report): void {
  const space = policy.searchSpace;
  for (const [field, range] of [
    ['replicas', space.replicas],
    ['maxNumSeqs', space.maxNumSeqs],
    ['maxNumBatchedTokens', space.maxNumBatchedTokens],
  ] as const) {
    if (range.min > range.max) report(file, `searchSpace.${field}.min`, `expected at most searchSpace.${field}.max (${range.max}) (got ${range.min})`);
  }
  const steps = policy.canary.steps;
  steps?.forEach((step, index) => {
    if (index > 0 && step.weightPct <= steps[index - 1].weightPct) {
      report(file, `canary.steps[${index}].weightPct`, `expected more than the previous step's ${steps[index - 1].weightPct} (got ${step.weightPct})`);
    }
  });
  const { banDays, maxBanDays } = policy.neighbourhood;
  if (maxBanDays < banDays) report(file, 'neighbourhood.maxBanDays', `expected at least neighbourhood.banDays (${banDays} days): the longest ban cannot be shorter than the first (got ${maxBanDays})`);
  if (policy.rollback.minQuality !== undefined && !policy.rollback.qualityMetric) {
    report(file, 'rollback.qualityMetric', 'required with rollback.minQuality: expected the Prometheus metric that carries quality (got nothing)');
  }
}

/** Two environments in one cluster must not share a namespace (they would overwrite each other). */
function checkNamespaces(environments: readonly Loaded<Environment>[], report: Report): void {
  const owners = new Map<string, string>();
  for (const { file, value } of environments) {
    const key = `${value.cloud}/${value.cluster}/${value.namespace}`;
    const owner = owners.get(key);
    if (owner) report(file, 'namespace', `expected a namespace no other environment uses in cluster ${value.cluster} (got ${JSON.stringify(value.namespace)}, also used by ${owner})`);
    else owners.set(key, value.name);
  }
}
