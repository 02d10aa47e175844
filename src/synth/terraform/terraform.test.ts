import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { Testing } from 'cdktf';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { GPU_NODE_TAINT, GPU_TYPES, poolShapeLabels, type GpuType } from '../../catalogue/gpus.ts';
import { cloudPlugin, CLOUDS, type Cloud } from '../../clouds/registry.ts';
import type { Environment } from '../../declarations/environment.ts';
import type { Fleet } from '../../fleet/fleet.ts';
import { loadFleet } from '../../fleet/load.ts';
import { gkeBootDiskAllocatableGiB } from '../../clouds/gcp/index.ts';
import { modelCacheGiB } from '../../fleet/storage.ts';
import { preparedFixture, REPO_ROOT } from '../../testing/fixture-fleet.ts';
import { synthesize } from '../steps.ts';
import { environmentTerraform } from './terraform-synthesizer.ts';

let fleet: Fleet;

beforeAll(async () => {
  const result = await loadFleet(await preparedFixture());
  if (!result.ok) throw new Error('the example fleet is invalid');
  fleet = result.fleet;
});

/** The fleet with one environment replaced (its deployments follow it). */
function withEnvironment(name: string, change: (environment: Environment) => Environment): Fleet {
  const environments = fleet.environments.map((environment) => (environment.name === name ? change(environment) : environment));
  const changed = environments.find((environment) => environment.name === name)!;
  return {
    ...fleet,
    environments,
    deployments: fleet.deployments.map((deployment) =>
      deployment.environment.name === name ? { ...deployment, environment: changed, spec: changed.deployments[deployment.model.name] ?? deployment.spec } : deployment,
    ),
  };
}

/** The fleet with every model of one environment read from the object store. */
function fromObjectStore(source: Fleet, name: string): Fleet {
  return {
    ...source,
    deployments: source.deployments.map((deployment) =>
      deployment.environment.name === name ? { ...deployment, model: { ...deployment.model, source: { kind: 'object-store', revision: 'v1' } } } : deployment,
    ),
  };
}

type Json = Record<string, any>;
const terraformOf = (source: Fleet, environment: string): Json => environmentTerraform(source, environment) as Json;
const synthJson = (source: Fleet, environment: string): string => JSON.stringify(terraformOf(source, environment));
const resources = (terraform: Json, type: string): Json[] => Object.values(terraform.resource[type] ?? {});

/** The objects of one generated Kubernetes file. */
function kubernetesObjects(source: Fleet, file: string): Json[] {
  return parseAllDocuments(synthesize(source).get(file)!).map((document) => document.toJS() as Json);
}
const podSpec = (objects: Json[]): Json => objects.find((object) => object.kind === 'Rollout' || object.kind === 'Deployment')!.spec.template;
const serviceAccount = (objects: Json[]): Json => objects.find((object) => object.kind === 'ServiceAccount')!;

