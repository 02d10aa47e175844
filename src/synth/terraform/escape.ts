/**
 * Terraform reads every string of a `.tf.json` file as a template: `${…}`
 * interpolates and `%{…}` runs a directive, even in a cluster name. A string
 * that comes from a declaration is written with those escaped (`$${`, `%%{`:
 * Terraform JSON syntax, "String templates"), so Terraform sees the literal.
 */

/** One string with Terraform's template sequences escaped. */
export function escapeTerraformString(value: string): string {
  // Replacement functions: in a replacement string, '$$' would mean a single '$'.
  return value.replace(/\$\{/g, () => '$${').replace(/%\{/g, () => '%%{');
}

/** A declaration value with every string in it escaped for Terraform (objects and arrays copied). */
export function escapeTerraformStrings<T>(value: T): T {
  if (typeof value === 'string') return escapeTerraformString(value) as T;
  if (Array.isArray(value)) return value.map(escapeTerraformStrings) as T;
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, entry]) => [escapeTerraformString(key), escapeTerraformStrings(entry)])) as T;
  }
  return value;
}
