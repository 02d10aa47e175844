/**
 * An offline schema check of Terraform JSON against the pinned provider
 * packages: each prebuilt cdktf provider ships a `.jsii` type description with
 * every resource, data source, provider block and nested block, each argument
 * and whether it is required. Terraform itself cannot download providers here,
 * so this is how a test learns that an argument was renamed or became required
 * between provider versions.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { REPO_ROOT } from './fixture-fleet.ts';

/** The prebuilt provider packages the project depends on (every cloud plug-in's). */
async function providerPackages(): Promise<string[]> {
  const manifest = JSON.parse(await readFile(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
  return Object.keys(manifest.dependencies).filter((name) => name.startsWith('@cdktf/provider-'));
}

interface Argument {
  readonly required: boolean;
  /** The nested block's type, when the argument is a block. */
  readonly block?: string;
}

/** One block type: its arguments by Terraform name. */
type Block = ReadonlyMap<string, Argument>;

export interface ProviderSchemas {
  /** Terraform type (`aws_eks_node_group`) → block type of its configuration. */
  readonly resources: ReadonlyMap<string, string>;
  readonly dataSources: ReadonlyMap<string, string>;
  /** Provider name (`aws`) → block type of its configuration. */
  readonly providers: ReadonlyMap<string, string>;
  readonly blocks: ReadonlyMap<string, Block>;
}

interface JsiiType {
  readonly kind: string;
  readonly fqn: string;
  readonly base?: string;
  readonly datatype?: boolean;
  readonly interfaces?: string[];
  readonly docs?: { summary?: string; remarks?: string };
  readonly initializer?: { parameters?: { name: string; type: { fqn?: string } }[] };
  readonly properties?: { name: string; optional?: boolean; docs?: { summary?: string; remarks?: string }; type: unknown }[];
}

const BASES = { 'cdktf.TerraformResource': 'resources', 'cdktf.TerraformDataSource': 'dataSources', 'cdktf.TerraformProvider': 'providers' } as const;

/** The Terraform name a jsii property documents: `…/eks_node_group#cluster_name EksNodeGroup#cluster_name}`. */
function terraformName(property: NonNullable<JsiiType['properties']>[number]): string {
  const docs = `${property.docs?.summary ?? ''} ${property.docs?.remarks ?? ''}`;
  return docs.match(/#([A-Za-z0-9_]+) [A-Za-z0-9]+#/)?.[1] ?? property.name.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);
}

/** The struct a property's type refers to (directly, in a list, or in a union with IResolvable), if any. */
function structOf(type: unknown, structs: ReadonlySet<string>): string | undefined {
  if (type === null || typeof type !== 'object') return undefined;
  const record = type as { fqn?: string; collection?: { elementtype: unknown }; union?: { types: unknown[] } };
  if (record.fqn && structs.has(record.fqn)) return record.fqn;
  if (record.collection) return structOf(record.collection.elementtype, structs);
  if (record.union) return record.union.types.map((member) => structOf(member, structs)).find(Boolean);
  return undefined;
}

/** Reads one provider package's `.jsii` and keeps what the check needs. */
async function readPackage(pkg: string, into: { resources: Map<string, string>; dataSources: Map<string, string>; providers: Map<string, string>; blocks: Map<string, Block> }): Promise<void> {
  const assembly = JSON.parse(await readFile(path.join(REPO_ROOT, 'node_modules', pkg, '.jsii'), 'utf8')) as { types: Record<string, JsiiType> };
  const types = assembly.types;
  const structs = new Set(
    Object.values(types)
      .filter((type) => type.kind === 'interface' && type.datatype)
      .map((type) => type.fqn),
  );
  for (const type of Object.values(types)) {
    const kind = type.kind === 'class' && type.base ? BASES[type.base as keyof typeof BASES] : undefined;
    if (kind) {
      const name = type.docs?.summary?.match(/\{@link \S+ ([a-z0-9_]+)\}/)?.[1];
      const config = type.initializer?.parameters?.find((parameter) => parameter.name === 'config')?.type.fqn;
      if (name && config) into[kind].set(name, config);
    }
  }
  for (const fqn of structs) {
    const block = new Map<string, Argument>();
    const collect = (structFqn: string) => {
      const struct = types[structFqn];
      if (!struct) return;
      for (const parent of struct.interfaces ?? []) collect(parent);
      for (const property of struct.properties ?? []) block.set(terraformName(property), { required: !property.optional, block: structOf(property.type, structs) });
    };
    collect(fqn);
    into.blocks.set(fqn, block);
  }
}

let loaded: Promise<ProviderSchemas> | undefined;

/** The schemas of every provider package the plug-ins use, read once per process. */
export function providerSchemas(): Promise<ProviderSchemas> {
  loaded ??= (async () => {
    const schemas = { resources: new Map<string, string>(), dataSources: new Map<string, string>(), providers: new Map<string, string>(), blocks: new Map<string, Block>() };
    // One package at a time: the AWS description alone is 130 MB of JSON.
    for (const pkg of await providerPackages()) await readPackage(pkg, schemas);
    return schemas;
  })();
  return loaded;
}

/** Terraform's meta-arguments, valid in every resource and data source. */
const META_ARGUMENTS = new Set(['//', 'count', 'depends_on', 'for_each', 'lifecycle', 'provider', 'provisioner', 'connection']);

/** Problems of one block: unknown arguments, missing required ones, and the same for its nested blocks. */
function blockProblems(where: string, body: Record<string, unknown>, blockType: string, schemas: ProviderSchemas, meta: ReadonlySet<string>): string[] {
  const block = schemas.blocks.get(blockType);
  if (!block) return [`${where}: no schema for ${blockType}`];
  const problems: string[] = [];
  for (const [key, value] of Object.entries(body)) {
    if (meta.has(key)) continue;
    const argument = block.get(key);
    if (!argument) {
      problems.push(`${where}: unknown argument "${key}"`);
      continue;
    }
    // A nested block is an object or a list of objects; a string is an expression Terraform evaluates.
    if (argument.block && value !== null && typeof value === 'object') {
      const items = Array.isArray(value) ? value : [value];
      items.forEach((item, index) => {
        if (item !== null && typeof item === 'object' && !Array.isArray(item)) {
          problems.push(...blockProblems(`${where}.${key}${Array.isArray(value) ? `[${index}]` : ''}`, item as Record<string, unknown>, argument.block!, schemas, new Set()));
        }
      });
    }
  }
  for (const [key, argument] of block) {
    if (argument.required && !(key in body)) problems.push(`${where}: missing required argument "${key}"`);
  }
  return problems;
}

/** Every problem of a synthesized `cdk.tf.json` against the provider packages' schemas. */
export function terraformSchemaProblems(terraform: Record<string, any>, schemas: ProviderSchemas): string[] {
  const problems: string[] = [];
  for (const [kind, section, known] of [
    ['resource', terraform.resource ?? {}, schemas.resources],
    ['data', terraform.data ?? {}, schemas.dataSources],
  ] as const) {
    for (const [type, byName] of Object.entries(section as Record<string, Record<string, Record<string, unknown>>>)) {
      const blockType = known.get(type);
      if (!blockType) {
        problems.push(`${kind}.${type}: unknown ${kind === 'resource' ? 'resource' : 'data source'} type`);
        continue;
      }
      for (const [name, body] of Object.entries(byName)) problems.push(...blockProblems(`${kind}.${type}.${name}`, body, blockType, schemas, META_ARGUMENTS));
    }
  }
  for (const [name, blocks] of Object.entries((terraform.provider ?? {}) as Record<string, Record<string, unknown>[]>)) {
    const blockType = schemas.providers.get(name);
    if (!blockType) {
      problems.push(`provider.${name}: unknown provider`);
      continue;
    }
    blocks.forEach((body, index) => {
      problems.push(...blockProblems(`provider.${name}[${index}]`, body, blockType, schemas, new Set()));
    });
  }
  return problems;
}
