import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { Testing } from 'cdktf';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Cloud } from '../../catalogue/clouds.ts';
import { CLOUDS } from '../../catalogue/clouds.ts';
import { GPU_CATALOGUE, GPU_NODE_TAINT, GPU_TYPES, gpuNodeLabels, type GpuType } from '../../catalogue/gpus.ts';
import type { Environment } from '../../declarations/environment.ts';
import type { Fleet } from '../../fleet/fleet.ts';
import { loadFleet } from '../../fleet/load.ts';
import { preparedFixture, REPO_ROOT } from '../../testing/fixture-fleet.ts';
import { environmentTerraform } from './terraform-synthesizer.ts';

let fleet: Fleet;

beforeAll(async () => {
  const result = await loadFleet(await preparedFixture());
  if (!result.ok) throw new Error('the example fleet is invalid');
  fleet = result.fleet;
});

/** The fleet with one environment replaced. */
function withEnvironment(name: string, change: (environment: Environment) => Environment): Fleet {
  return { ...fleet, environments: fleet.environments.map((environment) => (environment.name === name ? change(environment) : environment)) };
}

const synthJson = (source: Fleet, environment: string): string => JSON.stringify(environmentTerraform(source, environment));

describe('AWS stack (dev)', () => {
  it('adds an EKS GPU node group per pool, spot as declared, on the NVIDIA AMI', () => {
    const json = synthJson(fleet, 'dev');

    expect(
      Testing.toHaveResourceWithProperties(json, 'aws_eks_node_group', {
        node_group_name: 'dev-l4-spot',
        ami_type: 'AL2023_x86_64_NVIDIA',
        instance_types: ['g6.xlarge'],
        capacity_type: 'SPOT',
        scaling_config: { min_size: 0, max_size: 4, desired_size: 0 },
        labels: { 'llmops.dev/gpu-type': 'nvidia-l4' },
        taint: [{ key: 'nvidia.com/gpu', value: 'present', effect: 'NO_SCHEDULE' }],
        cluster_name: '${data.aws_eks_cluster.cluster.name}',
      }),
    ).toBe(true);
    expect(Testing.toHaveDataSourceWithProperties(json, 'aws_eks_cluster', { name: 'llm-dev' })).toBe(true);
  });

  it('makes a versioned, KMS-encrypted, private bucket whose old versions go to Glacier', () => {
    const json = synthJson(fleet, 'dev');

    expect(Testing.toHaveResourceWithProperties(json, 'aws_s3_bucket', { bucket: 'acme-llmops-dev-models' })).toBe(true);
    expect(Testing.toHaveResourceWithProperties(json, 'aws_s3_bucket_versioning', { versioning_configuration: { status: 'Enabled' } })).toBe(true);
    expect(
      Testing.toHaveResourceWithProperties(json, 'aws_s3_bucket_server_side_encryption_configuration', {
        rule: [{ apply_server_side_encryption_by_default: { sse_algorithm: 'aws:kms' }, bucket_key_enabled: true }],
      }),
    ).toBe(true);
    expect(
      Testing.toHaveResourceWithProperties(json, 'aws_s3_bucket_public_access_block', {
        block_public_acls: true,
        block_public_policy: true,
        ignore_public_acls: true,
        restrict_public_buckets: true,
      }),
    ).toBe(true);
    expect(json).toContain('"noncurrent_version_transition":[{"noncurrent_days":30,"storage_class":"GLACIER_IR"}]');
  });

  it("gives each model server an IRSA role that reads only its model's prefix", () => {
    const terraform = environmentTerraform(fleet, 'dev') as { data: Record<string, Record<string, { statement: unknown[] }>> };
    const json = JSON.stringify(terraform);

    expect(Testing.toHaveResourceWithProperties(json, 'aws_iam_role', { name: 'llm-dev-dev-llama-3-1-8b-instruct' })).toBe(true);
    expect(terraform.data.aws_iam_policy_document['reader-trust-llama-3-1-8b-instruct'].statement).toEqual([
      {
        actions: ['sts:AssumeRoleWithWebIdentity'],
        principals: [{ type: 'Federated', identifiers: ['${data.aws_iam_openid_connect_provider.cluster-oidc.arn}'] }],
        condition: [
          {
            test: 'StringEquals',
            variable: '${replace(data.aws_eks_cluster.cluster.identity[0].oidc[0].issuer, "https://", "")}:sub',
            values: ['system:serviceaccount:llm-dev:llama-3-1-8b-instruct-server'],
          },
          {
            test: 'StringEquals',
            variable: '${replace(data.aws_eks_cluster.cluster.identity[0].oidc[0].issuer, "https://", "")}:aud',
            values: ['sts.amazonaws.com'],
          },
        ],
      },
    ]);
    expect(terraform.data.aws_iam_policy_document['reader-policy-llama-3-1-8b-instruct'].statement).toEqual([
      { sid: 'ReadModelObjects', actions: ['s3:GetObject'], resources: ['${aws_s3_bucket.model-bucket.arn}/models/llama-3-1-8b-instruct/*'] },
      {
        sid: 'ListModelPrefix',
        actions: ['s3:ListBucket'],
        resources: ['${aws_s3_bucket.model-bucket.arn}'],
        condition: [{ test: 'StringLike', variable: 's3:prefix', values: ['models/llama-3-1-8b-instruct/', 'models/llama-3-1-8b-instruct/*'] }],
      },
    ]);
  });

  it('keeps state in S3 with native locking and encryption, provider pinned', () => {
    const terraform = environmentTerraform(fleet, 'dev') as { terraform: unknown };

    expect(terraform.terraform).toEqual({
      backend: { s3: { bucket: 'acme-terraform-state', key: 'llmops/dev/terraform.tfstate', region: 'us-east-1', encrypt: true, use_lockfile: true } },
      required_providers: { aws: { source: 'aws', version: '6.25.0' } },
    });
  });
});

