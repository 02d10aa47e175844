/**
 * GitHub's published GraphQL schema (@octokit/graphql-schema, schema.json: the
 * introspection of api.github.com) as a contract for the stand-in: a request's
 * document is parsed and validated against it by graphql-js, and executed
 * against it with the stand-in's resolvers, so variables are coerced to the
 * schema's input types and answers take the shape of its payload types.
 * Errors are reported as GitHub reports them: HTTP 200 with `errors`.
 */
import { schema as published } from '@octokit/graphql-schema';
import { buildClientSchema, execute, GraphQLError, parse, validate, type DocumentNode, type IntrospectionQuery } from 'graphql';

const schema = buildClientSchema(published.json as unknown as IntrospectionQuery);

/** Mutation and query fields the stand-in serves, by name: (arguments) → the value of that field. */
export type GraphQLResolvers = Record<string, (args: any) => unknown>;

interface GitHubGraphQLError {
  readonly type?: string;
  readonly message: string;
  readonly path?: readonly (string | number)[];
  readonly locations?: readonly { line: number; column: number }[];
}

const asGitHubError = (error: GraphQLError, type?: string): GitHubGraphQLError => ({
  ...(type ? { type } : {}),
  message: error.message,
  ...(error.path ? { path: error.path } : {}),
  ...(error.locations ? { locations: error.locations } : {}),
});

/** Answers one GraphQL request: `{ data, errors }` as api.github.com does. */
export async function executeGraphQL(request: { query?: string; variables?: Record<string, unknown> }, resolvers: GraphQLResolvers): Promise<{ data?: unknown; errors?: GitHubGraphQLError[] }> {
  let document: DocumentNode;
  try {
    document = parse(request.query ?? '');
  } catch (error) {
    return { errors: [asGitHubError(error as GraphQLError)] };
  }
  const invalid = validate(schema, document);
  if (invalid.length > 0) return { errors: invalid.map((error) => asGitHubError(error)) };
  const result = await execute({
    schema,
    document,
    rootValue: resolvers,
    variableValues: request.variables ?? {},
    fieldResolver: (source, args, _context, info) => {
      const value = (source as Record<string, unknown> | null)?.[info.fieldName];
      // Only the root fields the stand-in serves resolve; any other is an error, not a silent null.
      if (info.parentType !== schema.getMutationType() && info.parentType !== schema.getQueryType()) return value;
      if (typeof value !== 'function') throw new GraphQLError(`the stand-in does not serve ${info.parentType.name}.${info.fieldName}`);
      return (value as (args: unknown) => unknown)(args);
    },
  });
  return { ...(result.data ? { data: result.data } : {}), ...(result.errors ? { errors: result.errors.map((error) => asGitHubError(error, 'UNPROCESSABLE')) } : {}) };
}
