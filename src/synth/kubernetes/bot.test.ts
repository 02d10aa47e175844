import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import type { Bot } from '../../declarations/bot.ts';
import type { Fleet } from '../../fleet/fleet.ts';
import { loadFleet } from '../../fleet/load.ts';
import { copyFixtureFleet, editFile, preparedFixture, removeFleet, runCli } from '../../testing/fixture-fleet.ts';
import { withEnvironment } from '../../testing/fleet-variants.ts';
import { strictSchemaProblems, upstreamSchemaProblem } from '../../testing/upstream-schemas.ts';
import { synthesize } from '../steps.ts';
import { GIT_CREDENTIAL_HELPER, gitConfig } from './bot.ts';

const run = promisify(execFile);
type Document = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string }; spec: any; data?: Record<string, string> };

const IMAGE = { repository: 'ghcr.io/acme/llmops-gitops', tag: 'v1.4.0' };
const APP = { clientId: 'Iv23liAbCdEf123456' };
const SERVICE: Bot = { mode: 'service', image: IMAGE, intervalMinutes: 15, githubApp: APP, secretName: 'llmops-bot' };
const SCHEDULE: Bot = { mode: 'schedule', image: { ...IMAGE, digest: `sha256:${'a'.repeat(64)}` }, intervalMinutes: 30, githubApp: APP, secretName: 'llmops-bot' };

let fleet: Fleet;
let tree: Map<string, string>;
beforeAll(async () => {
  const loaded = await loadFleet(await preparedFixture());
  if (!loaded.ok) throw new Error('the fixture fleet is invalid');
  fleet = loaded.fleet;
  const withBots = withEnvironment(
    withEnvironment(fleet, 'production', (environment) => ({ ...environment, bot: SERVICE })),
    'staging',
    (environment) => ({ ...environment, bot: SCHEDULE }),
  );
  tree = synthesize(withBots);
});

const documents = (file: string): Document[] => parseAllDocuments(tree.get(file)!).map((document) => document.toJS() as Document);
const find = (file: string, kind: string) => documents(file).find((document) => document.kind === kind)!;

