/**
 * GitHub's published REST description as a contract: finds the operation of a
 * request, validates requests and responses against it, and builds
 * schema-complete example objects that the stand-in overlays with its real
 * state. The description is the vendored subset of @octokit/openapi's
 * api.github.com.json holding the operations our doubles serve
 * (src/testing/github-api/); an operation or component outside it is an
 * error naming the command that regenerates it, never silently accepted.
 */
import { readFileSync } from 'node:fs';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { VENDORED_DESCRIPTION } from './github-api/operations.ts';

type Schema = Record<string, unknown>;
interface Parameter {
  name: string;
  in: string;
  required?: boolean;
  schema?: Schema;
}
interface Operation {
  parameters?: (Parameter | { $ref: string })[];
  requestBody?: { content: Record<string, { schema: Schema }> };
  responses: Record<string, { $ref?: string; content?: Record<string, { schema: Schema }> }>;
}
interface Spec {
  'x-vendored': { regenerate: string };
  paths: Record<string, Record<string, Operation>>;
  components: Record<string, Record<string, unknown>>;
}

const spec: Spec = JSON.parse(readFileSync(VENDORED_DESCRIPTION, 'utf8'));
/** What to do when the vendored description lacks something a double needs. */
const REGENERATE = `add the operation to src/testing/github-api/operations.ts and regenerate the vendored description: ${spec['x-vendored'].regenerate}`;
/**
 * OpenAPI 3.0's `nullable: true` beside `allOf`/`oneOf` without a `type` (the issue schema's `milestone`, the body of POST …/issues):
 * Ajv takes `nullable` only beside a `type`, so such a node becomes `anyOf: [node, null]`, which means the same.
 */
function nullableWithoutType(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(nullableWithoutType);
  if (!node || typeof node !== 'object') return node;
  const entries = Object.fromEntries(Object.entries(node).map(([key, value]) => [key, nullableWithoutType(value)]));
  if (entries.nullable !== true || 'type' in entries) return entries;
  const { nullable: _, ...rest } = entries;
  return { anyOf: [rest, { type: 'null' }] };
}
spec.components = nullableWithoutType(spec.components) as Spec['components'];
spec.paths = nullableWithoutType(spec.paths) as Spec['paths'];
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;
const ajv = addFormats(new Ajv({ strict: false, allErrors: true, logger: false }));
const coercingAjv = addFormats(new Ajv({ strict: false, allErrors: true, logger: false, coerceTypes: true }));
for (const instance of [ajv, coercingAjv]) instance.addSchema({ components: spec.components }, 'gh');

/** Resolves a local `$ref` of the description. */
function resolve<T>(value: T | { $ref: string }): T {
  let current: unknown = value;
  while (current && typeof current === 'object' && '$ref' in current) {
    const ref = (current as { $ref: string }).$ref;
    const pointer = ref.replace(/^#\//, '').split('/');
    current = pointer.reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key.replace(/~1/g, '/').replace(/~0/g, '~')], spec);
    if (current === undefined) throw new Error(`${ref} is not in the vendored GitHub description (${VENDORED_DESCRIPTION}): ${REGENERATE}`);
  }
  return current as T;
}

