/**
 * AWS Terraform: EKS managed node groups on Bottlerocket's NVIDIA variant in
 * the cluster's private subnets of zones that sell the instance types, with
 * the cluster-autoscaler's scale-from-zero tags on their Auto Scaling groups;
 * an S3 model bucket (TLS only, KMS, versioned, lifecycle after versioning);
 * one IRSA role per model server reading only its model's prefix.
 */
import { AutoscalingGroupTagA as AutoscalingGroupTag } from '@cdktf/provider-aws/lib/autoscaling-group-tag';
import { DataAwsEc2InstanceTypeOfferings } from '@cdktf/provider-aws/lib/data-aws-ec2-instance-type-offerings';
import { DataAwsEksCluster } from '@cdktf/provider-aws/lib/data-aws-eks-cluster';
import { DataAwsIamOpenidConnectProvider } from '@cdktf/provider-aws/lib/data-aws-iam-openid-connect-provider';
import { DataAwsIamPolicyDocument } from '@cdktf/provider-aws/lib/data-aws-iam-policy-document';
import { DataAwsSubnets } from '@cdktf/provider-aws/lib/data-aws-subnets';
import { EksNodeGroup } from '@cdktf/provider-aws/lib/eks-node-group';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy';
import { IamRolePolicyAttachment } from '@cdktf/provider-aws/lib/iam-role-policy-attachment';
import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { S3Bucket } from '@cdktf/provider-aws/lib/s3-bucket';
import { S3BucketLifecycleConfiguration } from '@cdktf/provider-aws/lib/s3-bucket-lifecycle-configuration';
import { S3BucketOwnershipControls } from '@cdktf/provider-aws/lib/s3-bucket-ownership-controls';
import { S3BucketPolicy } from '@cdktf/provider-aws/lib/s3-bucket-policy';
import { S3BucketPublicAccessBlock } from '@cdktf/provider-aws/lib/s3-bucket-public-access-block';
import { S3BucketServerSideEncryptionConfigurationA as S3BucketServerSideEncryptionConfiguration } from '@cdktf/provider-aws/lib/s3-bucket-server-side-encryption-configuration';
import { S3BucketVersioningA as S3BucketVersioning } from '@cdktf/provider-aws/lib/s3-bucket-versioning';
import { Fn, Op, S3Backend, TerraformOutput, type TerraformStack } from 'cdktf';
import { GPU_RESOURCE_NAME } from '../../catalogue/gpus.ts';
import type { Environment } from '../../declarations/environment.ts';
import { modelArtifactPrefix, resourceLabels, serviceAccountSubject } from '../../fleet/naming.ts';
import { constructId, TERRAFORM_TAINT_EFFECT, type CloudTerraform } from '../cloud-terraform.ts';
import { CLUSTER_AUTOSCALER_SERVICE_ACCOUNT, clusterAutoscalerRoleName, nodeGroupName, nodeRoleName, readerRoleName } from './index.ts';

/** The tag EKS puts on private subnets for internal load balancers; GPU nodes stay off public subnets. */
const PRIVATE_SUBNET_TAG = 'kubernetes.io/role/internal-elb';

/** Where the cluster autoscaler reads a node group's labels, taints and resources when it has no node to look at (cluster-autoscaler AWS README). */
const NODE_TEMPLATE_TAG = 'k8s.io/cluster-autoscaler/node-template';

/** The tags the cluster-autoscaler's auto-discovery looks for (cluster-autoscaler AWS README, "Auto-Discovery Setup"; the chart's default `autoDiscovery.tags`). */
const discoveryTags = (cluster: string): Record<string, string> => ({ 'k8s.io/cluster-autoscaler/enabled': 'true', [`k8s.io/cluster-autoscaler/${cluster}`]: 'owned' });

