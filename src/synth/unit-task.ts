/** One synthesis unit as a message between the main thread and a worker, and its answer. */
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
        : await import('./kubernetes-units.ts').then(({ kubernetesUnitFiles }) => () => kubernetesUnitFiles(slice, unit));
    return { id, files: synthesizeUnit(slice, unit, make).map((file) => ({ ...file, sha256: sha256(file.content) })) };
  } catch (error) {
    return { id, error: error instanceof Error ? error.message : String(error) };
  }
}
