import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { CLOUD_TRAITS, CLOUDS } from '../../catalogue/clouds.ts';
import { GPU_CATALOGUE, GPU_NODE_TAINT, GPU_TYPES } from '../../catalogue/gpus.ts';
import type { Fleet } from '../../fleet/fleet.ts';
import { loadFleet } from '../../fleet/load.ts';
import { copyFixtureFleet, editFile, preparedFixture, removeFleet, runCli } from '../../testing/fixture-fleet.ts';
import { upstreamSchemaProblem } from '../../testing/upstream-schemas.ts';
import { synthesize } from '../steps.ts';
import { readTree } from '../write.ts';
import { environmentTerraform } from '../terraform/terraform-synthesizer.ts';
import { escapeForHelm } from '../helm/helm-synthesizer.ts';

type Document = { apiVersion: string; kind: string; metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> }; spec: any; [key: string]: any };

let fleet: Fleet;
let tree: Map<string, string>;

beforeAll(async () => {
  const result = await loadFleet(await preparedFixture());
  if (!result.ok) throw new Error('the example fleet is invalid');
  fleet = result.fleet;
  tree = synthesize(fleet);
});

function documents(file: string): Document[] {
  const text = tree.get(file);
  if (text === undefined) throw new Error(`${file} was not generated`);
  return parseAllDocuments(text).map((document) => document.toJS() as Document);
}

const find = (file: string, kind: string): Document => {
  const found = documents(file).find((document) => document.kind === kind);
  if (!found) throw new Error(`${file} has no ${kind}`);
  return found;
};

/** Undoes Helm's rendering of `{{ "{{" }}`, as `helm template` would. */
const renderHelmLiterals = (text: string) => text.replaceAll('{{ "{{" }}', '{{');

describe('every generated manifest', () => {
  it('validates against its upstream schema (core, Argo Rollouts, Argo CD, Prometheus Operator, KEDA, Gateway API)', () => {
    const manifests = [...tree.keys()].filter((file) => file.endsWith('.yaml') && (file.includes('/kubernetes/') || file.startsWith('argocd/')));
    const problems: string[] = [];
    const kinds = new Set<string>();

    for (const file of manifests) {
      for (const document of documents(file)) {
        kinds.add(document.kind);
        const problem = upstreamSchemaProblem(document);
        if (problem) problems.push(`${file}: ${document.kind}/${document.metadata?.name}: ${problem}`);
      }
    }

    expect(problems).toEqual([]);
    expect([...kinds].sort()).toEqual([
      'AnalysisTemplate', 'AppProject', 'Application', 'ConfigMap', 'Deployment', 'HTTPRoute', 'Namespace', 'NetworkPolicy',
      'PodDisruptionBudget', 'PrometheusRule', 'Rollout', 'ScaledObject', 'Service', 'ServiceAccount', 'ServiceMonitor',
    ]);
  });

  it('the schema check rejects a broken document (it can fail)', () => {
    const rollout = structuredClone(find('production/kubernetes/llama-3-1-8b-instruct.yaml', 'Rollout'));
    rollout.spec.strategy.canary.steps[0] = { setWeight: 'one percent' };

    expect(upstreamSchemaProblem(rollout)).toMatch(/Rollout/);
    expect(upstreamSchemaProblem({ apiVersion: 'example.com/v1', kind: 'Widget' })).toBe('no upstream schema known for example.com/v1/Widget');
  });
});

