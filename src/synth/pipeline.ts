/**
 * `llmops synth`'s synthesis: each environment either proven unchanged (its
 * slice's record in the synth cache matches the files on disk, so they are
 * kept as they are) or cut into units (src/synth/units.ts) that run on worker
 * threads, their files streamed into the new generated/ (or, for --check,
 * only hashed) as they arrive. No more than a few units' files are held at a
 * time, whatever the size of the fleet. The output is byte-identical to
 * src/synth/steps.ts, the whole tree in memory on one thread.
 */
import { availableParallelism } from 'node:os';
import type { Fleet } from '../fleet/fleet.ts';
import { argocdFiles } from './argocd/argocd-synthesizer.ts';
import { sha256, type FileHashes } from './content-hash.ts';
import { environmentSlice, type EnvironmentSlice } from './environment-slice.ts';
import { environmentOnDisk, hashGenerated, type SynthCache } from './synth-cache.ts';
import { SynthesisError } from './synthesizer.ts';
import { startRunners, type UnitRunner, type UnitRunners } from './unit-runner.ts';
import { environmentUnits, type SynthesisUnit } from './units.ts';
import { diffTrees, recoverGenerated, writeGeneratedAtomically, type GeneratedSink, type TreeDiff } from './write.ts';

/** Below this many deployments to synthesize, units run on this thread: a worker's start (loading the libraries) costs more than it saves. */
export const PARALLEL_FROM_DEPLOYMENTS = 24;

export interface PipelineOptions {
  readonly fleet: Fleet;
  /** Only this environment's folder; the rest of generated/ is kept as it is. */
  readonly scope?: string;
  /** Compare with generated/ instead of writing it. */
  readonly check: boolean;
  /** Records of earlier syntheses; none: synthesize everything. */
  readonly cache?: SynthCache;
  /** Threads for synthesis, this one included (src/synth/unit-runner.ts); 1 runs every unit here. Default: one per available core, or 1 for a small fleet. */
  readonly threads?: number;
  /** Runners started earlier (while the fleet loaded), used instead of starting new ones; closed at the end either way. */
  readonly runners?: Promise<UnitRunners>;
}

export interface PipelineResult {
  /** What synth makes in scope, path (relative to generated/) → SHA-256. */
  readonly files: FileHashes;
  /** The tree in scope against generated/ as it was. */
  readonly diff: TreeDiff;
  /** generated/ after the run (written, or as it was for a check), for the cache's fleet record. */
  readonly onDiskAfter: FileHashes;
  /** Environments synthesized (the others were proven unchanged from the cache). */
  readonly synthesized: readonly string[];
}

/** The slice a unit needs: the whole environment for its namespace and Terraform, its own deployments for a batch, none for the chart or the bot. */
function unitSlice(slice: EnvironmentSlice, unit: SynthesisUnit): EnvironmentSlice {
  if (unit.kind === 'terraform' || unit.kind === 'namespace') return slice;
  if (unit.kind === 'deployments') {
    const models = new Set(unit.models);
    return { ...slice, deployments: slice.deployments.filter((deployment) => models.has(deployment.model.name)) };
  }
  return { ...slice, deployments: [] };
}

const fromHashes = (hashes: FileHashes) => new Map(Object.entries(hashes));

