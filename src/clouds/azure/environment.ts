/** The environment fields of an Azure (AKS) environment. */
import { z } from 'zod';
import { DnsLabel } from '../../declarations/dns-label.ts';
import { text } from '../../declarations/bounds.ts';

/** Terraform state in an Azure storage container, read with Entra ID (no account keys). */
export const AzurermStateBackend = z.strictObject({
  type: z.literal('azurerm'),
  resourceGroupName: text(90),
  storageAccountName: z.string().regex(/^[a-z0-9]{3,24}$/),
  containerName: z.string().min(3).max(63),
  /** State blob name. */
  key: text(1024),
});

export const AZURE_ENVIRONMENT_FIELDS = {
  cloud: z.literal('azure'),
  /** Resource group of the cluster; the model storage account and identities are created in it. */
  resourceGroup: text(90),
  /**
   * Client id of each model's reader identity, by model name: the Terraform
   * output `model_reader_identities` of this environment's stack (Azure assigns
   * client ids when the identity is created, so they are copied here once).
   * A model without one runs without Azure credentials. Default: none.
   */
  workloadIdentityClientIds: z.record(DnsLabel, z.uuid()).default({}),
  /** Terraform remote state backend: an Azure storage container. */
  stateBackend: z.discriminatedUnion('type', [AzurermStateBackend]),
};