describe('GCP stack (production)', () => {
  it('adds GKE node pools with guest accelerators and the driver installed', () => {
    const json = synthJson(fleet, 'production');

    expect(
      Testing.toHaveResourceWithProperties(json, 'google_container_node_pool', {
        name: 'production-h100x4',
        location: 'us-central1',
        autoscaling: { min_node_count: 1, max_node_count: 3 },
        node_config: {
          machine_type: 'a3-highgpu-4g',
          spot: false,
          guest_accelerator: [{ type: 'nvidia-h100-80gb', count: 4, gpu_driver_installation_config: { gpu_driver_version: 'LATEST' } }],
          taint: [{ key: 'nvidia.com/gpu', value: 'present', effect: 'NO_SCHEDULE' }],
          labels: { 'llmops.dev/gpu-type': 'nvidia-h100-80gb' },
          workload_metadata_config: { mode: 'GKE_METADATA' },
        },
      }),
    ).toBe(true);
  });

  it('makes a spot pool spot', () => {
    const spotFleet = withEnvironment('production', (environment) => ({
      ...environment,
      nodePools: [...environment.nodePools, { name: 'l4-spot', gpuType: 'nvidia-l4', gpusPerNode: 1, capacity: 'spot', minNodes: 0, maxNodes: 8 }],
    }));

    const json = synthJson(spotFleet, 'production');

    expect(Testing.toHaveResourceWithProperties(json, 'google_container_node_pool', { name: 'production-l4-spot', node_config: { spot: true, machine_type: 'g2-standard-8' } })).toBe(true);
  });

  it('makes a versioned private bucket and a workload-identity reader per model', () => {
    const json = synthJson(fleet, 'production');

    expect(
      Testing.toHaveResourceWithProperties(json, 'google_storage_bucket', {
        name: 'acme-llmops-production-models',
        uniform_bucket_level_access: true,
        public_access_prevention: 'enforced',
        versioning: { enabled: true },
        lifecycle_rule: [
          { condition: { with_state: 'ARCHIVED', days_since_noncurrent_time: 30 }, action: { type: 'SetStorageClass', storage_class: 'COLDLINE' } },
          { condition: { with_state: 'ARCHIVED', days_since_noncurrent_time: 365 }, action: { type: 'Delete' } },
        ],
      }),
    ).toBe(true);
    expect(
      Testing.toHaveResourceWithProperties(json, 'google_storage_bucket_iam_member', {
        role: 'roles/storage.objectViewer',
        member: 'serviceAccount:${google_service_account.reader-qwen2-5-7b-instruct.email}',
        condition: { expression: 'resource.name.startsWith("projects/_/buckets/acme-llmops-production-models/objects/models/qwen2-5-7b-instruct/")' },
      }),
    ).toBe(true);
    expect(
      Testing.toHaveResourceWithProperties(json, 'google_service_account_iam_member', {
        role: 'roles/iam.workloadIdentityUser',
        member: 'serviceAccount:acme-llm-prod.svc.id.goog[llm-prod/qwen2-5-7b-instruct-server]',
      }),
    ).toBe(true);
    expect(JSON.parse(json).terraform.backend).toEqual({ gcs: { bucket: 'acme-llm-prod-tfstate', prefix: 'llmops/production' } });
  });
});

