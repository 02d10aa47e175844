import { describe, expect, it } from 'vitest';
import { CLI_HEADING, cliTable, committedRatios, regressions, type CliRow } from './bench-cli.ts';

const row = (task: string, seconds: number, baselineSeconds: number): CliRow => ({
  task,
  ours: { seconds, peakMiB: 100 },
  baseline: '`node -e 0`',
  baselineRun: { seconds: baselineSeconds, peakMiB: 40 },
  target: '≤ 0.5 s',
  met: seconds <= 0.5,
});

describe('the benchmark regression check', () => {
  const committed = `# Benchmarks\n\n${CLI_HEADING}\n\ntext\n\n${cliTable([row('`llmops --help`', 0.1, 0.05), row('`llmops validate`, example fleet', 0.4, 0.05)])}\n\n## Next section\n| \`x\` | 1 | 1 | y | 1 | 9.00 | t | yes |\n`;

  it('reads the committed ratios of its own section only', () => {
    expect(committedRatios(committed)).toEqual(
      new Map([
        ['`llmops --help`', 2],
        ['`llmops validate`, example fleet', 8],
      ]),
    );
  });

  it('flags a ratio more than 25 % above the committed one, and nothing on a machine that is slower or faster as a whole', () => {
    const ratios = committedRatios(committed);

    expect(regressions([row('`llmops --help`', 0.2, 0.1), row('`llmops validate`, example fleet', 0.2, 0.025)], ratios)).toEqual([]);
    expect(regressions([row('`llmops --help`', 0.124, 0.05)], ratios)).toEqual([]);
    expect(regressions([row('`llmops --help`', 0.13, 0.05), row('a new task', 9, 1)], ratios)).toEqual(['`llmops --help`: 2.60 × `node -e 0` against 2.00 committed (+30 %, more than 25 %)']);
  });
});
