/**
 * Mermaid's own parser under Node, for tests: `mermaid.parse` in the oldest
 * release line GitHub may still render with (10.9, npm alias `mermaid-10`) and
 * the current one (11).
 *
 * `mermaid.parse` sanitizes text with DOMPurify, which works only when a DOM
 * window exists as its module loads (without one it exports a stub, and parse
 * fails with "DOMPurify.addHook is not a function"). DOMPurify's documented
 * setup under Node is a jsdom window, so one is made global before Mermaid is
 * imported. `@mermaid-js/parser` alone cannot stand in: quadrant charts are
 * parsed by Mermaid's own grammar (src/diagrams/quadrant-chart/parser), not by
 * that package's Langium grammars.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { REPO_ROOT } from './fixture-fleet.ts';

export interface MermaidParse {
  /** Mermaid's version, from its package.json. */
  readonly version: string;
  /** Undefined when the diagram parses, else Mermaid's error message. */
  check(diagram: string): Promise<string | undefined>;
}

interface Mermaid {
  parse(text: string): Promise<unknown>;
}

const PACKAGES = ['mermaid-10', 'mermaid'] as const;

/** One parser per Mermaid release line, oldest first. */
export async function mermaidParsers(): Promise<MermaidParse[]> {
  if (!('window' in globalThis)) {
    const { JSDOM } = await import('jsdom');
    Object.assign(globalThis, { window: new JSDOM('').window });
  }
  return Promise.all(
    PACKAGES.map(async (name) => {
      const { version } = JSON.parse(await readFile(path.join(REPO_ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string };
      const mermaid = ((await import(name)) as { default: Mermaid }).default;
      return {
        version,
        check: (diagram: string) =>
          mermaid.parse(diagram).then(
            () => undefined,
            (error: unknown) => (error instanceof Error ? error.message : String(error)),
          ),
      };
    }),
  );
}
