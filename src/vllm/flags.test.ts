import { describe, expect, it } from 'vitest';
import type { EngineArgs } from './engine-args.ts';
import { engineArgsFromFlags, parseFlags, renderFlags } from './flags.ts';

describe('vLLM flags', () => {
  it('parse back to the engine arguments they were rendered from', () => {
    const engineArgs: EngineArgs = { 'max-num-seqs': 64, 'gpu-memory-utilization': 0.85, quantization: 'fp8', 'kv-cache-dtype': 'fp8', 'enable-prefix-caching': false, 'enable-chunked-prefill': true };

    const parsed = engineArgsFromFlags(parseFlags(['meta-llama/Llama-3.1-8B-Instruct', '--served-model-name', 'llama', ...renderFlags(engineArgs)]));

    expect(parsed).toEqual(engineArgs);
  });

  it('render sorted by name, booleans as --name / --no-name', () => {
    expect(renderFlags({ 'max-num-seqs': 8, 'enable-prefix-caching': false, 'enable-chunked-prefill': true })).toEqual([
      '--enable-chunked-prefill',
      '--no-enable-prefix-caching',
      '--max-num-seqs',
      '8',
    ]);
  });

  it('refuse a flag value the schema does not allow, naming it', () => {
    expect(() => engineArgsFromFlags({ 'max-num-seqs': 'many' })).toThrow(/max-num-seqs/);
  });
});