describe('Azure stack (staging)', () => {
  it('adds AKS user pools; the spot pool is Spot with Delete eviction', () => {
    const json = synthJson(fleet, 'staging');

    expect(
      Testing.toHaveResourceWithProperties(json, 'azurerm_kubernetes_cluster_node_pool', {
        name: 'a100spot',
        vm_size: 'Standard_NC24ads_A100_v4',
        priority: 'Spot',
        eviction_policy: 'Delete',
        spot_max_price: -1,
        auto_scaling_enabled: true,
        min_count: 0,
        max_count: 4,
        node_taints: ['nvidia.com/gpu=present:NoSchedule'],
        node_labels: { 'llmops.dev/gpu-type': 'nvidia-a100-80gb' },
      }),
    ).toBe(true);
    expect(Testing.toHaveResourceWithProperties(json, 'azurerm_kubernetes_cluster_node_pool', { name: 'a100x2', priority: 'Regular', vm_size: 'Standard_NC48ads_A100_v4' })).toBe(true);
  });

  it('makes a private, versioned, infrastructure-encrypted account with a container per model and a reader identity', () => {
    const json = synthJson(fleet, 'staging');

    expect(
      Testing.toHaveResourceWithProperties(json, 'azurerm_storage_account', {
        name: 'acmellmopsstaging',
        allow_nested_items_to_be_public: false,
        shared_access_key_enabled: false,
        infrastructure_encryption_enabled: true,
        blob_properties: { versioning_enabled: true },
      }),
    ).toBe(true);
    expect(Testing.toHaveResourceWithProperties(json, 'azurerm_storage_container', { name: 'llama-3-1-70b-instruct', container_access_type: 'private' })).toBe(true);
    expect(
      Testing.toHaveResourceWithProperties(json, 'azurerm_federated_identity_credential', {
        audience: ['api://AzureADTokenExchange'],
        issuer: '${data.azurerm_kubernetes_cluster.cluster.oidc_issuer_url}',
        subject: 'system:serviceaccount:llm-staging:llama-3-1-70b-instruct-server',
      }),
    ).toBe(true);
    expect(
      Testing.toHaveResourceWithProperties(json, 'azurerm_role_assignment', {
        role_definition_name: 'Storage Blob Data Reader',
        scope: '${azurerm_storage_container.model-container-llama-3-1-70b-instruct.resource_manager_id}',
      }),
    ).toBe(true);
    expect(json).toContain('"change_tier_to_cool_after_days_since_creation":30');
    expect(JSON.parse(json).terraform.backend.azurerm).toMatchObject({ storage_account_name: 'acmetfstate', use_azuread_auth: true });
  });
});

