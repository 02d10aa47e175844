/** The Terraform of each cloud: one line per plug-in (see registry.ts for the rest of a plug-in). */
import { awsTerraform } from './aws/terraform.ts';
import { azureTerraform } from './azure/terraform.ts';
import type { CloudTerraform } from './cloud-terraform.ts';
import { digitaloceanTerraform } from './digitalocean/terraform.ts';
import { gcpTerraform } from './gcp/terraform.ts';
import type { Cloud } from './registry.ts';

export const CLOUD_TERRAFORM: Readonly<Record<Cloud, CloudTerraform>> = {
  aws: awsTerraform as CloudTerraform,
  gcp: gcpTerraform as CloudTerraform,
  azure: azureTerraform as CloudTerraform,
  digitalocean: digitaloceanTerraform as CloudTerraform,
};
