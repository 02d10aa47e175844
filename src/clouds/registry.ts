/**
 * The clouds the compiler can target: one line per plug-in. Adding a cloud is
 * its folder (src/clouds/<cloud>/), a line here, a line in
 * terraform-registry.ts, and its cdktf provider package (README, "Add a cloud").
 */
import { z } from 'zod';
import type { GpuType } from '../catalogue/gpus.ts';
import { aws } from './aws/index.ts';
import { azure } from './azure/index.ts';
import type { CloudPlugin, GpuMachine } from './cloud-plugin.ts';
import { digitalocean } from './digitalocean/index.ts';
import { gcp } from './gcp/index.ts';

export const CLOUD_PLUGINS = [aws, gcp, azure, digitalocean] as const;

type Plugins = typeof CLOUD_PLUGINS;

/** The clouds an environment may name (`cloud: 'aws'`). */
export type Cloud = Plugins[number]['name'];
export const CLOUDS = CLOUD_PLUGINS.map((plugin) => plugin.name) as Cloud[];
export const Cloud = z.enum(CLOUDS as [Cloud, ...Cloud[]]);

/** One strict object schema per cloud: the common fields and that cloud's own (the members of the Environment union). */
export type CloudEnvironmentSchemas<Common extends z.core.$ZodShape> = SchemasOf<Plugins, Common>;

/** Maps a tuple of plug-ins to a tuple of schemas (a mapped type keeps a tuple only over a type parameter). */
type SchemasOf<List extends readonly unknown[], Common extends z.core.$ZodShape> = {
  -readonly [K in keyof List]: List[K] extends { readonly environmentFields: infer Fields extends z.core.$ZodShape } ? z.ZodObject<Common & Fields, z.core.$strict> : never;
};

const BY_NAME: ReadonlyMap<string, CloudPlugin> = new Map(CLOUD_PLUGINS.map((plugin) => [plugin.name, plugin as CloudPlugin]));

/** The plug-in of a cloud. */
export function cloudPlugin(cloud: Cloud): CloudPlugin {
  return BY_NAME.get(cloud)!;
}

/**
 * The machine carrying exactly `gpusPerNode` GPUs of a type on a cloud, or
 * undefined when the cloud does not sell that shape.
 */
export function machineFor(cloud: Cloud, gpuType: GpuType, gpusPerNode: number): GpuMachine | undefined {
  return cloudPlugin(cloud).gpuMachines[gpuType]?.find((machine) => machine.gpus === gpusPerNode);
}
