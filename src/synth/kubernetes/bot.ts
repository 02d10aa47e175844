/**
 * The bot in the environment's cluster (`bot` in the environment declaration):
 * `generated/<env>/kubernetes/llmops-bot.yaml`. A Deployment running
 * `llmops optimize --serve` (with a Service and a ServiceMonitor for its
 * self-metrics) or a CronJob running `--once`; its ServiceAccount, without
 * Kubernetes API access; a NetworkPolicy admitting Prometheus to its metrics
 * and letting it out to Prometheus, DNS and GitHub only; the git credential
 * helper it pushes with. The GitHub App's key comes from a Secret created out
 * of band; the bot mints a one-hour installation token from it every cycle.
 */
import { ApiObject, Chart } from 'cdk8s';
import type { Construct } from 'constructs';
import type { Bot } from '../../declarations/bot.ts';
import type { Environment } from '../../declarations/environment.ts';
import { MANAGED_BY, syncWave, SyncWave } from './labels.ts';
import { dnsEgress, peer, prometheusPeer, publicHttpsEgress, tcp } from './network-policy.ts';
import { kplus } from './plus.ts';

/** Name of every object of the bot, and its file under generated/<env>/kubernetes/. */
import { BOT_GIT_CONFIG_NAME, BOT_NAME } from '../../fleet/naming.ts';
/** Port of /metrics and /healthz (`llmops optimize --port`'s default). */
export const BOT_METRICS_PORT = 9464;
/** Where the image holds this repository (with `npm ci --omit=dev` run): the bot runs `node /app/bin/llmops.js`. */
export const BOT_APP_DIR = '/app';
/** Mount path of the App's private key, and the variable naming it for the bot. */
export const BOT_PRIVATE_KEY_FILE = '/var/run/secrets/llmops/github-app/private-key';
/** Keys of the bot's Secret (created out of band: `bot.secretName`). */
export const BOT_SECRET_KEYS = { privateKey: 'github-app-private-key', signingKey: 'signing-key' } as const;

/**
 * The git credential helper the bot fetches and pushes with, on GitHub Actions
 * and in the cluster alike: it answers git with the installation token in the
 * bot's environment (`GITHUB_TOKEN`, which the bot renews every cycle), so the
 * token is never written to disk. `.github/workflows/optimize.yml` installs the
 * same helper (a test keeps the two equal and runs it through git).
 */
export const GIT_CREDENTIAL_HELPER = '!f() { test "$1" = get && echo username=x-access-token && echo "password=$GITHUB_TOKEN"; }; f';

const HOME = '/home/llmops';
const WORK = '/work';
/** A non-root user of no image in particular: the pod needs no passwd entry (HOME is set, git needs nothing else). */
const BOT_UID = 10001;