/** Rewrites `#/components/...` refs to the registered schema id. */
const rooted = (schema: Schema): Schema => JSON.parse(JSON.stringify(schema).replace(/"\$ref":"#\//g, '"$ref":"gh#/'));

const validators = new Map<string, ValidateFunction>();
function validator(key: string, schema: Schema, coerce = false): ValidateFunction {
  const cacheKey = `${coerce}:${key}`;
  if (!validators.has(cacheKey)) validators.set(cacheKey, (coerce ? coercingAjv : ajv).compile(rooted(schema)));
  return validators.get(cacheKey)!;
}

const describe = (validate: ValidateFunction) =>
  (validate.errors ?? [])
    .slice(0, 5)
    .map((error) => `${error.instancePath || '/'} ${error.message}`)
    .join('; ');

export interface MatchedOperation<Key extends string = string> {
  /** `<method> <template>`, as the double lists it. */
  readonly key: Key;
  readonly template: string;
  readonly method: string;
  readonly params: Record<string, string>;
  readonly operation: Operation;
}

/**
 * The operation of `method pathname` among those a double serves (`<method> <template>`, first match wins), or undefined when it
 * serves none. Throws when a served operation is not in the vendored description: it would go unchecked.
 */
export function matchOperation<Key extends string>(method: string, pathname: string, served: readonly Key[]): MatchedOperation<Key> | undefined {
  for (const key of served) {
    const [verb, template] = key.split(' ') as [string, string];
    if (verb !== method.toLowerCase()) continue;
    const names: string[] = [];
    const pattern = new RegExp(
      `^${template.replace(/\{(\w+)\}/g, (_, name: string) => {
        names.push(name);
        return '([^/]+)';
      })}$`,
    );
    const match = pattern.exec(pathname);
    if (!match) continue;
    const operation = spec.paths[template]?.[verb];
    if (!operation) throw new Error(`${method.toUpperCase()} ${template} is not in the vendored GitHub description (${VENDORED_DESCRIPTION}): ${REGENERATE}`);
    return { key, template, method: verb, operation, params: Object.fromEntries(names.map((name, index) => [name, decodeURIComponent(match[index + 1]!)])) };
  }
  return undefined;
}

/** Contract problems of a request: unknown or ill-typed parameters, a body the description rejects. */
export function requestViolations(matched: MatchedOperation, query: URLSearchParams, body: unknown): string[] {
  const problems: string[] = [];
  const parameters = (matched.operation.parameters ?? []).map((parameter) => resolve<Parameter>(parameter));
  for (const [name, value] of query) {
    const parameter = parameters.find((candidate) => candidate.in === 'query' && candidate.name === name);
    if (!parameter) {
      problems.push(`query parameter ${name} is not described for ${matched.method.toUpperCase()} ${matched.template}`);
      continue;
    }
    const holder = { value };
    const validate = validator(`${matched.template}:${matched.method}:query:${name}`, { type: 'object', properties: { value: parameter.schema ?? {} } }, true);
    if (!validate(holder)) problems.push(`query parameter ${name}=${value}: ${describe(validate)}`);
  }
  for (const parameter of parameters.filter((candidate) => candidate.in === 'path')) {
    const holder = { value: matched.params[parameter.name] };
    const validate = validator(`${matched.template}:${matched.method}:path:${parameter.name}`, { type: 'object', properties: { value: parameter.schema ?? {} } }, true);
    if (!validate(holder)) problems.push(`path parameter ${parameter.name}: ${describe(validate)}`);
  }
  const described = matched.operation.requestBody?.content['application/json']?.schema;
  if (described) {
    const validate = validator(`${matched.template}:${matched.method}:body`, described);
    if (!validate(body)) problems.push(`request body: ${describe(validate)}`);
  } else if (body !== undefined) {
    problems.push(`${matched.method.toUpperCase()} ${matched.template} takes no body`);
  }
  return problems;
}

/** Contract problems of a response: an undescribed status or a body the described schema rejects. */
export function responseViolations(matched: MatchedOperation, status: number, body: unknown): string[] {
  const response = matched.operation.responses[String(status)];
  if (!response) return [`status ${status} is not described for ${matched.method.toUpperCase()} ${matched.template}`];
  const schema = resolve(response).content?.['application/json']?.schema;
  if (!schema) return body === undefined || body === '' ? [] : [`status ${status} of ${matched.template} has no body in the description`];
  const validate = validator(`${matched.template}:${matched.method}:${status}`, schema);
  return validate(body) ? [] : [`response ${status} body: ${describe(validate)}`];
}

/** A value satisfying `#/components/schemas/<name>`, never null (`nullable-…` schemas too): every required field with a type-correct placeholder. */
export function exampleOf(name: string): Record<string, unknown> {
  return example({ ...resolve<Schema>({ $ref: `#/components/schemas/${name}` }), nullable: false }) as Record<string, unknown>;
}

function example(schemaOrRef: Schema): unknown {
  const schema = resolve(schemaOrRef) as Schema;
  if (schema.allOf) return Object.assign({}, ...(schema.allOf as Schema[]).map(example));
  if (schema.anyOf || schema.oneOf) return example(((schema.anyOf ?? schema.oneOf) as Schema[])[0]!);
  if (schema.nullable) return null;
  if (schema.enum) return (schema.enum as unknown[])[0];
  switch (schema.type) {
    case 'object': {
      const properties = (schema.properties ?? {}) as Record<string, Schema>;
      return Object.fromEntries(((schema.required ?? []) as string[]).map((key) => [key, properties[key] ? example(properties[key]) : {}]));
    }
    case 'array':
      return [];
    case 'integer':
    case 'number':
      return 1;
    case 'boolean':
      return false;
    case 'string':
      return schema.format === 'date-time' ? '2026-01-01T00:00:00Z' : schema.format === 'uri' ? 'https://github.invalid/' : schema.format === 'email' ? 'bot@github.invalid' : 'x';
    default:
      return null;
  }
}