describe('every GPU type on every cloud', () => {
  const offered = CLOUDS.flatMap((cloud) => GPU_TYPES.filter((gpuType) => GPU_CATALOGUE[gpuType].clouds[cloud]).map((gpuType) => [cloud, gpuType] as const));

  it.each(offered)('%s %s: the node pool carries the catalogue label and taint', (cloud: Cloud, gpuType: GpuType) => {
    const template = fleet.environments.find((environment) => environment.cloud === cloud)!;
    const machine = GPU_CATALOGUE[gpuType].clouds[cloud]!.machines[0];
    const variant = withEnvironment(template.name, (environment) => ({
      ...environment,
      nodePools: [{ name: 'probe', gpuType, gpusPerNode: machine.gpus, capacity: 'on-demand', minNodes: 0, maxNodes: 1 }],
    }));

    const pools = Object.values((environmentTerraform(variant, template.name) as { resource: Record<string, Record<string, Record<string, unknown>>> }).resource)
      .flatMap((byName) => Object.values(byName))
      .filter((resource) => 'taint' in resource || 'node_taints' in resource || 'node_config' in resource);

    expect(pools).toHaveLength(1);
    const pool = pools[0] as { labels?: object; node_labels?: object; node_config?: { labels: object; taint: unknown[] }; taint?: unknown[]; node_taints?: string[] };
    const labels = pool.labels ?? pool.node_labels ?? pool.node_config?.labels;
    const taints = pool.taint ?? pool.node_config?.taint ?? pool.node_taints;
    expect(labels).toEqual(gpuNodeLabels(gpuType));
    expect(JSON.stringify(taints)).toContain(GPU_NODE_TAINT.key);
    expect(JSON.stringify(taints)).toContain(GPU_NODE_TAINT.value);
    expect(JSON.stringify(taints)).toMatch(/NO_SCHEDULE|NoSchedule/);
  });
});

describe('the generated files', () => {
  /** Every resource and data-source type the pinned prebuilt providers define. */
  async function knownTypes(): Promise<Set<string>> {
    const types = new Set<string>();
    for (const pkg of ['@cdktf/provider-aws', '@cdktf/provider-google', '@cdktf/provider-azurerm']) {
      const lib = path.join(REPO_ROOT, 'node_modules', pkg, 'lib');
      for (const entry of await readdir(lib)) {
        const source = await readFile(path.join(lib, entry, 'index.js'), 'utf8').catch(() => '');
        for (const match of source.matchAll(/tfResourceType = "([a-z0-9_]+)"/g)) types.add(match[1]);
      }
    }
    return types;
  }

  it('parse, and use only resources and data sources of the pinned provider versions', async () => {
    const known = await knownTypes();

    for (const environment of fleet.environments) {
      const text = await readFile(path.join(await preparedFixture(), 'generated', environment.name, 'terraform/cdk.tf.json'), 'utf8');
      const terraform = JSON.parse(text) as { resource: object; data: object };
      const used = [...Object.keys(terraform.resource), ...Object.keys(terraform.data)];
      expect(used.filter((type) => !known.has(type))).toEqual([]);
      expect(used.length).toBeGreaterThan(5);
    }
  });

  it('hold no secrets', async () => {
    for (const environment of fleet.environments) {
      const text = await readFile(path.join(await preparedFixture(), 'generated', environment.name, 'terraform/cdk.tf.json'), 'utf8');
      expect(text).not.toMatch(/AKIA[0-9A-Z]{16}|-----BEGIN|"(password|secret|client_secret|access_key|secret_key|token|sas)[a-z_]*"\s*:/i);
    }
  });
});

describe('import discipline', () => {
  async function sourceFiles(dir: string): Promise<string[]> {
    const entries = await readdir(dir, { recursive: true, withFileTypes: true });
    return entries.filter((entry) => entry.isFile() && entry.name.endsWith('.ts')).map((entry) => path.join(entry.parentPath, entry.name));
  }

  it('imports cdktf providers by submodule path only, and cdktf only behind the provider interface', async () => {
    const offenders: string[] = [];
    for (const file of await sourceFiles(path.join(REPO_ROOT, 'src'))) {
      const text = await readFile(file, 'utf8');
      const relative = path.relative(REPO_ROOT, file);
      if (/from ['"]@cdktf\/provider-[a-z]+['"]/.test(text)) offenders.push(`${relative}: imports a provider package root`);
      const insideTerraform = relative.startsWith(path.join('src', 'synth', 'terraform'));
      if (!insideTerraform && /from ['"](cdktf|@cdktf\/[^'"]+)['"]/.test(text)) offenders.push(`${relative}: imports cdktf outside src/synth/terraform`);
    }

    expect(offenders).toEqual([]);
  });
});
