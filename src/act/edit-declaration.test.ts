import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIXTURE_SOURCE } from '../testing/fixture-fleet.ts';
import { applyDeclarationChange, DeclarationEditError } from './edit-declaration.ts';

const staging = await readFile(path.join(FIXTURE_SOURCE, 'environments/staging.ts'), 'utf8');
const production = await readFile(path.join(FIXTURE_SOURCE, 'environments/production.ts'), 'utf8');

/** Lines of `after` that differ from `before` (same line count assumed unless noted). */
function changedLines(before: string, after: string): string[] {
  const beforeLines = before.split('\n');
  return after.split('\n').filter((line, index) => beforeLines[index] !== line);
}

describe('editing an environment declaration in place', () => {
  it('changes only the literals of the change, keeping every other byte', () => {
    // Arrange
    const change = { replicas: { min: 2, max: 3 }, engineArgs: { 'max-num-seqs': 64 } };

    // Act
    const edited = applyDeclarationChange('environments/staging.ts', staging, 'llama-3-1-8b-instruct', change);

    // Assert
    expect(edited).toBe(
      staging.replace(
        "replicas: { min: 1, max: 3 },\n      gpu: { type: 'nvidia-a100-80gb', count: 1 },\n      engineArgs: { 'max-num-seqs': 256 }",
        "replicas: { min: 2, max: 3 },\n      gpu: { type: 'nvidia-a100-80gb', count: 1 },\n      engineArgs: { 'max-num-seqs': 64 }",
      ),
    );
    expect(changedLines(staging, edited)).toHaveLength(2);
  });

  it('keeps comments and the other deployments untouched when it changes the GPU', () => {
    const qwen = "      replicas: { min: 2, max: 4 },\n      gpu: { type: 'nvidia-l4', count: 1 },";

    const edited = applyDeclarationChange('environments/production.ts', production, 'qwen2-5-7b-instruct', { gpu: { type: 'nvidia-a100-80gb', count: 1 } });

    expect(edited).toBe(production.replace(qwen, "      replicas: { min: 2, max: 4 },\n      gpu: { type: 'nvidia-a100-80gb', count: 1 },"));
  });

  it('inserts an engine argument the block does not have yet, and removes one', () => {
    const added = applyDeclarationChange('environments/staging.ts', staging, 'llama-3-1-8b-instruct', { engineArgs: { quantization: 'fp8' } });
    const removed = applyDeclarationChange('environments/staging.ts', staging, 'llama-3-1-70b-instruct', { removeEngineArgs: ['quantization'] });

    expect(added).toContain("engineArgs: { 'max-num-seqs': 256, quantization: 'fp8' },");
    expect(removed).toContain("engineArgs: { 'max-num-seqs': 128 },");
    expect(changedLines(staging, removed)).toEqual(["      engineArgs: { 'max-num-seqs': 128 },"]);
  });

  it('refuses a value that is not a literal, naming the file, the field and why', () => {
    const text = staging.replace('replicas: { min: 1, max: 3 }', 'replicas: { min: MIN, max: 3 }');

    const attempt = () => applyDeclarationChange('environments/staging.ts', text, 'llama-3-1-8b-instruct', { replicas: { min: 2, max: 3 } });

    expect(attempt).toThrow(DeclarationEditError);
    expect(attempt).toThrow(
      'environments/staging.ts: deployments.llama-3-1-8b-instruct.replicas.min: expected a literal value the bot can edit (got `MIN`); write the value out literally or change it by hand',
    );
  });

  it('refuses a deployment block built by a function call', () => {
    const text = staging.replace(/'llama-3-1-8b-instruct': \{[\s\S]*?\n {4}\},/, "'llama-3-1-8b-instruct': smallModel('balanced'),");

    const attempt = () => applyDeclarationChange('environments/staging.ts', text, 'llama-3-1-8b-instruct', { replicas: { min: 2, max: 3 } });

    expect(attempt).toThrow("environments/staging.ts: deployments.llama-3-1-8b-instruct: expected an object literal the bot can edit (got `smallModel('balanced')`); write the block out literally");
  });

  it('grows a node pool in the same edit, and refuses a pool that moved', () => {
    const change = { replicas: { min: 2, max: 6 }, nodePools: [{ index: 0, name: 'a100-spot', maxNodes: 10 }] };

    const edited = applyDeclarationChange('environments/staging.ts', staging, 'llama-3-1-8b-instruct', change);
    const moved = () => applyDeclarationChange('environments/staging.ts', staging, 'llama-3-1-8b-instruct', { nodePools: [{ index: 1, name: 'a100-spot', maxNodes: 10 }] });

    expect(changedLines(staging, edited)).toEqual([
      "    { name: 'a100-spot', gpuType: 'nvidia-a100-80gb', gpusPerNode: 1, capacity: 'spot', minNodes: 0, maxNodes: 10 },",
      '      replicas: { min: 2, max: 6 },',
    ]);
    expect(moved).toThrow('environments/staging.ts: nodePools[1].name: expected the pool "a100-spot" the recommendation grows (got `\'a100x2\'`): were the pools reordered since?');
  });

  it('refuses a deployment that no longer exists', () => {
    const attempt = () => applyDeclarationChange('environments/staging.ts', staging, 'mistral-7b', { replicas: { min: 1, max: 2 } });

    expect(attempt).toThrow('environments/staging.ts: deployments.mistral-7b: expected this deployment in the declaration (got none)');
  });
});
