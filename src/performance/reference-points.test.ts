import { describe, expect, it } from 'vitest';
import { loadReferenceData, predictedValue, toleranceOf } from './reference-points.ts';

const data = loadReferenceData();
const kept = data.points.filter((point) => point.dropped === undefined);

describe('the serving model against published measurements (reference-points.json)', () => {
  it.each(kept.map((point) => [point.id, point] as const))('predicts %s within its tolerance', (_id, point) => {
    const predicted = predictedValue(data, point);

    const ratio = predicted / point.value;

    expect(Math.max(ratio, 1 / ratio), `predicted ${predicted.toFixed(2)} for ${point.metric} ${point.value}`).toBeLessThanOrEqual(toleranceOf(point));
  });

  it('holds itself to enough, and varied enough, measurements', () => {
    const gpuTypes = new Set(kept.map((point) => point.gpuType).filter((type) => ['nvidia-l4', 'nvidia-a10g', 'nvidia-a100-40gb', 'nvidia-a100-80gb', 'nvidia-h100-80gb'].includes(type)));
    const sizes = kept.map((point) => data.models[point.model]!.parametersBillions);

    expect(kept.length).toBeGreaterThanOrEqual(12);
    expect(gpuTypes.size).toBeGreaterThanOrEqual(3);
    expect(sizes.some((size) => size >= 6 && size <= 9)).toBe(true);
    expect(sizes.some((size) => size >= 60)).toBe(true);
    expect(kept.some((point) => point.concurrency === 1)).toBe(true);
    expect(kept.some((point) => point.concurrency === 'max' || point.concurrency >= 32)).toBe(true);
    expect(new Set(kept.map((point) => point.metric))).toEqual(new Set(['tpotMs', 'ttftMs', 'outputTokensPerSecond']));
    expect(new Set(kept.map((point) => point.source)).size).toBeGreaterThanOrEqual(4);
  });

  it('names a source for every point and a reason for every point it drops or widens', () => {
    for (const point of data.points) {
      expect(data.sources[point.source], point.id).toBeDefined();
      expect(data.models[point.model], point.id).toBeDefined();
    }
    for (const point of data.points.filter((candidate) => candidate.dropped !== undefined)) expect(point.dropped!.length, point.id).toBeGreaterThan(40);
    for (const point of data.points.filter((candidate) => toleranceOf(candidate) > 1.5)) expect(point.otherEngine, point.id).toMatch(/not vLLM/);
  });
});
