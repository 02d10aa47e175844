/**
 * The CLI's own speed (issue 17): the real `node bin/llmops.js` (the
 * precompiled build) timed as whole processes, each beside a baseline run in
 * the same rounds — `node -e 0` for what start-up dominates, plain cdk8s
 * (scripts/baseline-plain-cdk8s.ts) for a full synth — so that a ratio holds
 * on a machine whose speed drifts. `npm run bench` fails when a ratio grows by
 * more than 25 % over the one committed in BENCHMARKS.md, and then leaves the
 * committed figures as they are (`--accept-regression` writes them anyway).
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { copyFixtureFleet, removeFleet } from '../src/testing/fixture-fleet.ts';
import { writeLargeFleet } from './large-fleet.ts';

export const CLI_HEADING = '## The CLI: start-up, no-op synth and full synth (issue 17)';

/** A ratio may grow this much over the committed one before `npm run bench` fails. */
export const REGRESSION_TOLERANCE = 1.25;

interface Run {
  readonly seconds: number;
  readonly peakMiB: number;
}

/** Wall time from spawn to exit, and the peak resident memory GNU time reports (the process's largest, worker threads included). */
function timed(command: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn('/usr/bin/time', ['-f', 'peak-kib %M', ...command], { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => void (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const seconds = (performance.now() - started) / 1000;
      const peak = stderr.match(/peak-kib (\d+)\s*$/);
      if (code !== 0 || !peak) return reject(new Error(`${command.join(' ')} failed (exit ${code}):\n${stderr}`));
      resolve({ seconds, peakMiB: Number(peak[1]) / 1024 });
    });
  });
}

