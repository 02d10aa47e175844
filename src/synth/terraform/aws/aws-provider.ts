/**
 * AWS: EKS managed node groups on the NVIDIA AMI, an S3 model bucket and one
 * IRSA role per model server.
 */
import { DataAwsEksCluster } from '@cdktf/provider-aws/lib/data-aws-eks-cluster';
import { DataAwsIamOpenidConnectProvider } from '@cdktf/provider-aws/lib/data-aws-iam-openid-connect-provider';
import { DataAwsIamPolicyDocument } from '@cdktf/provider-aws/lib/data-aws-iam-policy-document';
import { EksNodeGroup } from '@cdktf/provider-aws/lib/eks-node-group';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy';
import { IamRolePolicyAttachment } from '@cdktf/provider-aws/lib/iam-role-policy-attachment';
import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { S3Bucket } from '@cdktf/provider-aws/lib/s3-bucket';
import { S3BucketLifecycleConfiguration } from '@cdktf/provider-aws/lib/s3-bucket-lifecycle-configuration';
import { S3BucketOwnershipControls } from '@cdktf/provider-aws/lib/s3-bucket-ownership-controls';
import { S3BucketPublicAccessBlock } from '@cdktf/provider-aws/lib/s3-bucket-public-access-block';
import { S3BucketServerSideEncryptionConfigurationA as S3BucketServerSideEncryptionConfiguration } from '@cdktf/provider-aws/lib/s3-bucket-server-side-encryption-configuration';
import { S3BucketVersioningA as S3BucketVersioning } from '@cdktf/provider-aws/lib/s3-bucket-versioning';
import { Fn, S3Backend, type TerraformStack } from 'cdktf';
import { GPU_NODE_TAINT, gpuNodeLabels, machineFor } from '../../../catalogue/gpus.ts';
import type { Environment } from '../../../declarations/environment.ts';
import { modelArtifactPrefix, resourceLabels, serviceAccountSubject } from '../../../fleet/naming.ts';
import { awsReaderRoleName } from '../../../fleet/workload-identity.ts';
import { constructId, TERRAFORM_TAINT_EFFECT, type CloudProvider } from '../cloud-provider.ts';

export const awsProvider: CloudProvider<DataAwsEksCluster, S3Bucket> = {
  cloud: 'aws',

  configure(stack, environment) {
    new AwsProvider(stack, 'aws', { region: environment.region, defaultTags: [{ tags: resourceLabels(environment) }] });
    if (environment.stateBackend.type === 's3') {
      const { bucket, key, region } = environment.stateBackend;
      const backend = new S3Backend(stack, { bucket, key, region, encrypt: true });
      // S3-native state locking (Terraform >= 1.10); cdktf 0.21 has no typed field for it.
      backend.addOverride('use_lockfile', true);
    }
  },

  lookUpCluster(stack, environment) {
    return new DataAwsEksCluster(stack, 'cluster', { name: environment.cluster });
  },

  addGpuNodePool(stack, environment, pool, cluster) {
    const machine = machineFor('aws', pool.gpuType, pool.gpusPerNode)!;
    new EksNodeGroup(stack, constructId('node-pool', pool.name), {
      clusterName: cluster.name,
      nodeGroupName: `${environment.name}-${pool.name}`,
      nodeRoleArn: nodeRole(stack, environment).arn,
      subnetIds: cluster.vpcConfig.get(0).subnetIds,
      amiType: 'AL2023_x86_64_NVIDIA',
      instanceTypes: [machine.machineType],
      capacityType: pool.capacity === 'spot' ? 'SPOT' : 'ON_DEMAND',
      diskSize: 200,
      scalingConfig: { minSize: pool.minNodes, maxSize: pool.maxNodes, desiredSize: pool.minNodes },
      labels: gpuNodeLabels(pool.gpuType),
      taint: [{ key: GPU_NODE_TAINT.key, value: GPU_NODE_TAINT.value, effect: TERRAFORM_TAINT_EFFECT[GPU_NODE_TAINT.effect] }],
      updateConfig: { maxUnavailable: 1 },
      tags: resourceLabels(environment, { 'gpu-type': pool.gpuType, 'node-pool': pool.name }),
      // The cluster autoscaler owns the node count between min and max.
      lifecycle: { ignoreChanges: ['scaling_config[0].desired_size'] },
    });
  },

  addModelBucket(stack, environment) {
    const bucket = new S3Bucket(stack, 'model-bucket', { bucket: environment.modelBucket, tags: resourceLabels(environment, { purpose: 'model-artifacts' }) });
    new S3BucketOwnershipControls(stack, 'model-bucket-ownership', { bucket: bucket.id, rule: { objectOwnership: 'BucketOwnerEnforced' } });
    new S3BucketPublicAccessBlock(stack, 'model-bucket-public-access', {
      bucket: bucket.id,
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    });
    new S3BucketVersioning(stack, 'model-bucket-versioning', { bucket: bucket.id, versioningConfiguration: { status: 'Enabled' } });
    new S3BucketServerSideEncryptionConfiguration(stack, 'model-bucket-encryption', {
      bucket: bucket.id,
      rule: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: 'aws:kms' }, bucketKeyEnabled: true }],
    });
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
    });
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
      name: awsReaderRoleName(environment, modelName),
      assumeRolePolicy: trust.json,
      tags: resourceLabels(environment, { model: modelName }),
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
  },
};

/** The IAM role of the GPU nodes, created once per stack. */
function nodeRole(stack: TerraformStack, environment: Environment): IamRole {
  const existing = stack.node.tryFindChild('gpu-node-role');
  if (existing) return existing as IamRole;
  const role = new IamRole(stack, 'gpu-node-role', {
    name: `${environment.cluster}-${environment.name}-gpu-nodes`.slice(0, 64),
    assumeRolePolicy: JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }],
    }),
    tags: resourceLabels(environment),
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
