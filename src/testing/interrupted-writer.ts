/**
 * Test helper, run as its own process (`node --import tsx interrupted-writer.ts
 * ROOT TREE_JSON STAGE OCCURRENCE`): writes a tree into ROOT/generated with the
 * real writer and SIGKILLs itself the OCCURRENCE-th time it reaches STAGE, as
 * a CI runner's timeout or an OOM killer would.
 */
import { readFile } from 'node:fs/promises';
import { writeTreeAtomically } from '../synth/write.ts';

const [root, treeFile, stopAt, occurrence] = process.argv.slice(2) as [string, string, string, string];
const tree = new Map(Object.entries(JSON.parse(await readFile(treeFile, 'utf8')) as Record<string, string>));
let seen = 0;
await writeTreeAtomically(root, tree, {
  onStage: (stage) => {
    if (stage === stopAt && ++seen === Number(occurrence)) process.kill(process.pid, 'SIGKILL');
  },
});
