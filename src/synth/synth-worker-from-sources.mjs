// A synth worker run from the TypeScript sources (the tests, contributors without a precompiled build):
// the thread registers the TypeScript loader, as bin/llmops.js does for the main thread, then runs the worker.
import { register } from 'tsx/esm/api';

register();
await import('./synth-worker.ts');