describe('every stack', () => {
  it.each(['dev', 'production', 'staging', 'research'])('%s: asks for Terraform >= 1.10 (S3 lock files) and a remote backend', (name) => {
    const terraform = terraformOf(fleet, name);

    expect(terraform.terraform.required_version).toBe('>= 1.10.0');
    expect(Object.keys(terraform.terraform.backend)).toHaveLength(1);
    expect(Object.keys(terraform.terraform.backend)[0]).not.toBe('local');
  });

  it('escapes declaration strings, so Terraform never evaluates ${…} or %{…} from a declaration', () => {
    const hostile = 'llm-dev${file("/etc/passwd")}';
    const variant = withEnvironment(
      'dev',
      (environment) =>
        ({
          ...environment,
          cluster: hostile,
          stateBackend: { type: 's3', bucket: 'acme-terraform-state', key: 'llmops/%{ for x in y }x%{ endfor }', region: 'us-east-1' },
        }) as Environment,
    );

    const json = synthJson(variant, 'dev');
    const terraform = JSON.parse(json);

    expect(terraform.data.aws_eks_cluster.cluster.name).toBe('llm-dev$${file("/etc/passwd")}');
    expect(terraform.terraform.backend.s3.key).toBe('llmops/%%{ for x in y }x%%{ endfor }');
    expect(json).not.toMatch(/[^$]\$\{file\(/);
    expect(json).not.toMatch(/[^%]%\{ for/);
  });
});

describe('AWS stack (dev)', () => {
  it('runs GPU node groups on Bottlerocket NVIDIA in private subnets of zones that sell the instance types', () => {
    const terraform = terraformOf(fleet, 'dev');
    const json = JSON.stringify(terraform);

    expect(
      Testing.toHaveResourceWithProperties(json, 'aws_eks_node_group', {
        node_group_name: 'dev-l4-spot',
        ami_type: 'BOTTLEROCKET_x86_64_NVIDIA',
        capacity_type: 'SPOT',
        instance_types: ['g6.xlarge', 'g6.2xlarge', 'g6.4xlarge', 'g6.8xlarge'],
        scaling_config: { min_size: 0, max_size: 4, desired_size: 0 },
        labels: { 'llmops.dev/gpu-type': 'nvidia-l4', 'llmops.dev/gpus-per-node': '1' },
        taint: [{ key: 'nvidia.com/gpu', value: 'present', effect: 'NO_SCHEDULE' }],
        subnet_ids: '${data.aws_subnets.node-pool-subnets-l4-spot.ids}',
      }),
    ).toBe(true);
    expect(terraform.data.aws_subnets['node-pool-subnets-l4-spot'].filter).toEqual([
      { name: 'vpc-id', values: ['${data.aws_eks_cluster.cluster.vpc_config[0].vpc_id}'] },
      { name: 'tag:kubernetes.io/role/internal-elb', values: ['1'] },
      { name: 'availability-zone', values: '${data.aws_ec2_instance_type_offerings.node-pool-zones-l4-spot.locations}' },
    ]);
    expect(terraform.data.aws_ec2_instance_type_offerings['node-pool-zones-l4-spot']).toMatchObject({
      location_type: 'availability-zone',
      filter: [{ name: 'instance-type', values: ['g6.xlarge', 'g6.2xlarge', 'g6.4xlarge', 'g6.8xlarge'] }],
    });
    expect(terraform.resource.aws_eks_node_group['node-pool-l4-spot'].lifecycle.precondition[0].condition).toBe('${(length(data.aws_subnets.node-pool-subnets-l4-spot.ids) >= 1)}');
  });

  it('tags each Auto Scaling group for discovery and with the node template, ephemeral storage included, so the autoscaler can scale a pool from zero', () => {
    const tags = resources(terraformOf(fleet, 'dev'), 'aws_autoscaling_group_tag').filter((tag) => tag.autoscaling_group_name.includes('node-pool-l4-spot'));
    const disk = terraformOf(fleet, 'dev').resource.aws_eks_node_group['node-pool-l4-spot'].disk_size;

    expect(tags.map((tag) => tag.tag)).toEqual([
      { key: 'k8s.io/cluster-autoscaler/enabled', value: 'true', propagate_at_launch: false },
      { key: 'k8s.io/cluster-autoscaler/llm-dev', value: 'owned', propagate_at_launch: false },
      { key: 'k8s.io/cluster-autoscaler/node-template/label/llmops.dev/gpu-type', value: 'nvidia-l4', propagate_at_launch: false },
      { key: 'k8s.io/cluster-autoscaler/node-template/label/llmops.dev/gpus-per-node', value: '1', propagate_at_launch: false },
      { key: 'k8s.io/cluster-autoscaler/node-template/taint/nvidia.com/gpu', value: 'present:NoSchedule', propagate_at_launch: false },
      { key: 'k8s.io/cluster-autoscaler/node-template/resources/nvidia.com/gpu', value: '1', propagate_at_launch: false },
      // Bottlerocket: the data volume less kube-reserved 1 GiB and the 10 % eviction threshold.
      { key: 'k8s.io/cluster-autoscaler/node-template/resources/ephemeral-storage', value: `${Math.floor(disk * 0.9 - 1)}Gi`, propagate_at_launch: false },
    ]);
    expect(tags[0].autoscaling_group_name).toBe('${aws_eks_node_group.node-pool-l4-spot.resources[0].autoscaling_groups[0].name}');
  });

  it("gives the cluster-autoscaler an IRSA role that resizes only this cluster's Auto Scaling groups, created once per cluster", () => {
    const terraform = terraformOf(fleet, 'dev');
    const permissions = terraform.data.aws_iam_policy_document['cluster-autoscaler-permissions'].statement;
    const trust = terraform.data.aws_iam_policy_document['cluster-autoscaler-trust'].statement[0];
    const dev = fleet.environments.find((environment) => environment.name === 'dev')!;
    const sharing: Fleet = { ...fleet, environments: [...fleet.environments, { ...dev, name: 'dev-b', namespace: 'llm-dev-b', deployments: {} }] };

    expect(terraform.resource.aws_iam_role['cluster-autoscaler'].name).toBe('llm-dev-cluster-autoscaler');
    expect(trust.condition[0].values).toEqual(['system:serviceaccount:kube-system:cluster-autoscaler']);
    expect(permissions[0].actions).toContain('autoscaling:DescribeAutoScalingGroups');
    expect(permissions[1]).toMatchObject({
      actions: ['autoscaling:SetDesiredCapacity', 'autoscaling:TerminateInstanceInAutoScalingGroup'],
      condition: [{ test: 'StringEquals', variable: 'aws:ResourceTag/k8s.io/cluster-autoscaler/llm-dev', values: ['owned'] }],
    });
    expect(terraform.output.cluster_autoscaler_role_arn.value).toBe('${aws_iam_role.cluster-autoscaler.arn}');
    // A second environment in the same cluster leaves the role to the first (by name).
    expect(terraformOf(sharing, 'dev').resource.aws_iam_role).toHaveProperty('cluster-autoscaler');
    expect(terraformOf(sharing, 'dev-b').resource.aws_iam_role).not.toHaveProperty('cluster-autoscaler');
  });

  it('makes a TLS-only, KMS-encrypted, private bucket whose lifecycle waits for versioning', () => {
    const terraform = terraformOf(fleet, 'dev');
    const json = JSON.stringify(terraform);

    expect(Testing.toHaveResourceWithProperties(json, 'aws_s3_bucket', { bucket: 'acme-llmops-dev-models' })).toBe(true);
    expect(Testing.toHaveResourceWithProperties(json, 'aws_s3_bucket_versioning', { versioning_configuration: { status: 'Enabled' } })).toBe(true);
    expect(
      Testing.toHaveResourceWithProperties(json, 'aws_s3_bucket_server_side_encryption_configuration', {
        rule: [{ apply_server_side_encryption_by_default: { sse_algorithm: 'aws:kms' }, bucket_key_enabled: true }],
      }),
    ).toBe(true);
    expect(terraform.resource.aws_s3_bucket_lifecycle_configuration['model-bucket-lifecycle'].depends_on).toEqual(['aws_s3_bucket_versioning.model-bucket-versioning']);
    expect(terraform.resource.aws_s3_bucket_policy['model-bucket-policy'].policy).toBe('${data.aws_iam_policy_document.model-bucket-tls-only.json}');
    expect(terraform.data.aws_iam_policy_document['model-bucket-tls-only'].statement).toEqual([
      {
        sid: 'DenyInsecureTransport',
        effect: 'Deny',
        principals: [{ type: '*', identifiers: ['*'] }],
        actions: ['s3:*'],
        resources: ['${aws_s3_bucket.model-bucket.arn}', '${aws_s3_bucket.model-bucket.arn}/*'],
        condition: [{ test: 'Bool', variable: 'aws:SecureTransport', values: ['false'] }],
      },
    ]);
  });

  it('tags resources once: default tags on the provider, only extras on each resource', () => {
    const terraform = terraformOf(fleet, 'dev');
    const defaults = Object.keys(terraform.provider.aws[0].default_tags[0].tags);

    const repeated = Object.values(terraform.resource as Json)
      .flatMap((byName) => Object.values(byName as Json))
      .filter((resource) => resource.tags && defaults.some((key) => key in resource.tags));

    expect(defaults).toEqual(['environment', 'managed-by']);
    expect(repeated).toEqual([]);
  });

  it("gives each model server an IRSA role that reads only its model's prefix, named by the ServiceAccount's annotation", () => {
    const terraform = terraformOf(fleet, 'dev');
    const role = terraform.resource.aws_iam_role['reader-llama-3-1-8b-instruct'];
    const annotation = serviceAccount(kubernetesObjects(fleet, 'dev/kubernetes/llama-3-1-8b-instruct.yaml')).metadata.annotations['eks.amazonaws.com/role-arn'];

    expect(role.name).toBe('llm-dev-dev-llama-3-1-8b-instruct');
    expect(annotation).toBe(`arn:aws:iam::111122223333:role/${role.name}`);
    expect(terraform.output.model_reader_identities.value['llama-3-1-8b-instruct']).toBe('${aws_iam_role.reader-llama-3-1-8b-instruct.arn}');
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
    const terraform = terraformOf(fleet, 'dev');

    expect(terraform.terraform.backend).toEqual({ s3: { bucket: 'acme-terraform-state', key: 'llmops/dev/terraform.tfstate', region: 'us-east-1', encrypt: true, use_lockfile: true } });
    expect(terraform.terraform.required_providers).toEqual({ aws: { source: 'aws', version: '6.25.0' } });
  });

  it('points vLLM at the S3 prefix the role may read, with the bucket region', () => {
    const pod = podSpec(kubernetesObjects(fromObjectStore(fleet, 'dev'), 'dev/kubernetes/llama-3-1-8b-instruct.yaml')).spec;

    expect(pod.containers[0].args[0]).toBe('s3://acme-llmops-dev-models/models/llama-3-1-8b-instruct/v1');
    expect(pod.containers[0].env).toContainEqual({ name: 'AWS_REGION', value: 'us-east-1' });
  });
});

describe('GCP stack (production)', () => {
  it('pins each pool to the zones that sell its GPU and sets node counts for the whole pool', () => {
    const pool = terraformOf(fleet, 'production').resource.google_container_node_pool['node-pool-h100x8'];

    expect(pool).toMatchObject({
      name: 'production-h100x8',
      location: 'us-central1',
      node_locations: ['us-central1-a', 'us-central1-b', 'us-central1-c'],
      autoscaling: { total_min_node_count: 1, total_max_node_count: 2, location_policy: 'BALANCED' },
      // Per zone: rounding 1 node over 3 zones up would start three a3-highgpu-8g; the pending replicas bring the first node.
      initial_node_count: 0,
      lifecycle: { ignore_changes: ['initial_node_count'] },
      upgrade_settings: { strategy: 'SURGE', max_surge: 0, max_unavailable: 1 },
    });
    expect(pool.autoscaling).not.toHaveProperty('min_node_count');
    expect(pool.autoscaling).not.toHaveProperty('max_node_count');
  });

  it('installs the GKE default driver and runs nodes as a least-privilege service account', () => {
    const terraform = terraformOf(fleet, 'production');
    const nodeConfig = terraform.resource.google_container_node_pool['node-pool-h100x8'].node_config;

    expect(nodeConfig).toMatchObject({
      machine_type: 'a3-highgpu-8g',
      spot: false,
      guest_accelerator: [{ type: 'nvidia-h100-80gb', count: 8, gpu_driver_installation_config: { gpu_driver_version: 'DEFAULT' } }],
      taint: [{ key: 'nvidia.com/gpu', value: 'present', effect: 'NO_SCHEDULE' }],
      labels: { 'llmops.dev/gpu-type': 'nvidia-h100-80gb', 'llmops.dev/gpus-per-node': '8' },
      workload_metadata_config: { mode: 'GKE_METADATA' },
      service_account: '${google_service_account.gpu-node-account.email}',
    });
    expect(terraform.resource.google_project_iam_member['gpu-node-account-role']).toMatchObject({
      role: 'roles/container.defaultNodeServiceAccount',
      member: 'serviceAccount:${google_service_account.gpu-node-account.email}',
    });
  });

  it('uses one spelling per label key: no resource carries a default label again, no key has a "-"', () => {
    const terraform = terraformOf(fleet, 'production');
    const defaults = terraform.provider.google[0].default_labels;
    const labelSets = Object.values(terraform.resource as Json)
      .flatMap((byName) => Object.values(byName as Json))
      .flatMap((resource) => [resource.labels, resource.node_config?.resource_labels].filter(Boolean));

    expect(defaults).toEqual({ environment: 'production', managed_by: 'llmops-gitops' });
    expect(labelSets.length).toBeGreaterThan(0);
    for (const labels of labelSets) {
      expect(Object.keys(labels).filter((key) => key in defaults || key.includes('-'))).toEqual([]);
    }
  });

  it('requires zones for a GPU the catalogue has no zones for, and takes them as declared', () => {
    const variant = withEnvironment('production', (environment) => ({
      ...environment,
      nodePools: [...environment.nodePools, { name: 't4', gpuType: 'nvidia-t4', gpusPerNode: 1, capacity: 'spot', minNodes: 0, maxNodes: 2, zones: ['us-central1-f'] }],
    }));

    const pool = terraformOf(variant, 'production').resource.google_container_node_pool['node-pool-t4'];

    expect(pool).toMatchObject({ node_locations: ['us-central1-f'], autoscaling: { total_min_node_count: 0, total_max_node_count: 2, location_policy: 'ANY' } });
    expect(pool.node_config).toMatchObject({ spot: true, machine_type: 'n1-standard-8', guest_accelerator: [{ type: 'nvidia-tesla-t4' }] });
  });

  it("lets each reader list and read only its model's prefix, as vLLM's loader does", () => {
    const terraform = terraformOf(fleet, 'production');
    const member = terraform.resource.google_storage_bucket_iam_member['reader-objects-qwen2-5-7b-instruct'];

    expect(member).toMatchObject({ role: 'roles/storage.objectViewer', member: 'serviceAccount:${google_service_account.reader-qwen2-5-7b-instruct.email}' });
    expect(member.condition.expression).toBe(
      'resource.name.startsWith("projects/_/buckets/acme-llmops-production-models/objects/models/qwen2-5-7b-instruct/") || ' +
        'api.getAttribute("storage.googleapis.com/objectListPrefix", "").startsWith("models/qwen2-5-7b-instruct/")',
    );
    expect(
      Testing.toHaveResourceWithProperties(JSON.stringify(terraform), 'google_service_account_iam_member', {
        role: 'roles/iam.workloadIdentityUser',
        member: 'serviceAccount:acme-llm-prod.svc.id.goog[llm-prod/qwen2-5-7b-instruct-server]',
      }),
    ).toBe(true);
  });

  it('binds each ServiceAccount to the service account the output names', () => {
    const terraform = terraformOf(fleet, 'production');
    const account = terraform.resource.google_service_account['reader-qwen2-5-7b-instruct'];
    const annotation = serviceAccount(kubernetesObjects(fleet, 'production/kubernetes/qwen2-5-7b-instruct.yaml')).metadata.annotations['iam.gke.io/gcp-service-account'];

    expect(annotation).toBe(`${account.account_id}@acme-llm-prod.iam.gserviceaccount.com`);
    expect(terraform.output.model_reader_identities.value['qwen2-5-7b-instruct']).toBe('${google_service_account.reader-qwen2-5-7b-instruct.email}');
    expect(terraform.terraform.backend).toEqual({ gcs: { bucket: 'acme-llm-prod-tfstate', prefix: 'llmops/production' } });
  });

  it('makes a versioned private bucket whose old versions go cold', () => {
    expect(
      Testing.toHaveResourceWithProperties(synthJson(fleet, 'production'), 'google_storage_bucket', {
        name: 'acme-llmops-production-models',
        uniform_bucket_level_access: true,
        public_access_prevention: 'enforced',
        versioning: { enabled: true },
      }),
    ).toBe(true);
  });
});

describe('Azure stack (staging)', () => {
  it('declares the spot taint and label AKS adds, installs the driver, and upgrades regular GPU pools without surge', () => {
    const pools = terraformOf(fleet, 'staging').resource.azurerm_kubernetes_cluster_node_pool;

    expect(pools['node-pool-a100-spot']).toMatchObject({
      name: 'a100spot',
      vm_size: 'Standard_NC24ads_A100_v4',
      priority: 'Spot',
      eviction_policy: 'Delete',
      gpu_driver: 'Install',
      node_taints: ['nvidia.com/gpu=present:NoSchedule', 'kubernetes.azure.com/scalesetpriority=spot:NoSchedule'],
      node_labels: { 'llmops.dev/gpu-type': 'nvidia-a100-80gb', 'llmops.dev/gpus-per-node': '1', 'kubernetes.azure.com/scalesetpriority': 'spot' },
    });
    expect(pools['node-pool-a100-spot']).not.toHaveProperty('upgrade_settings');
    expect(pools['node-pool-a100x2']).toMatchObject({ name: 'a100x2', priority: 'Regular', upgrade_settings: { max_surge: '0', max_unavailable: '1' } });
  });

  it('keeps the storage account key-less and closed to public networks, managed through Resource Manager only', () => {
    const terraform = terraformOf(fleet, 'staging');
    const account = terraform.resource.azurerm_storage_account['model-bucket'];

    expect(terraform.provider.azurerm[0]).toMatchObject({ storage_use_azuread: true, features: [{ storage: [{ data_plane_available: false }] }] });
    expect(account).toMatchObject({
      name: 'acmellmopsstaging',
      shared_access_key_enabled: false,
      allow_nested_items_to_be_public: false,
      network_rules: { default_action: 'Deny', bypass: ['AzureServices'], virtual_network_subnet_ids: ['${data.azurerm_subnet.node-subnet.id}'] },
    });
    expect(terraform.resource.azurerm_storage_container['model-container-llama-3-1-70b-instruct']).toMatchObject({
      name: 'llama-3-1-70b-instruct',
      storage_account_id: '${azurerm_storage_account.model-bucket.id}',
      container_access_type: 'private',
    });
  });

  it('stops the plan before closing the storage account to a node subnet without the Microsoft.Storage service endpoint', () => {
    const subnet = terraformOf(fleet, 'staging').data.azurerm_subnet['node-subnet'];

    expect(subnet).toMatchObject({
      resource_group_name: '${element(split("/", data.azurerm_kubernetes_cluster.cluster.agent_pool_profile[0].vnet_subnet_id), 4)}',
      virtual_network_name: '${element(split("/", data.azurerm_kubernetes_cluster.cluster.agent_pool_profile[0].vnet_subnet_id), 8)}',
      name: '${element(split("/", data.azurerm_kubernetes_cluster.cluster.agent_pool_profile[0].vnet_subnet_id), 10)}',
    });
    expect(subnet.lifecycle.precondition[0].condition).toBe('${(data.azurerm_kubernetes_cluster.cluster.agent_pool_profile[0].vnet_subnet_id != null)}');
    expect(subnet.lifecycle.postcondition[0].condition).toBe('${contains(self.service_endpoints, "Microsoft.Storage") || contains(self.service_endpoints, "Microsoft.Storage.Global")}');
  });

  it("outputs one client id per model; a ServiceAccount carries its own model's id once declared, and nothing before", () => {
    const clientId = '1b4e28ba-2fa1-11d2-883f-0016d3cca427';
    const declared = withEnvironment('staging', (environment) => ({ ...environment, workloadIdentityClientIds: { 'llama-3-1-70b-instruct': clientId } }));

    const terraform = terraformOf(fleet, 'staging');
    const before = kubernetesObjects(fleet, 'staging/kubernetes/llama-3-1-70b-instruct.yaml');
    const after = kubernetesObjects(declared, 'staging/kubernetes/llama-3-1-70b-instruct.yaml');
    const other = kubernetesObjects(declared, 'staging/kubernetes/llama-3-1-8b-instruct.yaml');

    expect(terraform.output.model_reader_identities.value).toEqual({
      'llama-3-1-70b-instruct': '${azurerm_user_assigned_identity.reader-llama-3-1-70b-instruct.client_id}',
      'llama-3-1-8b-instruct': '${azurerm_user_assigned_identity.reader-llama-3-1-8b-instruct.client_id}',
    });
    expect(serviceAccount(before).metadata.annotations).not.toHaveProperty('azure.workload.identity/client-id');
    expect(podSpec(before).metadata.labels).not.toHaveProperty('azure.workload.identity/use');
    expect(serviceAccount(after).metadata.annotations['azure.workload.identity/client-id']).toBe(clientId);
    expect(podSpec(after).metadata.labels['azure.workload.identity/use']).toBe('true');
    expect(serviceAccount(other).metadata.annotations).not.toHaveProperty('azure.workload.identity/client-id');
  });

  it("points vLLM at the model's own container, where its identity may read", () => {
    const terraform = terraformOf(fleet, 'staging');
    const pod = podSpec(kubernetesObjects(fromObjectStore(fleet, 'staging'), 'staging/kubernetes/llama-3-1-70b-instruct.yaml')).spec;

    expect(pod.containers[0].args[0]).toBe('az://llama-3-1-70b-instruct/v1');
    expect(pod.containers[0].env).toContainEqual({ name: 'AZURE_STORAGE_ACCOUNT_NAME', value: 'acmellmopsstaging' });
    expect(terraform.resource.azurerm_role_assignment['reader-blobs-llama-3-1-70b-instruct']).toMatchObject({
      role_definition_name: 'Storage Blob Data Reader',
      scope: '${azurerm_storage_container.model-container-llama-3-1-70b-instruct.resource_manager_id}',
    });
    expect(terraform.terraform.backend.azurerm).toMatchObject({ storage_account_name: 'acmetfstate', use_azuread_auth: true });
  });
});

describe('DigitalOcean stack (research)', () => {
  it('adds an autoscaled DOKS GPU pool, a private versioned Spaces bucket and a read-only key', () => {
    const terraform = terraformOf(fleet, 'research');

    expect(terraform.resource.digitalocean_kubernetes_node_pool['node-pool-h100']).toMatchObject({
      name: 'research-h100',
      size: 'gpu-h100x1-80gb',
      auto_scale: true,
      min_nodes: 1,
      max_nodes: 3,
      labels: poolShapeLabels('nvidia-h100-80gb', 1),
      taint: [{ key: 'nvidia.com/gpu', value: 'present', effect: 'NoSchedule' }],
    });
    expect(terraform.resource.digitalocean_spaces_bucket['model-bucket']).toMatchObject({ name: 'acme-llmops-research-models', region: 'nyc3', acl: 'private', versioning: { enabled: true } });
    expect(terraform.resource.digitalocean_spaces_key['model-reader-key'].grant).toEqual([{ bucket: '${digitalocean_spaces_bucket.model-bucket.name}', permission: 'read' }]);
    expect(terraform.output['spaces-model-reader-secret-key'].sensitive).toBe(true);
    expect(terraform.terraform.backend.s3).toMatchObject({ bucket: 'acme-terraform-state', endpoints: { s3: 'https://nyc3.digitaloceanspaces.com' }, skip_credentials_validation: true });
  });

  it('gives vLLM the Spaces endpoint and the key from a Secret (Spaces has no workload identity)', () => {
    const objects = kubernetesObjects(fromObjectStore(fleet, 'research'), 'research/kubernetes/llama-3-1-70b-instruct.yaml');
    const container = podSpec(objects).spec.containers[0];

    expect(container.args[0]).toBe('s3://acme-llmops-research-models/models/llama-3-1-70b-instruct/v1');
    expect(container.env).toEqual(
      expect.arrayContaining([
        { name: 'AWS_ENDPOINT_URL', value: 'https://nyc3.digitaloceanspaces.com' },
        { name: 'RUNAI_STREAMER_S3_USE_VIRTUAL_ADDRESSING', value: '0' },
        { name: 'AWS_ACCESS_KEY_ID', valueFrom: { secretKeyRef: { name: 'spaces-model-reader', key: 'access-key-id', optional: false } } },
        { name: 'AWS_SECRET_ACCESS_KEY', valueFrom: { secretKeyRef: { name: 'spaces-model-reader', key: 'secret-access-key', optional: false } } },
      ]),
    );
    expect(serviceAccount(objects).metadata.annotations).not.toHaveProperty('eks.amazonaws.com/role-arn');
  });
});

describe('node disks', () => {
  it("follow GKE's allocatable formula: its own 100 GiB example node offers 43.8 GiB", () => {
    // GKE docs, "Plan GKE Standard node sizes": capacity 98,831,908 KiB, allocatable 47,060,071,478 bytes.
    const measured = 47060071478 / 2 ** 30;
    // The OS partitions are cluster-autoscaler's estimate: a little on the safe side.
    expect(gkeBootDiskAllocatableGiB(100)).toBeLessThanOrEqual(measured);
    expect(gkeBootDiskAllocatableGiB(100)).toBeGreaterThan(measured - 0.1);
  });

  it('give every pool ephemeral storage its nodes can allocate to all the replicas that may share them, weights, /tmp and HOME included', () => {
    const problems: string[] = [];
    for (const environment of fleet.environments) {
      const terraform = terraformOf(fleet, environment.name);
      environment.nodePools.forEach((pool, index) => {
        const replicas = fleet.deployments.filter(
          (deployment) => deployment.environment.name === environment.name && deployment.spec.gpu.type === pool.gpuType && pool.gpusPerNode >= deployment.spec.gpu.count,
        );
        if (replicas.length === 0) return;
        const podsGiB = Math.max(
          ...replicas.map((deployment) => {
            const request = podSpec(kubernetesObjects(fleet, `${environment.name}/kubernetes/${deployment.model.name}.yaml`)).spec.containers[0].resources.requests['ephemeral-storage'];
            return Math.floor(pool.gpusPerNode / deployment.spec.gpu.count) * Number(String(request).replace('Gi', ''));
          }),
        );
        const json = JSON.stringify(terraform);
        const gke = terraform.resource.google_container_node_pool?.[`node-pool-${pool.name}`]?.node_config;
        const eks = terraform.resource.aws_eks_node_group?.[`node-pool-${pool.name}`];
        const aks = terraform.resource.azurerm_kubernetes_cluster_node_pool?.[`node-pool-${pool.name}`];
        const allocatable = gke
          ? gke.ephemeral_storage_local_ssd_config
            ? gke.ephemeral_storage_local_ssd_config.local_ssd_count * 375 * 0.8
            : gkeBootDiskAllocatableGiB(gke.disk_size_gb)
          : eks
            ? eks.disk_size * 0.9 - 1
            : aks
              ? aks.os_disk_size_gb * 0.9
              : Infinity;
        if (allocatable < podsGiB) problems.push(`${environment.name}/${pool.name}: ${allocatable.toFixed(1)} GiB allocatable < ${podsGiB} GiB requested (${index}, ${json.length})`);
      });
    }

    expect(problems).toEqual([]);
  });

  it("put the A3's bundled local SSDs under the pods' ephemeral storage, and size boot disks for the replicas and two images", () => {
    const production = terraformOf(fleet, 'production').resource.google_container_node_pool;
    const seventy = fleet.models.find((model) => model.name === 'llama-3-1-70b-instruct')!;

    expect(modelCacheGiB(seventy)).toBe(144);
    // a3-highgpu-8g bundles 16 × 375 GiB local SSDs; the boot disk then holds the OS only.
    expect(production['node-pool-h100x8'].node_config).toMatchObject({ disk_size_gb: 100, ephemeral_storage_local_ssd_config: { local_ssd_count: 16 } });
    // g2-standard-8 with the 8B (37 GiB) or Qwen (streamed: 16 GiB): 85 % of 180 GiB holds 37 + 2 × 45 GiB images + 20 GiB system.
    expect(production['node-pool-l4-ondemand'].node_config.disk_size_gb).toBe(180);
    expect(production['node-pool-l4-ondemand'].node_config).not.toHaveProperty('ephemeral_storage_local_ssd_config');
  });

  it('count every replica a node can hold when several share it', () => {
    const variant = withEnvironment('dev', (environment) => ({
      ...environment,
      nodePools: [{ name: 'l4x4', gpuType: 'nvidia-l4', gpusPerNode: 4, capacity: 'on-demand', minNodes: 0, maxNodes: 2 }, environment.nodePools[1]],
    }));

    const disk = terraformOf(variant, 'dev').resource.aws_eks_node_group['node-pool-l4x4'].disk_size;
    const single = terraformOf(fleet, 'dev').resource.aws_eks_node_group['node-pool-l4-spot'].disk_size;

    // Four 8B replicas of 37 GiB each on one node.
    expect(disk * 0.9 - 1).toBeGreaterThanOrEqual(4 * 37);
    expect(disk).toBeGreaterThan(single);
  });
});

describe('every GPU type on every cloud', () => {
  const offered = CLOUDS.flatMap((cloud) => GPU_TYPES.filter((gpuType) => cloudPlugin(cloud).gpuMachines[gpuType]).map((gpuType) => [cloud, gpuType] as const));

  it.each(offered)('%s %s: the node pool carries the pool-shape labels and the GPU taint', (cloud: Cloud, gpuType: GpuType) => {
    const template = fleet.environments.find((environment) => environment.cloud === cloud)!;
    const machine = cloudPlugin(cloud).gpuMachines[gpuType]![0];
    const variant = withEnvironment(template.name, (environment) => ({
      ...environment,
      nodePools: [{ name: 'probe', gpuType, gpusPerNode: machine.gpus, capacity: 'on-demand', minNodes: 0, maxNodes: 1, zones: cloud === 'gcp' ? [`${template.region}-a`] : undefined }],
    }));

    const pools = Object.values(terraformOf(variant, template.name).resource as Json)
      .flatMap((byName) => Object.values(byName as Json))
      .filter((resource) => 'taint' in resource || 'node_taints' in resource || 'node_config' in resource);

    expect(pools).toHaveLength(1);
    const pool = pools[0];
    const labels = pool.labels ?? pool.node_labels ?? pool.node_config?.labels;
    const taints = JSON.stringify(pool.taint ?? pool.node_config?.taint ?? pool.node_taints);
    expect(labels).toEqual(poolShapeLabels(gpuType, machine.gpus));
    expect(taints).toContain(GPU_NODE_TAINT.key);
    expect(taints).toContain(GPU_NODE_TAINT.value);
    expect(taints).toMatch(/NO_SCHEDULE|NoSchedule/);
  });
});

describe('the generated files', () => {
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

  it('imports cdktf providers by submodule path only, and cdktf only in Terraform modules', async () => {
    const offenders: string[] = [];
    for (const file of await sourceFiles(path.join(REPO_ROOT, 'src'))) {
      const text = await readFile(file, 'utf8');
      const relative = path.relative(REPO_ROOT, file);
      if (/from ['"]@cdktf\/provider-[a-z]+['"]/.test(text)) offenders.push(`${relative}: imports a provider package root`);
      const terraformModule = relative.startsWith(path.join('src', 'synth', 'terraform')) || /^src\/clouds\/([a-z]+\/terraform|cloud-terraform|terraform-registry)\.ts$/.test(relative);
      if (!terraformModule && !relative.startsWith(path.join('src', 'testing')) && /from ['"](cdktf|@cdktf\/[^'"]+)['"]/.test(text))
        offenders.push(`${relative}: imports cdktf outside a Terraform module`);
    }

    expect(offenders).toEqual([]);
  });

  it('keeps cloud names out of code outside src/clouds (a cloud is one plug-in folder)', async () => {
    const offenders: string[] = [];
    for (const file of await sourceFiles(path.join(REPO_ROOT, 'src'))) {
      const relative = path.relative(REPO_ROOT, file);
      if (relative.startsWith(path.join('src', 'clouds')) || relative.endsWith('.test.ts') || relative.startsWith(path.join('src', 'testing'))) continue;
      const text = await readFile(file, 'utf8');
      for (const cloud of CLOUDS) {
        if (new RegExp(`['"\`]${cloud}['"\`]`).test(text)) offenders.push(`${relative}: names ${cloud}`);
      }
    }

    expect(offenders).toEqual([]);
  });
});