export const awsTerraform: CloudTerraform<DataAwsEksCluster, S3Bucket> = {
  configure(stack, environment) {
    // Tags every resource once; resources add only their own extra tags.
    new AwsProvider(stack, 'aws', { region: environment.region, defaultTags: [{ tags: resourceLabels(environment) }] });
    if (environment.stateBackend.type !== 's3') throw new Error(`aws environments keep state in s3 (got ${environment.stateBackend.type})`);
    const { bucket, key, region } = environment.stateBackend;
    const backend = new S3Backend(stack, { bucket, key, region, encrypt: true });
    // S3-native state locking (Terraform >= 1.10); cdktf 0.21 has no typed field for it.
    backend.addOverride('use_lockfile', true);
  },

  lookUpCluster(stack, environment) {
    return new DataAwsEksCluster(stack, 'cluster', { name: environment.cluster });
  },

  // The cluster-autoscaler's IRSA role: read the Auto Scaling groups, and resize only those tagged as this cluster's
  // (cluster-autoscaler AWS README, IAM policy; the scaling actions restricted by the owned tag as AWS's EKS best
  // practices guide shows).
  addClusterResources(stack, environment, cluster) {
    const issuer = cluster.identity.get(0).oidc.get(0).issuer;
    const oidc = oidcProvider(stack, issuer);
    const { namespace, name } = CLUSTER_AUTOSCALER_SERVICE_ACCOUNT;
    const trust = new DataAwsIamPolicyDocument(stack, 'cluster-autoscaler-trust', {
      statement: [
        {
          actions: ['sts:AssumeRoleWithWebIdentity'],
          principals: [{ type: 'Federated', identifiers: [oidc.arn] }],
          condition: [
            { test: 'StringEquals', variable: `${Fn.replace(issuer, 'https://', '')}:sub`, values: [`system:serviceaccount:${namespace}:${name}`] },
            { test: 'StringEquals', variable: `${Fn.replace(issuer, 'https://', '')}:aud`, values: ['sts.amazonaws.com'] },
          ],
        },
      ],
    });
    const role = new IamRole(stack, 'cluster-autoscaler', { name: clusterAutoscalerRoleName(environment), assumeRolePolicy: trust.json });
    const permissions = new DataAwsIamPolicyDocument(stack, 'cluster-autoscaler-permissions', {
      statement: [
        {
          sid: 'DiscoverNodeGroups',
          actions: [
            'autoscaling:DescribeAutoScalingGroups',
            'autoscaling:DescribeAutoScalingInstances',
            'autoscaling:DescribeLaunchConfigurations',
            'autoscaling:DescribeScalingActivities',
            'ec2:DescribeImages',
            'ec2:DescribeInstanceTypes',
            'ec2:DescribeLaunchTemplateVersions',
            'ec2:GetInstanceTypesFromInstanceRequirements',
            'eks:DescribeNodegroup',
          ],
          resources: ['*'],
        },
        {
          sid: 'ResizeThisClustersNodeGroups',
          actions: ['autoscaling:SetDesiredCapacity', 'autoscaling:TerminateInstanceInAutoScalingGroup'],
          resources: ['*'],
          condition: [{ test: 'StringEquals', variable: `aws:ResourceTag/k8s.io/cluster-autoscaler/${environment.cluster}`, values: ['owned'] }],
        },
      ],
    });
    new IamRolePolicy(stack, 'cluster-autoscaler-permissions-policy', { name: 'scale-node-groups', role: role.id, policy: permissions.json });
    new TerraformOutput(stack, 'cluster_autoscaler_role_arn', { description: "The role the cluster-autoscaler add-on assumes (its ServiceAccount's eks.amazonaws.com/role-arn)", value: role.arn });
  },

  addGpuNodePool(stack, environment, planned, cluster) {
    const { pool, machine, placement } = planned;
    const spot = pool.capacity === 'spot';
    const instanceTypes = spot ? [machine.machineType, ...(machine.spotAlternatives ?? [])] : [machine.machineType];
    const offerings = new DataAwsEc2InstanceTypeOfferings(stack, constructId('node-pool-zones', pool.name), {
      locationType: 'availability-zone',
      filter: [{ name: 'instance-type', values: instanceTypes }],
    });
    const subnets = new DataAwsSubnets(stack, constructId('node-pool-subnets', pool.name), {
      filter: [
        { name: 'vpc-id', values: [cluster.vpcConfig.get(0).vpcId] },
        { name: `tag:${PRIVATE_SUBNET_TAG}`, values: ['1'] },
        { name: 'availability-zone', values: placement.zones.length > 0 ? [...placement.zones] : offerings.locations },
      ],
    });
    const group = new EksNodeGroup(stack, constructId('node-pool', pool.name), {
      clusterName: cluster.name,
      nodeGroupName: nodeGroupName(environment, pool),
      nodeRoleArn: nodeRole(stack, environment).arn,
      subnetIds: subnets.ids,
      // Driver and NVIDIA device plugin come with the image.
      amiType: 'BOTTLEROCKET_x86_64_NVIDIA',
      instanceTypes,
      capacityType: spot ? 'SPOT' : 'ON_DEMAND',
      // On Bottlerocket, EKS applies the disk size to the data volume that holds images and pod storage.
      diskSize: planned.storage.bootDiskGiB,
      scalingConfig: { minSize: pool.minNodes, maxSize: pool.maxNodes, desiredSize: pool.minNodes },
      labels: { ...planned.labels },
      taint: planned.taints.map((taint) => ({ key: taint.key, value: taint.value, effect: TERRAFORM_TAINT_EFFECT[taint.effect] })),
      updateConfig: { maxUnavailable: 1 },
      tags: { 'gpu-type': pool.gpuType, 'node-pool': pool.name },
      lifecycle: {
        // The cluster autoscaler owns the node count between min and max.
        ignoreChanges: ['scaling_config[0].desired_size'],
        precondition: [
          {
            condition: Op.gte(Fn.lengthOf(subnets.ids), 1),
            errorMessage: `No private subnet (tag ${PRIVATE_SUBNET_TAG}=1) of the cluster's VPC is in a zone that sells ${instanceTypes.join(', ')}.`,
          },
        ],
      },
    });
    // Managed node group tags are not copied to its Auto Scaling group, where the autoscaler looks when scaling from zero:
    // with no node to look at it builds one from these tags, and takes its allocatable to be what they say
    // (cluster-autoscaler aws_manager.go buildNodeFromTemplate: ephemeral-storage only from the resources tag).
    const autoScalingGroup = group.resources.get(0).autoscalingGroups.get(0).name;
    const templateTags: Record<string, string> = {
      ...discoveryTags(environment.cluster),
      ...Object.fromEntries(Object.entries(planned.labels).map(([key, value]) => [`${NODE_TEMPLATE_TAG}/label/${key}`, value])),
      ...Object.fromEntries(planned.taints.map((taint) => [`${NODE_TEMPLATE_TAG}/taint/${taint.key}`, `${taint.value}:${taint.effect}`])),
      [`${NODE_TEMPLATE_TAG}/resources/${GPU_RESOURCE_NAME}`]: String(pool.gpusPerNode),
      ...(planned.storage.allocatableGiB !== undefined ? { [`${NODE_TEMPLATE_TAG}/resources/ephemeral-storage`]: `${planned.storage.allocatableGiB}Gi` } : {}),
    };
    Object.entries(templateTags).forEach(([key, value], index) => {
      new AutoscalingGroupTag(stack, constructId('node-pool-template', pool.name, String(index)), {
        autoscalingGroupName: autoScalingGroup,
        tag: { key, value, propagateAtLaunch: false },
      });
    });
  },

  addModelBucket(stack, environment) {
    const bucket = new S3Bucket(stack, 'model-bucket', { bucket: environment.modelBucket, tags: { purpose: 'model-artifacts' } });
    new S3BucketOwnershipControls(stack, 'model-bucket-ownership', { bucket: bucket.id, rule: { objectOwnership: 'BucketOwnerEnforced' } });
    const publicAccess = new S3BucketPublicAccessBlock(stack, 'model-bucket-public-access', {
      bucket: bucket.id,
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    });
    const versioning = new S3BucketVersioning(stack, 'model-bucket-versioning', { bucket: bucket.id, versioningConfiguration: { status: 'Enabled' } });
    new S3BucketServerSideEncryptionConfiguration(stack, 'model-bucket-encryption', {
      bucket: bucket.id,
      rule: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: 'aws:kms' }, bucketKeyEnabled: true }],
    });
    // The noncurrent-version rules need versioning to exist first (aws provider docs, s3_bucket_lifecycle_configuration).
    new S3BucketLifecycleConfiguration(stack, 'model-bucket-lifecycle', {
      bucket: bucket.id,
      rule: [
        {
          id: 'old-versions-to-glacier',
          status: 'Enabled',
          filter: [{ prefix: '' }],
          noncurrentVersionTransition: [{ noncurrentDays: 30, storageClass: 'GLACIER_IR' }],
          noncurrentVersionExpiration: [{ noncurrentDays: 365 }],
          abortIncompleteMultipartUpload: [{ daysAfterInitiation: 7 }],
        },
      ],
      dependsOn: [versioning],
    });
    const tlsOnly = new DataAwsIamPolicyDocument(stack, 'model-bucket-tls-only', {
      statement: [
        {
          sid: 'DenyInsecureTransport',
          effect: 'Deny',
          principals: [{ type: '*', identifiers: ['*'] }],
          actions: ['s3:*'],
          resources: [bucket.arn, `${bucket.arn}/*`],
          condition: [{ test: 'Bool', variable: 'aws:SecureTransport', values: ['false'] }],
        },
      ],
    });
    new S3BucketPolicy(stack, 'model-bucket-policy', { bucket: bucket.id, policy: tlsOnly.json, dependsOn: [publicAccess] });
    return bucket;
  },

  addModelReader(stack, environment, modelName, cluster, bucket) {
    const issuer = cluster.identity.get(0).oidc.get(0).issuer;
    const oidc = oidcProvider(stack, issuer);
    const trust = new DataAwsIamPolicyDocument(stack, constructId('reader-trust', modelName), {
      statement: [
        {
          actions: ['sts:AssumeRoleWithWebIdentity'],
          principals: [{ type: 'Federated', identifiers: [oidc.arn] }],
          condition: [
            { test: 'StringEquals', variable: `${Fn.replace(issuer, 'https://', '')}:sub`, values: [serviceAccountSubject(environment, modelName)] },
            { test: 'StringEquals', variable: `${Fn.replace(issuer, 'https://', '')}:aud`, values: ['sts.amazonaws.com'] },
          ],
        },
      ],
    });
    const role = new IamRole(stack, constructId('reader', modelName), {
      name: readerRoleName(environment, modelName),
      assumeRolePolicy: trust.json,
      tags: { model: modelName },
    });
    const prefix = modelArtifactPrefix(modelName);
    const read = new DataAwsIamPolicyDocument(stack, constructId('reader-policy', modelName), {
      statement: [
        { sid: 'ReadModelObjects', actions: ['s3:GetObject'], resources: [`${bucket.arn}/${prefix}*`] },
        {
          sid: 'ListModelPrefix',
          actions: ['s3:ListBucket'],
          resources: [bucket.arn],
          condition: [{ test: 'StringLike', variable: 's3:prefix', values: [prefix, `${prefix}*`] }],
        },
      ],
    });
    new IamRolePolicy(stack, constructId('reader-read', modelName), { name: 'read-model-artifacts', role: role.id, policy: read.json });
    return role.arn;
  },
};

/** The IAM role of the GPU nodes, created once per stack. */
function nodeRole(stack: TerraformStack, environment: Environment): IamRole {
  const existing = stack.node.tryFindChild('gpu-node-role');
  if (existing) return existing as IamRole;
  const role = new IamRole(stack, 'gpu-node-role', {
    name: nodeRoleName(environment),
    assumeRolePolicy: JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }],
    }),
  });
  for (const policy of ['AmazonEKSWorkerNodePolicy', 'AmazonEKS_CNI_Policy', 'AmazonEC2ContainerRegistryReadOnly']) {
    new IamRolePolicyAttachment(stack, constructId('gpu-node-role', policy), { role: role.name, policyArn: `arn:aws:iam::aws:policy/${policy}` });
  }
  return role;
}

/** The cluster's OIDC provider (IRSA), looked up once per stack. */
function oidcProvider(stack: TerraformStack, issuer: string): DataAwsIamOpenidConnectProvider {
  const existing = stack.node.tryFindChild('cluster-oidc');
  return (existing as DataAwsIamOpenidConnectProvider) ?? new DataAwsIamOpenidConnectProvider(stack, 'cluster-oidc', { url: issuer });
}
