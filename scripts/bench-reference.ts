/**
 * The serving model against published measurements: the reference points
 * (src/performance/reference-points.json) with the model's prediction for the
 * same setup and their ratio, as BENCHMARKS.md shows them. Computed, not timed.
 */
import { loadReferenceData, predictedValue, toleranceOf, type ReferencePoint } from '../src/performance/reference-points.ts';

const UNITS: Record<ReferencePoint['metric'], string> = { tpotMs: 'TPOT ms', ttftMs: 'TTFT ms', outputTokensPerSecond: 'output tok/s' };

const figure = (value: number) => (value >= 100 ? Math.round(value).toLocaleString('en-US') : value.toFixed(value >= 10 ? 1 : 2));

export function referenceMarkdown(): string {
  const data = loadReferenceData();
  const rows = data.points.map((point) => {
    const model = data.models[point.model]!;
    const source = data.sources[point.source]!;
    const predicted = predictedValue(data, point);
    const ratio = predicted / point.value;
    const flags = Object.entries(point.engineArgs)
      .map(([name, value]) => `--${name} ${value}`)
      .join(' ');
    const setup = `${point.gpuCount}x ${point.gpuType}, ${model.name.split(' ')[0]}${flags ? ` ${flags}` : ''}, ${point.promptTokens} in / ${point.outputTokens} out, concurrency ${point.concurrency}`;
    const verdict = point.dropped
      ? `dropped: ${point.dropped}`
      : `${Math.max(ratio, 1 / ratio) <= toleranceOf(point) ? 'within' : 'OUTSIDE'} ${toleranceOf(point)}x${point.otherEngine ? ` (${point.otherEngine})` : ''}`;
    return `| [${source.title.split(':')[0]}](${source.url}) (${source.engine}) | ${setup} | ${UNITS[point.metric]} | ${figure(point.value)} | ${figure(predicted)} | ${ratio.toFixed(2)} | ${verdict} |`;
  });
  const kept = data.points.filter((point) => !point.dropped);
  const ratios = kept.map((point) => predictedValue(data, point) / point.value);
  const worst = Math.max(...ratios.map((ratio) => Math.max(ratio, 1 / ratio)));
  return `${kept.length} published measurements held by \`src/performance/reference-points.test.ts\` (${data.points.length - kept.length} dropped, reason given),
${new Set(kept.map((point) => point.gpuType)).size} GPU types, models of 0.5–70 B parameters, from ${new Set(kept.map((point) => point.source)).size} sources; worst ratio ${worst.toFixed(2)}x.
Ratio = prediction ÷ reference; a vLLM measurement must be within 1.5x, another engine's within 2x.

| source (engine) | setup | metric | reference | prediction | ratio | |
|---|---|---|---:|---:|---:|---|
${rows.join('\n')}
`;
}
