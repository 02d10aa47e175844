/**
 * Where the running compiler's code comes from: the precompiled build in
 * `dist/<id>/` (bin/build.js bundles src/ with esbuild; `npm ci` runs it as the
 * `prepare` script, and bin/llmops.js rebuilds it when a source changed), or the
 * TypeScript sources (the tests, and the fallback when no build can be written).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** `true` in the precompiled build (bin/build.js defines it); not declared in the sources. */
declare const LLMOPS_PRECOMPILED: boolean | undefined;

const HERE = path.dirname(fileURLToPath(import.meta.url));

/** The folder of the precompiled build this code runs from (all of its chunks sit in it), or undefined when running from the sources. */
export const PRECOMPILED_DIR: string | undefined = typeof LLMOPS_PRECOMPILED === 'boolean' ? HERE : undefined;

/** The package root, holding package.json, src/, bin/ and node_modules/: two levels up from src/runtime/ and from dist/<id>/ alike. */
export const PACKAGE_ROOT = path.resolve(HERE, '../..');

/** The sources of the compiler (the precompiled build still compiles the sandbox's runtime from them when it lacks one). */
export const SOURCE_ROOT = path.join(PACKAGE_ROOT, 'src');