const median = (values: readonly number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/** Median of `rounds` runs of each task, the tasks interleaved round by round after one warm-up round. */
async function rounds(tasks: Record<string, () => Promise<Run>>, count: number, warmUp = true): Promise<Record<string, Run>> {
  if (warmUp) for (const task of Object.values(tasks)) await task();
  const runs: Record<string, Run[]> = Object.fromEntries(Object.keys(tasks).map((name) => [name, []]));
  for (let round = 0; round < count; round += 1) for (const [name, task] of Object.entries(tasks)) runs[name]!.push(await task());
  return Object.fromEntries(Object.entries(runs).map(([name, list]) => [name, { seconds: median(list.map((run) => run.seconds)), peakMiB: median(list.map((run) => run.peakMiB)) }]));
}

export interface CliRow {
  readonly task: string;
  readonly ours: Run;
  readonly baseline: string;
  readonly baselineRun: Run;
  /** The target, in words, and whether this run meets it. */
  readonly target: string;
  readonly met: boolean;
}

const ratio = (row: CliRow) => row.ours.seconds / row.baselineRun.seconds;

export async function measureCli(repoRoot: string): Promise<CliRow[]> {
  const llmops = path.join(repoRoot, 'bin/llmops.js');
  const tsx = path.join(repoRoot, 'node_modules/.bin/tsx');
  const node = process.execPath;
  const cacheDir = await mkdtemp(path.join(tmpdir(), 'llmops-bench-cache-'));
  const example = await copyFixtureFleet();
  const hundred = await writeLargeFleet(repoRoot, 100);
  const thousand = await writeLargeFleet(repoRoot, 1000);
  const cached = { LLMOPS_CACHE_DIR: cacheDir };
  const uncached = { LLMOPS_CACHE: 'off' };
  try {
    await timed([node, llmops, '--version']); // builds the precompiled CLI when the sources changed
    await timed([node, llmops, 'synth', '--root', example], cached); // the record the no-op runs answer from
    console.error('measuring start-up, validate and no-op synth (5 rounds) ...');
    const small = await rounds(
      {
        node: () => timed([node, '-e', '0']),
        help: () => timed([node, llmops, '--help']),
        validate: () => timed([node, llmops, 'validate', '--root', example]),
        synth: () => timed([node, llmops, 'synth', '--root', example], cached),
        check: () => timed([node, llmops, 'synth', '--check', '--root', example], cached),
      },
      5,
    );
    console.error('measuring full synth of 100 x 3 against plain cdk8s (3 rounds) ...');
    const hundredRuns = await rounds(
      { baseline: () => timed([tsx, path.join(repoRoot, 'scripts/baseline-plain-cdk8s.ts'), '100']), synth: () => timed([node, llmops, 'synth', '--root', hundred], uncached) },
      3,
    );
    console.error('measuring full synth of 1,000 x 3 (1 round) ...');
    const thousandRuns = await rounds(
      { baseline: () => timed([tsx, path.join(repoRoot, 'scripts/baseline-plain-cdk8s.ts'), '100']), synth: () => timed([node, llmops, 'synth', '--root', thousand], uncached) },
      1,
      false,
    );

    const nodeStart = { baseline: '`node -e 0`', baselineRun: small.node! };
    const within = (run: Run, seconds: number) => run.seconds <= seconds;
    return [
      { task: '`llmops --help`', ours: small.help!, ...nodeStart, target: '≤ 2.5 × node', met: small.help!.seconds <= 2.5 * small.node!.seconds },
      { task: '`llmops validate`, example fleet', ours: small.validate!, ...nodeStart, target: '≤ 0.5 s', met: within(small.validate!, 0.5) },
      { task: '`llmops synth`, example fleet, nothing changed', ours: small.synth!, ...nodeStart, target: '≤ 0.5 s', met: within(small.synth!, 0.5) },
      { task: '`llmops synth --check`, example fleet, nothing changed', ours: small.check!, ...nodeStart, target: '≤ 0.5 s', met: within(small.check!, 0.5) },
      {
        task: '`llmops synth`, 100 models × 3 environments, no cache',
        ours: hundredRuns.synth!,
        baseline: 'plain cdk8s, 100 × 3',
        baselineRun: hundredRuns.baseline!,
        target: '≤ 2 × plain cdk8s',
        met: hundredRuns.synth!.seconds <= 2 * hundredRuns.baseline!.seconds,
      },
      {
        task: '`llmops synth`, 1,000 models × 3 environments, no cache',
        ours: thousandRuns.synth!,
        baseline: 'plain cdk8s, 100 × 3',
        baselineRun: thousandRuns.baseline!,
        target: '≤ 30 s and ≤ 500 MiB',
        met: within(thousandRuns.synth!, 30) && thousandRuns.synth!.peakMiB <= 500,
      },
    ];
  } finally {
    await Promise.all([removeFleet(example), removeFleet(hundred), removeFleet(thousand), rm(cacheDir, { recursive: true, force: true })]);
  }
}

export function cliTable(rows: readonly CliRow[]): string {
  const lines = rows.map(
    (row) =>
      `| ${row.task} | ${row.ours.seconds.toFixed(2)} | ${Math.round(row.ours.peakMiB)} | ${row.baseline} | ${row.baselineRun.seconds.toFixed(2)} | ${ratio(row).toFixed(2)} | ${row.target} | ${row.met ? 'yes' : '**no**'} |`,
  );
  return ['| task | s | peak MiB | baseline | baseline s | ratio | target | met |', '|---|---:|---:|---|---:|---:|---|---|', ...lines].join('\n');
}

/** The ratios of a committed table, by task. */
export function committedRatios(markdown: string): Map<string, number> {
  const at = markdown.indexOf(CLI_HEADING);
  if (at < 0) return new Map();
  const end = markdown.indexOf('\n## ', at + CLI_HEADING.length);
  const section = markdown.slice(at, end < 0 ? undefined : end);
  const ratios = new Map<string, number>();
  for (const line of section.split('\n')) {
    const cells = line.split('|').map((cell) => cell.trim());
    // | task | s | peak | baseline | baseline s | ratio | target | met |
    if (cells.length >= 9 && /^`/.test(cells[1]!) && Number.isFinite(Number(cells[6]))) ratios.set(cells[1]!, Number(cells[6]));
  }
  return ratios;
}

/** Tasks whose ratio grew by more than the tolerance over the committed one, in words. */
export function regressions(rows: readonly CliRow[], committed: ReadonlyMap<string, number>): string[] {
  return rows.flatMap((row) => {
    const before = committed.get(row.task);
    if (before === undefined || ratio(row) <= before * REGRESSION_TOLERANCE) return [];
    return [
      `${row.task}: ${ratio(row).toFixed(2)} × ${row.baseline} against ${before.toFixed(2)} committed (+${((ratio(row) / before - 1) * 100).toFixed(0)} %, more than ${((REGRESSION_TOLERANCE - 1) * 100).toFixed(0)} %)`,
    ];
  });
}
