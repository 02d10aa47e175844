import type { z } from 'zod';
import { DeclarationError, validate } from './issues.ts';

/**
 * Makes a `define…` function: it takes the declaration as written (defaults
 * optional) and returns the validated value with defaults filled in, or throws a
 * DeclarationError listing every problem.
 */
export function definer<S extends z.ZodType>(kind: string, schema: S): (declaration: z.input<S>) => z.output<S> {
  return (declaration) => {
    const result = validate(schema, declaration);
    if (!result.ok) throw new DeclarationError(kind, result.issues);
    return result.value;
  };
}