/** A git config file setting the credential helper for github.com. */
export function gitConfig(): string {
  const quoted = `"${GIT_CREDENTIAL_HELPER.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;
  return `[credential "https://github.com"]\n\thelper = ${quoted}\n`;
}

/** The image reference: tag, and digest when declared. */
const imageOf = (bot: Bot) => `${bot.image.repository}:${bot.image.tag}${bot.image.digest ? `@${bot.image.digest}` : ''}`;

/** Prometheus's port, from the environment's Prometheus URL (9090 when it names none, like kube-prometheus-stack). */
function prometheusPort(environment: Environment): number {
  const url = new URL(environment.monitoring.prometheusUrl);
  return url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
}

/** Props of a BotChart. */
export interface BotChartProps {
  readonly environment: Environment;
  readonly bot: Bot;
  /** Git URL of the fleet repository: the bot clones it into its empty work volume at start. */
  readonly repositoryUrl: string;
}

/** Everything the bot needs in the environment's namespace. */
export class BotChart extends Chart {
  constructor(scope: Construct, id: string, props: BotChartProps) {
    const { environment, bot } = props;
    super(scope, id, { namespace: environment.namespace, disableResourceNameHashes: true });
    const service = bot.mode === 'service';
    const selector = { 'app.kubernetes.io/name': BOT_NAME, 'app.kubernetes.io/instance': BOT_NAME };
    const labels = { ...selector, 'app.kubernetes.io/component': 'bot', ...MANAGED_BY, 'llmops.dev/environment': environment.name };
    const metadata = (wave: number, extraLabels: Record<string, string> = {}) => ({ name: BOT_NAME, labels: { ...labels, ...extraLabels }, annotations: syncWave(wave) });

    new kplus.k8s.KubeServiceAccount(this, 'service-account', { metadata: metadata(SyncWave.configuration), automountServiceAccountToken: false });
    new kplus.k8s.KubeConfigMap(this, 'git-config', { metadata: { ...metadata(SyncWave.configuration), name: BOT_GIT_CONFIG_NAME }, data: { gitconfig: gitConfig() } });
    new kplus.k8s.KubeNetworkPolicy(this, 'network-policy', {
      metadata: metadata(SyncWave.configuration),
      spec: {
        podSelector: { matchLabels: selector },
        policyTypes: ['Ingress', 'Egress'],
        ingress: service ? [{ from: [peer(prometheusPeer(environment))], ports: tcp(BOT_METRICS_PORT) }] : [],
        egress: [dnsEgress(environment), { to: [peer(prometheusPeer(environment))], ports: tcp(prometheusPort(environment)) }, publicHttpsEgress()],
      },
    });

    const pod = this.podSpec(props, service);
    if (service) {
      new kplus.k8s.KubeDeployment(this, 'deployment', {
        metadata: metadata(SyncWave.workload),
        spec: {
          replicas: 1,
          // Never two bots at once: the old pod stops before the new one starts.
          strategy: { type: 'Recreate' },
          selector: { matchLabels: selector },
          template: { metadata: { labels }, spec: pod },
        },
      });
      new kplus.k8s.KubeService(this, 'service', {
        metadata: metadata(SyncWave.routing),
        spec: { selector, ports: [{ name: 'metrics', port: BOT_METRICS_PORT, targetPort: kplus.k8s.IntOrString.fromString('metrics'), protocol: 'TCP' }] },
      });
      new ApiObject(this, 'service-monitor', {
        apiVersion: 'monitoring.coreos.com/v1',
        kind: 'ServiceMonitor',
        metadata: metadata(SyncWave.routing, environment.monitoring.selectorLabels),
        spec: { selector: { matchLabels: selector }, endpoints: [{ port: 'metrics', path: '/metrics', interval: '60s', scrapeTimeout: '10s' }] },
      });
    } else {
      new kplus.k8s.KubeCronJob(this, 'cron-job', {
        metadata: metadata(SyncWave.workload),
        spec: {
          schedule: bot.intervalMinutes === 60 ? '0 * * * *' : `*/${bot.intervalMinutes} * * * *`,
          // Like the workflow's concurrency group: a run never starts while another is pushing.
          concurrencyPolicy: 'Forbid',
          successfulJobsHistoryLimit: 3,
          failedJobsHistoryLimit: 3,
          jobTemplate: {
            spec: {
              // The next scheduled run is the retry.
              backoffLimit: 0,
              // As the workflow's timeout: a stuck run ends within the installation token's hour.
              activeDeadlineSeconds: 20 * 60,
              template: { metadata: { labels }, spec: { ...pod, restartPolicy: 'Never' } },
            },
          },
        },
      });
    }
  }

  private podSpec({ environment, bot, repositoryUrl }: BotChartProps, service: boolean): kplus.k8s.PodSpec {
    const metricsPort = kplus.k8s.IntOrString.fromString('metrics');
    const mode = service ? ['--serve', '--interval', String(bot.intervalMinutes), '--port', String(BOT_METRICS_PORT)] : ['--once'];
    return {
      serviceAccountName: BOT_NAME,
      automountServiceAccountToken: false,
      securityContext: { runAsNonRoot: true, runAsUser: BOT_UID, runAsGroup: BOT_UID, fsGroup: BOT_UID, seccompProfile: { type: 'RuntimeDefault' } },
      containers: [
        {
          name: 'bot',
          image: imageOf(bot),
          imagePullPolicy: 'IfNotPresent',
          command: ['node', `${BOT_APP_DIR}/bin/llmops.js`],
          args: ['optimize', ...mode, '--prometheus', environment.monitoring.prometheusUrl, '--root', `${WORK}/repository`, '--clone', repositoryUrl],
          env: [
            { name: 'HOME', value: HOME },
            { name: 'LLMOPS_GITHUB_APP_CLIENT_ID', value: bot.githubApp.clientId },
            { name: 'LLMOPS_GITHUB_APP_PRIVATE_KEY_FILE', value: BOT_PRIVATE_KEY_FILE },
            // The key of the bot's fingerprints and commit signatures.
            { name: 'LLMOPS_BOT_SECRET', valueFrom: { secretKeyRef: { name: bot.secretName, key: BOT_SECRET_KEYS.signingKey } } },
          ],
          ...(service
            ? {
                ports: [{ name: 'metrics', containerPort: BOT_METRICS_PORT, protocol: 'TCP' }],
                // /healthz turns 503 after a failed cycle (Prometheus or GitHub down): out of the Service, not restarted.
                readinessProbe: { httpGet: { path: '/healthz', port: metricsPort }, periodSeconds: 30, timeoutSeconds: 5 },
                livenessProbe: { tcpSocket: { port: metricsPort }, periodSeconds: 30, timeoutSeconds: 5, failureThreshold: 3 },
              }
            : {}),
          // A cycle loads the fleet, plans and synthesizes: BENCHMARKS.md measures synth at 257–310 MiB peak.
          resources: {
            requests: { cpu: kplus.k8s.Quantity.fromString('250m'), memory: kplus.k8s.Quantity.fromString('512Mi') },
            limits: { memory: kplus.k8s.Quantity.fromString('1Gi') },
          },
          securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
          volumeMounts: [
            { name: 'work', mountPath: WORK },
            { name: 'home', mountPath: HOME },
            { name: 'tmp', mountPath: '/tmp' },
            { name: 'gitconfig', mountPath: `${HOME}/.gitconfig`, subPath: 'gitconfig', readOnly: true },
            { name: 'github-app', mountPath: BOT_PRIVATE_KEY_FILE.slice(0, BOT_PRIVATE_KEY_FILE.lastIndexOf('/')), readOnly: true },
          ],
        },
      ],
      volumes: [
        { name: 'work', emptyDir: {} },
        { name: 'home', emptyDir: {} },
        { name: 'tmp', emptyDir: {} },
        { name: 'gitconfig', configMap: { name: BOT_GIT_CONFIG_NAME } },
        { name: 'github-app', secret: { secretName: bot.secretName, items: [{ key: BOT_SECRET_KEYS.privateKey, path: 'private-key' }], defaultMode: 0o400 } },
      ],
    };
  }
}
