/** Deterministic YAML: fixed line handling, no anchors (JSON is src/fleet/stable-json.ts). */
import { stringify } from 'yaml';

/** YAML documents separated by `---`, keys in the order given (callers sort when they want to). */
export function yamlDocuments(documents: readonly unknown[]): string {
  return documents.map((document) => stringify(document, { lineWidth: 0, aliasDuplicateObjects: false })).join('---\n');
}