describe('the model servers', () => {
  it('give the 70B model tensor parallelism over its 4 GPUs, shared memory and the GPU count', () => {
    const rollout = find('production/kubernetes/llama-3-1-70b-instruct.yaml', 'Rollout');
    const pod = rollout.spec.template.spec;
    const container = pod.containers[0];

    expect(container.args.join(' ')).toContain('--tensor-parallel-size 4');
    expect(container.resources.limits['nvidia.com/gpu']).toBe('4');
    expect(container.resources.requests['nvidia.com/gpu']).toBe('4');
    expect(pod.volumes).toContainEqual({ name: 'shm', emptyDir: { medium: 'Memory', sizeLimit: '16Gi' } });
    expect(container.volumeMounts).toContainEqual({ name: 'shm', mountPath: '/dev/shm' });
    expect(pod.nodeSelector).toEqual({ 'llmops.dev/gpu-type': 'nvidia-h100-80gb' });
  });

  it('run vLLM with the real flag names, the pinned revision and a Secret-referenced token', () => {
    const container = find('production/kubernetes/llama-3-1-8b-instruct.yaml', 'Rollout').spec.template.spec.containers[0];

    expect(container.image).toBe('vllm/vllm-openai:v0.11.0');
    expect(container.args).toEqual([
      '--model', 'meta-llama/Llama-3.1-8B-Instruct',
      '--served-model-name', 'llama-3-1-8b-instruct',
      '--port', '8000',
      '--dtype', 'bfloat16',
      '--revision', '0e9e39f249a16976918f6564b8830bc894c89659',
      '--enable-prefix-caching',
      '--max-model-len', '16384',
      '--max-num-batched-tokens', '4096',
      '--max-num-seqs', '128',
      '--tensor-parallel-size', '1',
    ]);
    expect(container.env).toContainEqual({ name: 'HF_TOKEN', valueFrom: { secretKeyRef: { name: 'hf-token', key: 'token', optional: false } } });
    expect(JSON.stringify(tree.get('production/kubernetes/llama-3-1-8b-instruct.yaml'))).not.toMatch(/hf_[A-Za-z0-9]{20,}/);
  });

  it('stream object-store models from the environment bucket without a token', () => {
    const container = find('production/kubernetes/qwen2-5-7b-instruct.yaml', 'Rollout').spec.template.spec.containers[0];

    expect(container.args.slice(0, 2)).toEqual(['--model', 'gs://acme-llmops-production-models/models/qwen2-5-7b-instruct/a09a35458c702b33eeacc393d103063234e8bc28']);
    expect(container.args).toContain('runai_streamer');
    expect(container.env.map((variable: { name: string }) => variable.name)).not.toContain('HF_TOKEN');
  });

  it('run under a restricted security context with probes sized for loading', () => {
    const pod = find('production/kubernetes/llama-3-1-70b-instruct.yaml', 'Rollout').spec.template.spec;
    const container = pod.containers[0];

    expect(container.securityContext).toMatchObject({
      allowPrivilegeEscalation: false,
      privileged: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(pod.securityContext.seccompProfile).toEqual({ type: 'RuntimeDefault' });
    // 70.6 B parameters at bf16 = 131.5 GiB: 300 s + 20 s/GiB = 2,930 s of start-up allowed.
    expect(container.startupProbe.failureThreshold * container.startupProbe.periodSeconds).toBeGreaterThanOrEqual(2930);
    for (const probe of ['startupProbe', 'readinessProbe', 'livenessProbe']) expect(container[probe].httpGet).toEqual({ path: '/health', port: 8000, scheme: 'HTTP' });
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(pod.tolerations).toContainEqual({ key: 'nvidia.com/gpu', operator: 'Equal', value: 'present', effect: 'NoSchedule' });
  });

  it('leave the replica count to KEDA and scale on the vLLM queue', () => {
    const rollout = find('production/kubernetes/llama-3-1-8b-instruct.yaml', 'Rollout');
    const scaler = find('production/kubernetes/llama-3-1-8b-instruct.yaml', 'ScaledObject');

    expect(rollout.spec.replicas).toBeUndefined();
    expect(scaler.spec).toMatchObject({
      scaleTargetRef: { apiVersion: 'argoproj.io/v1alpha1', kind: 'Rollout', name: 'llama-3-1-8b-instruct' },
      minReplicaCount: 2,
      maxReplicaCount: 8,
      pollingInterval: 15,
      cooldownPeriod: 360,
    });
    expect(scaler.spec.triggers[0].metadata.query).toBe('sum(vllm:num_requests_waiting{namespace="llm-prod",model_name="llama-3-1-8b-instruct"})');
  });

  it('scale dev to zero, with plain Deployments (no canaries there)', () => {
    const scaler = find('dev/kubernetes/llama-3-1-8b-instruct.yaml', 'ScaledObject');

    expect(scaler.spec.minReplicaCount).toBe(0);
    expect(scaler.spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'llama-3-1-8b-instruct' });
    expect(documents('dev/kubernetes/llama-3-1-8b-instruct.yaml').map((document) => document.kind)).not.toContain('Rollout');
    expect(find('production/kubernetes/llama-3-1-8b-instruct.yaml', 'ScaledObject').spec.minReplicaCount).toBeGreaterThan(0);
  });

  it('roll out production with the conservative canary and a NaN-safe analysis', () => {
    const rollout = find('production/kubernetes/llama-3-1-8b-instruct.yaml', 'Rollout');
    const analysis = find('production/kubernetes/llama-3-1-8b-instruct.yaml', 'AnalysisTemplate');

    expect(rollout.spec.strategy.canary.steps.filter((step: object) => 'setWeight' in step).map((step: { setWeight: number }) => step.setWeight)).toEqual([1, 5, 25, 50, 100]);
    expect(rollout.spec.strategy.canary).toMatchObject({ canaryService: 'llama-3-1-8b-instruct-canary', stableService: 'llama-3-1-8b-instruct-stable' });
    const errorRatio = analysis.spec.metrics.find((metric: { name: string }) => metric.name === 'error-ratio');
    expect(errorRatio).toMatchObject({
      interval: '60s',
      count: 10,
      failureLimit: 1,
      successCondition: 'len(result) == 0 || isNaN(result[0]) || result[0] <= 0.01',
      failureCondition: 'len(result) > 0 && !isNaN(result[0]) && !(result[0] <= 0.01)',
    });
    expect(errorRatio.provider.prometheus.query).toContain('rollouts_pod_template_hash="{{args.canary-hash}}"');
    const latency = analysis.spec.metrics.find((metric: { name: string }) => metric.name === 'p95-latency-vs-stable');
    expect(latency.successCondition).toBe('len(result) == 0 || isNaN(result[0]) || result[0] <= 1.1');
  });

  it('admit only the gateway and Prometheus, behind a default deny', () => {
    const policy = find('staging/kubernetes/llama-3-1-8b-instruct.yaml', 'NetworkPolicy');
    const defaultDeny = find('staging/kubernetes/namespace.yaml', 'NetworkPolicy');

    expect(defaultDeny.spec).toEqual({ podSelector: {}, policyTypes: ['Ingress', 'Egress'] });
    expect(policy.spec.ingress.map((rule: { from: { namespaceSelector: { matchLabels: object } }[] }) => rule.from[0].namespaceSelector.matchLabels)).toEqual([
      { 'kubernetes.io/metadata.name': 'gateway-system' },
      { 'kubernetes.io/metadata.name': 'monitoring' },
    ]);
  });

  it('name each prompt version ConfigMap by its content, and route the A/B split at the gateway', () => {
    const configMaps = documents('production/kubernetes/llama-3-1-8b-instruct.yaml').filter((document) => document.kind === 'ConfigMap');
    const route = find('production/kubernetes/llama-3-1-8b-instruct.yaml', 'HTTPRoute');

    expect(configMaps.map((document) => document.metadata.name)).toEqual([expect.stringMatching(/^prompt-support-assistant-v1-[0-9a-f]{8}$/), expect.stringMatching(/^prompt-support-assistant-v2-[0-9a-f]{8}$/)]);
    expect(route.spec.rules[0].backendRefs.map((backend: { weight: number }) => backend.weight)).toEqual([90, 10]);
    expect(route.spec.parentRefs).toEqual([{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'inference-gateway', namespace: 'gateway-system' }]);
  });
});

describe('environments and Argo CD', () => {
  it('label namespaces for Pod Security "restricted" and order objects with sync waves', () => {
    const namespace = find('production/kubernetes/namespace.yaml', 'Namespace');

    expect(namespace.metadata).toMatchObject({ name: 'llm-prod', annotations: { 'argocd.argoproj.io/sync-wave': '-2' } });
    expect(namespace.metadata.labels).toMatchObject({ 'pod-security.kubernetes.io/enforce': 'restricted' });
    expect(find('production/kubernetes/llama-3-1-8b-instruct.yaml', 'Rollout').metadata.annotations?.['argocd.argoproj.io/sync-wave']).toBe('0');
    expect(find('production/kubernetes/llama-3-1-8b-instruct.yaml', 'ConfigMap').metadata.annotations?.['argocd.argoproj.io/sync-wave']).toBe('-1');
  });

  it('sync auto environments automatically and leave production to a person', () => {
    const production = find('argocd/apps/production.yaml', 'Application');
    const dev = find('argocd/apps/dev.yaml', 'Application');

    expect(production.spec.syncPolicy.automated).toBeUndefined();
    expect(dev.spec.syncPolicy.automated).toEqual({ prune: true, selfHeal: true });
    expect(dev.spec.source).toEqual({ repoURL: 'https://github.com/acme/llmops-gitops.git', targetRevision: 'HEAD', path: 'generated/dev/kubernetes' });
    expect(find('argocd/root.yaml', 'Application').spec.source.path).toBe('generated/argocd/apps');
    expect(find('argocd/apps/project.yaml', 'AppProject').spec.sourceRepos).toEqual(['https://github.com/acme/llmops-gitops.git']);
  });

  it('package the same objects as a Helm chart', () => {
    for (const environment of fleet.environments) {
      const kubernetes = [...tree].filter(([file]) => file.startsWith(`${environment.name}/kubernetes/`));
      for (const [file, content] of kubernetes) {
        const template = tree.get(file.replace('/kubernetes/', '/helm/templates/'));
        expect(template).toBeDefined();
        expect(renderHelmLiterals(template!)).toBe(content);
      }
      const chart = parseAllDocuments(tree.get(`${environment.name}/helm/Chart.yaml`)!)[0].toJS();
      expect(chart).toMatchObject({ apiVersion: 'v2', name: `llmops-${environment.name}`, type: 'application' });
      expect(chart.version).toMatch(/^0\.1\.0\+[0-9a-f]{12}$/);
    }
    expect(escapeForHelm('{{question}} and {{ $value }}')).toBe('{{ "{{" }}question}} and {{ "{{" }} $value }}');
  });
});

describe('one shared GPU catalogue', () => {
  it('makes the node selector and tolerations of every GPU type match the Terraform node pool, on every cloud', () => {
    const mismatches: string[] = [];
    for (const cloud of CLOUDS) {
      const template = fleet.environments.find((environment) => environment.cloud === cloud)!;
      for (const gpuType of GPU_TYPES.filter((type) => GPU_CATALOGUE[type].clouds[cloud])) {
        const machine = GPU_CATALOGUE[gpuType].clouds[cloud]!.machines[0];
        for (const capacity of ['on-demand', 'spot'] as const) {
          const environment = {
            ...template,
            nodePools: [{ name: 'probe', gpuType, gpusPerNode: machine.gpus, capacity, minNodes: 0, maxNodes: 1 }],
            deployments: { 'llama-3-1-8b-instruct': { ...Object.values(template.deployments)[0], gpu: { type: gpuType, count: 1 }, engineArgs: {} } },
          };
          const variant: Fleet = {
            ...fleet,
            environments: [environment],
            deployments: [{ ...fleet.deployments.find((deployment) => deployment.id === `${template.name}/llama-3-1-8b-instruct`)!, environment, spec: environment.deployments['llama-3-1-8b-instruct'] }],
          };
          const pod = (parseAllDocuments(synthesize(variant).get(`${template.name}/kubernetes/llama-3-1-8b-instruct.yaml`)!)
            .map((document) => document.toJS())
            .find((document) => document.kind === 'Rollout' || document.kind === 'Deployment') as Document).spec.template.spec;
          const pools = JSON.stringify(environmentTerraform(variant, template.name));

          for (const [key, value] of Object.entries(pod.nodeSelector as Record<string, string>)) {
            if (!pools.includes(`"${key}":"${value}"`)) mismatches.push(`${cloud} ${gpuType}: pool lacks label ${key}=${value}`);
          }
          const gpuToleration = pod.tolerations.find((toleration: { key: string }) => toleration.key === GPU_NODE_TAINT.key);
          if (!gpuToleration || !pools.includes(GPU_NODE_TAINT.key) || gpuToleration.value !== GPU_NODE_TAINT.value) mismatches.push(`${cloud} ${gpuType}: GPU taint/toleration differ`);
          const spotTaint = CLOUD_TRAITS[cloud].spotNodeTaint;
          const toleratesSpot = pod.tolerations.some((toleration: { key: string }) => toleration.key === spotTaint?.key);
          if (spotTaint && toleratesSpot !== (capacity === 'spot')) mismatches.push(`${cloud} ${gpuType} ${capacity}: spot toleration ${toleratesSpot}`);
        }
      }
    }

    expect(mismatches).toEqual([]);
  });
});

describe('a change to one engine argument', () => {
  it('changes only that environment and deployment', async () => {
    const root = await copyFixtureFleet({ withGenerated: true });
    try {
      await editFile(root, 'environments/staging.ts', "engineArgs: { 'max-num-seqs': 256 }", "engineArgs: { 'max-num-seqs': 192 }");

      const check = await runCli(['synth', '--check', '--json', '--root', root]);

      expect(JSON.parse(check.stdout)).toEqual({
        upToDate: false,
        stale: ['staging/helm/Chart.yaml', 'staging/helm/templates/llama-3-1-8b-instruct.yaml', 'staging/kubernetes/llama-3-1-8b-instruct.yaml'],
        missing: [],
        extra: [],
        codeOwners: [],
      });
      const before = await readTree(path.join(root, 'generated'));
      await runCli(['synth', '--root', root]);
      const after = await readTree(path.join(root, 'generated'));
      expect(after.get('staging/kubernetes/llama-3-1-8b-instruct.yaml')).toContain("- --max-num-seqs\n            - \"192\"");
      expect([...after].filter(([file, content]) => before.get(file) !== content).map(([file]) => file)).toHaveLength(3);
    } finally {
      await removeFleet(root);
    }
  });
});