export async function runPipeline(root: string, options: PipelineOptions): Promise<PipelineResult> {
  const { fleet, scope, cache } = options;
  if (!options.check) await recoverGenerated(root);
  const onDisk = await hashGenerated(root);
  const inScope = (file: string) => scope === undefined || file.startsWith(`${scope}/`);

  const plans = await Promise.all(
    fleet.environments
      .filter((environment) => scope === undefined || environment.name === scope)
      .map(async (environment) => {
        const slice = environmentSlice(fleet, environment.name);
        const key = cache?.environmentKey(slice);
        const recorded = key === undefined ? undefined : await cache!.environmentFiles(key);
        return { slice, key, kept: recorded !== undefined && environmentOnDisk(environment.name, onDisk, recorded) ? recorded : undefined };
      }),
  );

  const files: FileHashes = {};
  const made = (file: string, hash: string) => {
    if (files[file] !== undefined) throw new SynthesisError(`two steps wrote ${file}`);
    files[file] = hash;
  };
  const toSynthesize = plans.filter((plan) => plan.kept === undefined);
  const deployments = toSynthesize.reduce((sum, plan) => sum + plan.slice.deployments.length, 0);
  const threads = options.threads ?? (deployments >= PARALLEL_FROM_DEPLOYMENTS ? availableParallelism() : 1);

  const synthesize = async (sink: GeneratedSink | undefined) => {
    for (const plan of plans) {
      if (plan.kept === undefined) continue;
      for (const [file, hash] of Object.entries(plan.kept)) {
        made(file, hash);
        await sink?.keep(file);
      }
    }
    if (scope === undefined) {
      let fleetFiles;
      try {
        fleetFiles = argocdFiles(fleet);
      } catch (error) {
        throw new SynthesisError(`the argocd step failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
      }
      for (const file of fleetFiles) {
        made(file.path, sha256(file.content));
        await sink?.write(file.path, file.content);
      }
    } else if (sink) {
      for (const file of Object.keys(onDisk)) if (!inScope(file)) await sink.keep(file);
    }
    if (toSynthesize.length === 0) return;

    const runners = await (options.runners ?? startRunners(threads));
    try {
      const tasks = toSynthesize.flatMap((plan) => environmentUnits(plan.slice).map((unit) => ({ plan, unit })));
      const remaining = new Map(toSynthesize.map((plan) => [plan, tasks.filter((task) => task.plan === plan).length]));
      const environmentFiles = new Map(toSynthesize.map((plan) => [plan, {} as FileHashes]));
      const runTask = async (runner: UnitRunner, { plan, unit }: (typeof tasks)[number]) => {
        const unitFiles = await runner.run({ slice: unitSlice(plan.slice, unit), unit });
        for (const file of unitFiles) {
          made(file.path, file.sha256);
          environmentFiles.get(plan)![file.path] = file.sha256;
          await sink?.write(file.path, file.content);
        }
        remaining.set(plan, remaining.get(plan)! - 1);
        if (remaining.get(plan) === 0 && plan.key !== undefined) await cache?.recordEnvironment(plan.key, environmentFiles.get(plan)!).catch(() => undefined);
      };
      // Each thread takes one unit at a time and writes its files before the next: memory holds a few units, whatever the fleet.
      const queue = tasks.filter((task) => task.unit.kind !== 'terraform');
      let failure: { readonly error: unknown } | undefined;
      const consume = async (runner: UnitRunner) => {
        while (failure === undefined && queue.length > 0) await runTask(runner, queue.shift()!);
      };
      const guarded = (work: () => Promise<void>) => work().catch((error: unknown) => void (failure ??= { error }));
      await Promise.all([
        // Terraform, one environment at a time (the largest units), then the rest with the others, when any is left.
        guarded(async () => {
          for (const task of tasks.filter((candidate) => candidate.unit.kind === 'terraform')) if (failure === undefined) await runTask(runners.terraform, task);
          if (runners.terraform !== runners.kubernetes) await consume(runners.terraform);
        }),
        ...Array.from({ length: runners.kubernetes.concurrency }, () => guarded(() => consume(runners.kubernetes))),
      ]);
      if (failure !== undefined) throw failure.error;
    } finally {
      await runners.close();
    }
  };

  try {
    if (options.check) await synthesize(undefined);
    else await writeGeneratedAtomically(root, synthesize);
  } finally {
    await (await options.runners)?.close();
  }

  const expected = fromHashes(files);
  const before = new Map([...fromHashes(onDisk)].filter(([file]) => inScope(file)));
  const onDiskAfter = options.check ? onDisk : { ...Object.fromEntries(Object.entries(onDisk).filter(([file]) => !inScope(file))), ...files };
  return { files, diff: diffTrees(expected, before), onDiskAfter, synthesized: toSynthesize.map((plan) => plan.slice.environment.name) };
}
