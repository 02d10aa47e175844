#!/usr/bin/env node
// The llmops command: the precompiled CLI (dist/, see build.js), built again here when a source changed,
// or the TypeScript sources through tsx when no build can be written.
import { build, freshBuild } from './build.js';

const debug = (text) => process.env.LLMOPS_DEBUG && process.stderr.write(`llmops: ${text}\n`);
let precompiled = freshBuild();
if (precompiled === undefined) {
  debug('precompiling the CLI into dist/ (no build of the current sources)');
  precompiled = await build().catch((error) => void debug(`running from the sources (no precompiled build: ${error?.message ?? error})`));
}
let main;
if (precompiled) ({ main } = await import(precompiled));
else {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('../src/cli/main.ts'));
}
process.exitCode = await main(process.argv.slice(2));
