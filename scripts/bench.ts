/**
 * `npm run bench`: wall time and peak memory of the compiler's commands, each
 * task in a fresh process, repeated and interleaved with its baseline so that
 * ratios come from one run on one machine. Writes BENCHMARKS.md.
 */
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { nodePoolsMarkdown } from '../src/cli/commands/ls.ts';
import { loadFleet } from '../src/fleet/load.ts';
import { copyFixtureFleet, removeFleet } from '../src/testing/fixture-fleet.ts';
import { writeLargeFleet } from './large-fleet.ts';
import { planFixture } from './bench-plan.ts';
import { loopBenchmark, loopMarkdown } from './bench-loop.ts';
import { referenceMarkdown } from './bench-reference.ts';
import { CLI_HEADING, cliTable, committedRatios, measureCli, regressions, type CliRow } from './bench-cli.ts';
import { readFile } from 'node:fs/promises';

const run = promisify(execFile);
const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const TSX = path.join(REPO_ROOT, 'node_modules/.bin/tsx');
const REPETITIONS = Number(process.env.BENCH_REPETITIONS ?? 3);

interface Sample {
  readonly elapsedMs: number;
  readonly maxRssKiB: number;
}

async function measure(script: string, args: readonly string[]): Promise<Sample> {
  const { stdout } = await run(TSX, [path.join(REPO_ROOT, 'scripts', script), ...args], { cwd: REPO_ROOT, maxBuffer: 64 * 1024 * 1024 });
  const last = stdout.trim().split('\n').pop()!;
  return JSON.parse(last) as Sample;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/** Runs the given measurements REPETITIONS times, interleaved, and returns the median of each. */
async function interleaved(tasks: Record<string, () => Promise<Sample>>): Promise<Record<string, Sample>> {
  const samples: Record<string, Sample[]> = Object.fromEntries(Object.keys(tasks).map((name) => [name, []]));
  for (let round = 0; round < REPETITIONS; round += 1) {
    for (const [name, task] of Object.entries(tasks)) samples[name].push(await task());
  }
  return Object.fromEntries(
    Object.entries(samples).map(([name, list]) => [name, { elapsedMs: median(list.map((sample) => sample.elapsedMs)), maxRssKiB: median(list.map((sample) => sample.maxRssKiB)) }]),
  );
}

const seconds = (sample: Sample) => (sample.elapsedMs / 1000).toFixed(2);
const mebibytes = (sample: Sample) => Math.round(sample.maxRssKiB / 1024).toString();

const REFERENCE_HEADING = '## The serving model against published measurements';
const LOOP_HEADING = '## The closed loop: bot vs oracle and baselines';
export const CAPACITY_HEADING = '## Node pools as provisioned (example fleet)';

/** The node pools section: computed from the declarations and the price catalogues, not measured (`--capacity-only` rewrites just this section). */
async function capacitySection(): Promise<string> {
  const root = await copyFixtureFleet();
  try {
    const loaded = await loadFleet(root);
    if (!loaded.ok) throw new Error('the example fleet is invalid');
    return `${CAPACITY_HEADING}

What the Terraform output provisions for each node pool of the example fleet, as \`llmops ls\` prints it: whole-pool node
counts (on GKE the output sets \`total_min/max_node_count\` across the pool's \`node_locations\`, so the range is not per zone)
and their monthly cost from the dated price catalogues (730 h a month, spot pools at spot prices). Each shape's maximum
holds every deployment's maximum replicas plus one canary surge replica (\`src/fleet/capacity.ts\`).

${nodePoolsMarkdown(loaded.fleet)}
`;
  } finally {
    await removeFleet(root);
  }
}

/** Replaces one section (from its heading to the next \`## \`) of BENCHMARKS.md, or adds it before `before` (else at the end). */
async function replaceSection(heading: string, section: string, before?: string): Promise<void> {
  const file = path.join(REPO_ROOT, 'BENCHMARKS.md');
  const current = await readFile(file, 'utf8');
  const at = current.indexOf(heading);
  if (at < 0) {
    const insertAt = before === undefined ? -1 : current.indexOf(before);
    await writeFile(file, insertAt < 0 ? `${current.trimEnd()}\n\n${section}` : `${current.slice(0, insertAt)}${section.trimEnd()}\n\n${current.slice(insertAt)}`);
    console.log(section);
    return;
  }
  const next = current.indexOf('\n## ', at + heading.length);
  await writeFile(file, `${current.slice(0, at)}${section.trimEnd()}\n${next < 0 ? '' : current.slice(next)}`);
  console.log(section);
}

/** The profile notes (written by hand from --cpu-prof runs, see the section): kept as they are by every run. */
const PROFILE_HEADING = "## Where the CLI's time goes (issue 17)";

/** A section of the committed BENCHMARKS.md as it stands (from its heading to the next `## `), or nothing. */
async function committedSection(heading: string): Promise<string> {
  const current = await readFile(path.join(REPO_ROOT, 'BENCHMARKS.md'), 'utf8').catch(() => '');
  const at = current.indexOf(heading);
  if (at < 0) return '';
  const next = current.indexOf('\n## ', at + heading.length);
  return `${current.slice(at, next < 0 ? undefined : next).trimEnd()}\n`;
}

/**
 * The CLI section; exits non-zero, leaving BENCHMARKS.md as it is, when a ratio
 * regressed by more than the tolerance against the committed one (unless
 * `--accept-regression`).
 */
async function cliSection(): Promise<string> {
  const committed = committedRatios(await readFile(path.join(REPO_ROOT, 'BENCHMARKS.md'), 'utf8').catch(() => ''));
  const rows: CliRow[] = await measureCli(REPO_ROOT);
  const regressed = regressions(rows, committed);
  const section = `${CLI_HEADING}

\`npm run bench\` (or \`npm run bench -- --cli-only\`): the real \`node bin/llmops.js\` (the precompiled build) as whole processes, from spawn to
exit, each beside its baseline in the same rounds, after one warm-up round: median of 5 rounds for start-up, validate and the no-op
synth (the example fleet: the frozen test fleet, 8 deployments; the no-op runs answer from a synth cache recorded by one synth before),
of 3 for 100 × 3, one run for 1,000 × 3 (\`LLMOPS_CACHE=off\`: everything synthesized). Peak MiB: GNU time's maximum resident set of the
process, its worker threads included (the declarations' sandbox is a process of its own, limited to 512 MiB). Ratio: ours ÷ baseline.
\`npm run bench\` fails when a ratio grows by more than 25 % over the one committed here, and then keeps these figures.

${cliTable(rows)}
`;
  if (regressed.length > 0) {
    console.error(section);
    console.error(`Benchmarks regressed against BENCHMARKS.md:\n${regressed.map((line) => `  ${line}`).join('\n')}`);
    if (!process.argv.includes('--accept-regression')) {
      console.error('BENCHMARKS.md was not changed; find the cause, or pass --accept-regression to record these figures.');
      process.exit(1);
    }
  }
  return section;
}

function referenceSection(): string {
  return `${REFERENCE_HEADING}

\`src/performance/serving-model.ts\` predicts each setup below (GPU, model, the run's vLLM flags, request lengths, concurrency) from
the GPU catalogue's datasheet figures and its fitted efficiencies; the sources are in \`src/performance/reference-points.json\`.

${referenceMarkdown()}`;
}

/** The closed-loop section (its own command line: `npm run bench -- --loop-only` rewrites just this section). */
async function loopSection(): Promise<string> {
  const started = Date.now();
  const results = await loopBenchmark();
  return `${LOOP_HEADING}

\`npm run bench\` (or \`npm run bench -- --loop-only\`, ${((Date.now() - started) / 1000).toFixed(0)} s here): per scenario, the closed loop of \`npm run demo\` (simulator → the real
Prometheus → \`llmops optimize --once\` → the GitHub stand-in merges → synth → the simulator reloads generated/; a draft labelled
\`needs-decision\` is left to a person, never merged, and where a scenario says so cost proposals wait for review), one bot run per
60 simulated minutes, on the frozen test fleet with the starting point given. The simulator's truth is a benchmark-shaped sweep per
model × GPU (the serving model's by default; reshaped where the world column says so), with Poisson arrivals and clients that give up
after 600 s. Every strategy is accounted on the same spans from the simulator's ground truth: the whole run (total USD; SLO-violation
minutes, the minutes whose trailing 5-minute p95s or error ratio — server errors and time-outs — break the environment's SLOs) and the
converged span (the last cycle; the last period for diurnal traffic, the last two cycles after a step). No canaries are simulated (a
merged change takes all traffic at once), so every minute counts. The oracle is the cheapest single configuration of the policy's
search space on the environment's node pools — GPU, count, quantization, max-num-seqs, max-num-batched-tokens and replica bounds
(KEDA scales between them) — with no violation minute over the whole run, found by exhaustive simulation with the true parameters;
static peak keeps the declared hardware at the fewest fixed replicas with no violation minute; the queue autoscaler is KEDA on waiting
requests alone, 1–8 replicas of the declared hardware; no bot keeps the declared starting point. The oracle and the baselines are
priced as after a scenario's price change. Targets (issue 11): converged cost ≤ static peak's and ≤ 1.05x the oracle's; no violation
minute after the bot's first cycle where static peak has none; at most 3 pull requests to converge, at most 1 revert.

${loopMarkdown(results)}`;
}

async function main(): Promise<void> {
  if (process.argv.includes('--reference-only')) return replaceSection(REFERENCE_HEADING, referenceSection());
  if (process.argv.includes('--loop-only')) return replaceSection(LOOP_HEADING, await loopSection());
  if (process.argv.includes('--capacity-only')) return replaceSection(CAPACITY_HEADING, await capacitySection(), LOOP_HEADING);
  if (process.argv.includes('--cli-only')) return replaceSection(CLI_HEADING, await cliSection(), (await committedSection(PROFILE_HEADING)) ? PROFILE_HEADING : '## llmops validate and llmops synth');
  const cli = await cliSection();
  const profile = await committedSection(PROFILE_HEADING);
  const example = await copyFixtureFleet();
  const large = await writeLargeFleet(REPO_ROOT, 100);
  try {
    const fleets = { 'example (8 deployments)': example, '100 models x 3 environments (300 deployments)': large };
    const commandRows: string[] = [];
    const kubernetesRows: string[] = [];
    const terraformRows: string[] = [];
    for (const [label, root] of Object.entries(fleets)) {
      const baselineModels = root === example ? '3' : '100';
      console.error(`measuring ${label} ...`);
      const result = await interleaved({
        validate: () => measure('bench-child.ts', ['validate', root]),
        synth: () => measure('bench-child.ts', ['synth', root]),
        kubernetes: () => measure('bench-child.ts', ['kubernetes', root]),
        baseline: () => measure('baseline-plain-cdk8s.ts', [baselineModels]),
        terraform: () => measure('bench-child.ts', ['terraform', root]),
      });
      commandRows.push(`| ${label} | ${seconds(result.validate)} | ${mebibytes(result.validate)} | ${seconds(result.synth)} | ${mebibytes(result.synth)} |`);
      kubernetesRows.push(
        `| ${label} | ${seconds(result.kubernetes)} | ${mebibytes(result.kubernetes)} | ${seconds(result.baseline)} (${baselineModels} x 3) | ${mebibytes(result.baseline)} | ${(result.kubernetes.elapsedMs / result.baseline.elapsedMs).toFixed(2)} |`,
      );
      terraformRows.push(`| ${label} | ${seconds(result.terraform)} | ${mebibytes(result.terraform)} |`);
    }

    console.error('measuring plan over ~1,000 deployments ...');
    const plan = await planFixture(REPO_ROOT, 334);
    let planResult: Record<string, Sample>;
    try {
      planResult = await interleaved({ plan: () => measure('bench-child.ts', ['plan', plan.root, plan.prometheus.url, String(plan.at)]) });
    } finally {
      await plan.prometheus.stop();
      await removeFleet(plan.root);
    }

    const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
    const report = `# Benchmarks

Measured by \`npm run bench\` (scripts/bench.ts) on ${new Date().toISOString().slice(0, 10)}: ${os.cpus().length} × ${cpu}, ${Math.round(os.totalmem() / 2 ** 30)} GiB RAM, Node.js ${process.version}, ${os.platform()} ${os.release()}.
Each figure is the median of ${REPETITIONS} runs, each in a fresh process (wall time from process start, so loading TypeScript and the libraries counts); the
tasks of one fleet run interleaved, so a ratio compares runs made side by side. Peak memory is the process's maximum resident set size.
These are shared 2-core machines: compare ratios, not absolute seconds across runs.

${cli}
${profile}
## llmops validate and llmops synth (whole pipeline, writes generated/)

| fleet | validate s | validate peak MiB | synth s | synth peak MiB |
|---|---:|---:|---:|---:|
${commandRows.join('\n')}

## Kubernetes synth against plain cdk8s

\`kubernetes\` loads and validates the declarations and runs the Kubernetes step (cdk8s-plus pod templates, all objects of every deployment and
environment). The baseline (scripts/baseline-plain-cdk8s.ts) writes the per-deployment objects of the same number of model x environment pairs
with plain cdk8s ApiObjects and literal JSON: no declarations, validation, catalogue or cdk8s-plus. For the example fleet the baseline builds
3 x 3 = 9 deployments against our 8, so that row slightly favours the baseline. Ratio = ours ÷ baseline (lower is better, 1.00 = as fast).

| fleet | ours s | ours peak MiB | plain cdk8s s | plain cdk8s peak MiB | ratio |
|---|---:|---:|---:|---:|---:|
${kubernetesRows.join('\n')}

## Terraform synth

Loads the declarations and synthesizes one cdktf stack per environment (provider submodules imported one by one).

| fleet | s | peak MiB |
|---|---:|---:|
${terraformRows.join('\n')}

## llmops plan (observe → orient → decide) over ${plan.deployments} deployments

One Prometheus (the Debian server, on loopback) backfilled with 20 simulated minutes of every deployment (${plan.samples.toLocaleString('en-US')} samples
at 60 s steps, one replica each); \`llmops plan --window 20m --recent 5m --json\` in a fresh process: load and validate the declarations,
fleet-wide PromQL (one query per signal for all deployments), then orient and a full candidate search per deployment. The LLM Auto-Optimizer
design targets a cycle under 5 minutes for 1,000+ services and under 512 MB idle.

| deployments | s | peak MiB |
|---:|---:|---:|
| ${plan.deployments} | ${seconds(planResult.plan)} | ${mebibytes(planResult.plan)} |

${await capacitySection()}

${referenceSection()}
${await loopSection()}`;
    await writeFile(path.join(REPO_ROOT, 'BENCHMARKS.md'), report);
    console.log(report);
  } finally {
    await removeFleet(example);
    await removeFleet(large);
  }
}

await main();