describe('the bot in the cluster', () => {
  it('validates strictly against the upstream schemas: no unknown field in any object, both modes', () => {
    const labelled = ['production/kubernetes/llmops-bot.yaml', 'staging/kubernetes/llmops-bot.yaml'].flatMap((file) =>
      documents(file).map((document) => ({ label: `${file}: ${document.kind}`, document })),
    );

    expect(labelled.map(({ label }) => label)).toEqual([
      'production/kubernetes/llmops-bot.yaml: ServiceAccount',
      'production/kubernetes/llmops-bot.yaml: ConfigMap',
      'production/kubernetes/llmops-bot.yaml: NetworkPolicy',
      'production/kubernetes/llmops-bot.yaml: Deployment',
      'production/kubernetes/llmops-bot.yaml: Service',
      'production/kubernetes/llmops-bot.yaml: ServiceMonitor',
      'staging/kubernetes/llmops-bot.yaml: ServiceAccount',
      'staging/kubernetes/llmops-bot.yaml: ConfigMap',
      'staging/kubernetes/llmops-bot.yaml: NetworkPolicy',
      'staging/kubernetes/llmops-bot.yaml: CronJob',
    ]);
    expect(labelled.map(({ label, document }) => upstreamSchemaProblem(document) ?? `${label}: ok`)).toEqual(labelled.map(({ label }) => `${label}: ok`));
    expect(strictSchemaProblems(labelled)).toEqual([]);
    expect(tree.get('production/helm/templates/llmops-bot.yaml')).toBe(tree.get('production/kubernetes/llmops-bot.yaml'));
  });

  it('the strict check rejects an unknown field in the CronJob (it can fail)', () => {
    const cronJob = structuredClone(find('staging/kubernetes/llmops-bot.yaml', 'CronJob'));
    cronJob.spec.jobTemplate.spec.template.spec.containers[0].imagePullPolcy = 'Always';

    expect(strictSchemaProblems([{ label: 'cronjob', document: cronJob }])).toEqual([expect.stringMatching(/^cronjob: .*'"imagePullPolcy"' does not exist/)]);
  });

  it('as a service: one pod at a time running --serve against the in-cluster Prometheus, probed, scraped, with the App key from its Secret', () => {
    const deployment = find('production/kubernetes/llmops-bot.yaml', 'Deployment');
    const pod = deployment.spec.template.spec;
    const [container] = pod.containers;

    expect(deployment.metadata.namespace).toBe('llm-prod');
    expect(deployment.spec).toMatchObject({ replicas: 1, strategy: { type: 'Recreate' } });
    expect(container.image).toBe('ghcr.io/acme/llmops-gitops:v1.4.0');
    expect(container.command).toEqual(['node', '/app/bin/llmops.js']);
    // No --host: in a pod the bot listens on all interfaces by default.
    expect(container.args).toEqual([
      'optimize',
      '--serve',
      '--interval',
      '15',
      '--port',
      '9464',
      '--prometheus',
      'http://prometheus-operated.monitoring.svc:9090',
      '--root',
      '/work/repository',
      '--clone',
      'https://github.com/acme/llmops-gitops.git',
    ]);
    expect(container.env).toEqual([
      { name: 'HOME', value: '/home/llmops' },
      { name: 'LLMOPS_GITHUB_APP_CLIENT_ID', value: 'Iv23liAbCdEf123456' },
      { name: 'LLMOPS_GITHUB_APP_PRIVATE_KEY_FILE', value: '/var/run/secrets/llmops/github-app/private-key' },
      { name: 'LLMOPS_BOT_SECRET', valueFrom: { secretKeyRef: { name: 'llmops-bot', key: 'signing-key' } } },
    ]);
    expect(container.readinessProbe.httpGet).toEqual({ path: '/healthz', port: 'metrics' });
    expect(container.livenessProbe.tcpSocket).toEqual({ port: 'metrics' });
    expect(pod.volumes).toContainEqual({ name: 'github-app', secret: { secretName: 'llmops-bot', items: [{ key: 'github-app-private-key', path: 'private-key' }], defaultMode: 0o400 } });
    expect(pod.serviceAccountName).toBe('llmops-bot');
    expect(find('production/kubernetes/llmops-bot.yaml', 'ServiceAccount')).toMatchObject({ automountServiceAccountToken: false });
    expect(find('production/kubernetes/llmops-bot.yaml', 'ServiceMonitor').spec.endpoints).toEqual([{ port: 'metrics', path: '/metrics', interval: '60s', scrapeTimeout: '10s' }]);
    expect(find('production/kubernetes/llmops-bot.yaml', 'ServiceMonitor').metadata).toMatchObject({ labels: { release: 'kube-prometheus-stack' } });
  });

  it('as a schedule: a CronJob running --once, never two at once, the image pinned by digest', () => {
    const cronJob = find('staging/kubernetes/llmops-bot.yaml', 'CronJob');
    const pod = cronJob.spec.jobTemplate.spec.template.spec;

    expect(cronJob.spec).toMatchObject({ schedule: '*/30 * * * *', concurrencyPolicy: 'Forbid' });
    expect(pod.restartPolicy).toBe('Never');
    expect(pod.containers[0].image).toBe(`ghcr.io/acme/llmops-gitops:v1.4.0@sha256:${'a'.repeat(64)}`);
    expect(pod.containers[0].args.slice(0, 2)).toEqual(['optimize', '--once']);
    expect(pod.containers[0].ports).toBeUndefined();
    expect(documents('staging/kubernetes/llmops-bot.yaml').map((document) => document.kind)).not.toContain('ServiceMonitor');
  });

  it("meets Pod Security 'restricted', which Argo CD labels the namespace with", () => {
    for (const pod of [find('production/kubernetes/llmops-bot.yaml', 'Deployment').spec.template.spec, find('staging/kubernetes/llmops-bot.yaml', 'CronJob').spec.jobTemplate.spec.template.spec]) {
      expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
      expect(pod.containers[0].securityContext).toEqual({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
      expect(pod.volumes.every((volume: Record<string, unknown>) => ['emptyDir', 'configMap', 'secret'].some((type) => type in volume))).toBe(true);
    }
  });

  it('lets Prometheus in to the metrics, and the bot out to DNS, Prometheus and public HTTPS (GitHub) only', () => {
    const service = find('production/kubernetes/llmops-bot.yaml', 'NetworkPolicy').spec;
    const schedule = find('staging/kubernetes/llmops-bot.yaml', 'NetworkPolicy').spec;
    const prometheus = { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } }, podSelector: { matchLabels: { 'app.kubernetes.io/name': 'prometheus' } } };

    expect(service.ingress).toEqual([{ from: [prometheus], ports: [{ port: 9464, protocol: 'TCP' }] }]);
    expect(schedule.ingress).toEqual([]);
    expect(service.egress.map((rule: { ports: { port: number; protocol: string }[] }) => rule.ports.map((port) => `${port.protocol}/${port.port}`).join(','))).toEqual([
      'UDP/53,TCP/53',
      'TCP/9090',
      'TCP/443',
    ]);
    expect(service.egress[1].to).toEqual([prometheus]);
    expect(service.egress[2].to).toEqual([{ ipBlock: { cidr: '0.0.0.0/0', except: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'] } }]);
  });

  it("configures git to authenticate with the token in the bot's environment, and with nothing on disk", async () => {
    const home = await mkdtemp(path.join(tmpdir(), 'llmops-bot-home-'));
    try {
      const configMap = find('production/kubernetes/llmops-bot.yaml', 'ConfigMap');
      await writeFile(path.join(home, '.gitconfig'), configMap.data!.gitconfig!);

      const child = run('git', ['credential', 'fill'], { env: { PATH: process.env.PATH, HOME: home, GITHUB_TOKEN: 'ghs_minted-this-cycle' } });
      child.child.stdin!.end('protocol=https\nhost=github.com\n\n');

      expect((await child).stdout).toBe('protocol=https\nhost=github.com\nusername=x-access-token\npassword=ghs_minted-this-cycle\n');
      expect(configMap.data!.gitconfig).toBe(gitConfig());
      expect(gitConfig()).toContain(GIT_CREDENTIAL_HELPER.replaceAll('"', '\\"'));
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  });

  it("is every kind the environment's Argo CD project lets its Application create", () => {
    const project = parseAllDocuments(tree.get('argocd/apps/project.yaml')!)
      .map((document) => document.toJS())
      .find((document) => document.metadata.name === 'llmops')!;
    const allowed = project.spec.namespaceResourceWhitelist.map((entry: { group: string; kind: string }) => `${entry.group}/${entry.kind}`);

    const kinds = ['production/kubernetes/llmops-bot.yaml', 'staging/kubernetes/llmops-bot.yaml'].flatMap((file) =>
      documents(file).map((document) => `${document.apiVersion.includes('/') ? document.apiVersion.split('/')[0] : ''}/${document.kind}`),
    );

    expect(kinds.filter((kind) => !allowed.includes(kind))).toEqual([]);
  });

  it('is generated only where an environment declares it', () => {
    const plain = synthesize(fleet);

    expect([...plain.keys()].filter((file) => file.includes('llmops-bot'))).toEqual([]);
  });
});

describe('the bot declaration', () => {
  it('reports every mistake with file, field, what was expected and the value', async () => {
    const root = await copyFixtureFleet();
    try {
      await editFile(
        root,
        'environments/production.ts',
        '  budget: { monthlyUsd: 60000 },',
        "  bot: { mode: 'daemon', image: { repository: 'ghcr.io/acme/llmops-gitops', tag: 'latest' }, githubApp: { clientId: 'Iv23li' }, secretName: 'App Key', intervalMinutes: 90 },\n  budget: { monthlyUsd: 60000 },",
      );

      const result = await runCli(['validate', '--root', root]);

      expect(result.exitCode).toBe(1);
      expect(result.stderr.split('\n').filter((line) => line.includes('.bot.') || line.includes(' bot.'))).toEqual([
        expect.stringMatching(/^environments\/production\.ts: bot\.mode: .*"service".*"schedule".*\(got "daemon"\)$/),
        expect.stringMatching(/^environments\/production\.ts: bot\.image\.tag: expected a pinned tag, not "latest" \(got "latest"\)$/),
        expect.stringMatching(/^environments\/production\.ts: bot\.intervalMinutes: .*60.*\(got 90\)$/),
        expect.stringMatching(/^environments\/production\.ts: bot\.secretName: expected a DNS-1123 label.*\(got "App Key"\)$/),
      ]);
    } finally {
      await removeFleet(root);
    }
  });
});
