import type { Cloud } from '../../catalogue/clouds.ts';
import { awsProvider } from './aws/aws-provider.ts';
import { azureProvider } from './azure/azure-provider.ts';
import type { CloudProvider } from './cloud-provider.ts';
import { gcpProvider } from './gcp/gcp-provider.ts';

/** The implementation of the provider interface for each cloud. */
export const CLOUD_PROVIDERS: Readonly<Record<Cloud, CloudProvider>> = {
  aws: awsProvider as CloudProvider,
  gcp: gcpProvider as CloudProvider,
  azure: azureProvider as CloudProvider,
};
