/** One synthesis unit as a message between the main thread and a worker, and its answer. */
import v8 from 'node:v8';
import vm from 'node:vm';
import { sha256 } from './content-hash.ts';
import type { EnvironmentSlice } from './environment-slice.ts';
import { synthesizeUnit, type SynthesisUnit } from './units.ts';
import type { OutputFile } from './synthesizer.ts';

/** A file synth made, with the SHA-256 of its content. */
export interface HashedFile extends OutputFile {
  readonly sha256: string;
}

export interface UnitRequest {
  readonly id: number;
  /** The environment's slice, holding only the deployments the unit needs. */
  readonly slice: EnvironmentSlice;
  readonly unit: SynthesisUnit;
}

/**
 * A full garbage collection, on demand. V8 lets the heap of a busy thread
 * grow far past what it holds before collecting: at 1,000 x 3 a thread held
 * 130-150 MiB of heap of which 35-55 MiB was live (BENCHMARKS.md, issue 17). Node exposes `gc`
 * only with --expose-gc, which can also be set at run time for new contexts.
 */
const collectGarbage: () => void = (() => {
  v8.setFlagsFromString('--expose-gc');
  return vm.runInNewContext('gc') as () => void;
})();

/** Heap in use (bytes) below which no collection is forced: small fleets never pay for one. */
const COLLECT_ABOVE_BYTES = 128 * 2 ** 20;
/** Garbage let grow over the live set before a collection (bytes). */
const HEADROOM_BYTES = 64 * 2 ** 20;
let liveAfterCollection = 0;

/** Collects after a unit when the heap in use has passed the floor and the live set by the headroom: the peak stays near the live set. */
function collectWhenGrown(): void {
  const used = v8.getHeapStatistics().used_heap_size;
  if (used < Math.max(COLLECT_ABOVE_BYTES, liveAfterCollection + HEADROOM_BYTES)) return;
  collectGarbage();
  liveAfterCollection = v8.getHeapStatistics().used_heap_size;
}

export type UnitReply = { readonly id: number; readonly files: readonly HashedFile[] } | { readonly id: number; readonly error: string };

/**
 * Synthesizes a unit, importing only the library it needs (cdktf for
 * Terraform, cdk8s for the rest), so a thread that makes only Terraform never
 * loads cdk8s and the other way round; a failure comes back as its message
 * (a SynthesisError's, naming the step and environment).
 */
export async function runUnit({ id, slice, unit }: UnitRequest): Promise<UnitReply> {
  try {
    const make =
      unit.kind === 'terraform'
        ? await import('./terraform/terraform-synthesizer.ts').then(({ terraformFile }) => () => [terraformFile(slice)])
        : await import('./kubernetes-units.ts').then(
            ({ kubernetesUnitFiles }) =>
              () =>
                kubernetesUnitFiles(slice, unit),
          );
    const files = synthesizeUnit(slice, unit, make).map((file) => ({ ...file, sha256: sha256(file.content) }));
    collectWhenGrown();
    return { id, files };
  } catch (error) {
    return { id, error: error instanceof Error ? error.message : String(error) };
  }
}
