/**
 * A synth worker thread (src/synth/unit-runner.ts starts them): synthesizes the
 * units it is sent, one at a time, and posts back each unit's files with
 * their hashes. It holds the compiler's libraries and one unit's objects.
 */
import { parentPort } from 'node:worker_threads';
import { runUnit, type UnitReply, type UnitRequest } from './unit-task.ts';

const port = parentPort!;
port.on('message', async (request: UnitRequest) => port.postMessage((await runUnit(request)) satisfies UnitReply));
