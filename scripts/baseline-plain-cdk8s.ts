/**
 * Benchmark baseline: the per-deployment Kubernetes objects of an N-model ×
 * 3-environment fleet written straight with plain cdk8s ApiObjects, the way a
 * team without a declarations layer would script them (no validation, no
 * catalogue, no cdk8s-plus). Prints elapsed ms and peak RSS as JSON.
 * Usage: tsx scripts/baseline-plain-cdk8s.ts <models>
 */
import { ApiObject, App, Chart } from 'cdk8s';
import { stringify } from 'yaml';

const modelCount = Number(process.argv[2] ?? 3);
const environments = ['dev', 'staging', 'production'];
let bytes = 0;

for (const environment of environments) {
  const app = new App();
  for (let index = 0; index < modelCount; index += 1) {
    const name = `model-${String(index).padStart(3, '0')}`;
    const chart = new Chart(app, name, { namespace: `bench-${environment}`, disableResourceNameHashes: true });
    const labels = { 'app.kubernetes.io/name': 'vllm', 'app.kubernetes.io/instance': name };
    const object = (id: string, apiVersion: string, kind: string, spec: object) => new ApiObject(chart, id, { apiVersion, kind, metadata: { name, labels }, spec });
    new ApiObject(chart, 'sa', { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: `${name}-server`, labels } });
    for (const version of ['v1', 'v2'])
      new ApiObject(chart, `prompt-${version}`, {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: `prompt-${name}-${version}`, labels },
        data: { system: 'You help.', template: '{{question}}' },
      });
    object('netpol', 'networking.k8s.io/v1', 'NetworkPolicy', { podSelector: { matchLabels: labels }, policyTypes: ['Ingress', 'Egress'] });
    for (const role of ['', '-stable', '-canary'])
      new ApiObject(chart, `svc${role}`, {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: `${name}${role}`, labels },
        spec: { selector: labels, ports: [{ name: 'http', port: 8000, targetPort: 'http' }] },
      });
    object('analysis', 'argoproj.io/v1alpha1', 'AnalysisTemplate', {
      metrics: [
        { name: 'error-ratio', interval: '60s', count: 5, provider: { prometheus: { address: 'http://prometheus:9090', query: `sum(rate(vllm:request_success_total{model_name="${name}"}[2m]))` } } },
      ],
    });
    object('rollout', 'argoproj.io/v1alpha1', 'Rollout', {
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: {
          containers: [
            {
              name: 'vllm',
              image: 'vllm/vllm-openai:v0.11.0',
              args: ['--model', `acme/${name}`, '--max-num-seqs', '128'],
              resources: { limits: { 'nvidia.com/gpu': '1' }, requests: { cpu: '3', memory: '12Gi', 'nvidia.com/gpu': '1' } },
            },
          ],
          tolerations: [{ key: 'nvidia.com/gpu', operator: 'Equal', value: 'present', effect: 'NoSchedule' }],
          nodeSelector: { 'llmops.dev/gpu-type': 'nvidia-l4' },
        },
      },
      strategy: { canary: { stableService: `${name}-stable`, canaryService: `${name}-canary`, steps: [{ setWeight: 10 }, { pause: { duration: '10m' } }] } },
    });
    object('scaler', 'keda.sh/v1alpha1', 'ScaledObject', {
      scaleTargetRef: { name },
      minReplicaCount: 1,
      maxReplicaCount: 4,
      triggers: [{ type: 'prometheus', metadata: { query: 'sum(vllm:num_requests_waiting)', threshold: '5' } }],
    });
    object('pdb', 'policy/v1', 'PodDisruptionBudget', { maxUnavailable: 1, selector: { matchLabels: labels } });
    object('monitor', 'monitoring.coreos.com/v1', 'ServiceMonitor', { selector: { matchLabels: labels }, endpoints: [{ port: 'http' }] });
    object('route', 'gateway.networking.k8s.io/v1', 'HTTPRoute', { parentRefs: [{ name: 'gateway' }], rules: [{ backendRefs: [{ name, port: 8000 }] }] });
    bytes += chart
      .toJson()
      .map((document) => stringify(document))
      .join('---\n').length;
  }
}
// Elapsed from process start, as for bench-child.ts, so module loading counts on both sides.
console.log(JSON.stringify({ elapsedMs: performance.now(), maxRssKiB: process.resourceUsage().maxRSS, bytes }));
