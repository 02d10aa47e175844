/**
 * The engine arguments the optimizer tunes, one row each: a tuned knob is a row
 * in this table. Candidate search, the declaration change, descriptions and the
 * ledger all walk it, so adding a knob is adding a row (and its field on the
 * optimizer's Configuration).
 */
import type { GpuType } from '../catalogue/gpus.ts';
import { defaultMaxNumBatchedTokens, defaultMaxNumSeqs } from './defaults.ts';
import type { EngineArgs } from './engine-args.ts';

export interface TunedKnob {
  /** The vLLM flag. */
  readonly flag: 'max-num-seqs' | 'max-num-batched-tokens';
  /** Field of the optimizer's Configuration and of the policy's `searchSpace` (a range). */
  readonly key: 'maxNumSeqs' | 'maxNumBatchedTokens';
  /** Values the search tries, within the policy's range. */
  readonly grid: readonly number[];
  /** vLLM's value when the flag is absent. */
  readonly vllmDefault: (gpuType: GpuType) => number;
}

export const TUNED_KNOBS: readonly TunedKnob[] = [
  { flag: 'max-num-seqs', key: 'maxNumSeqs', grid: [16, 32, 64, 128, 256, 512, 1024], vllmDefault: defaultMaxNumSeqs },
  { flag: 'max-num-batched-tokens', key: 'maxNumBatchedTokens', grid: [1024, 2048, 4096, 8192, 16384], vllmDefault: defaultMaxNumBatchedTokens },
];

/** The value a server runs a knob at: the declared flag or vLLM's default. */
export function knobValue(knob: TunedKnob, engineArgs: EngineArgs, gpuType: GpuType): number {
  return engineArgs[knob.flag] ?? knob.vllmDefault(gpuType);
}
