/**
 * Where synthesis units run: on this thread, or on a pool of worker threads
 * (one per available core by default), each holding the compiler's libraries
 * and one unit at a time. The precompiled build's workers run its bundled
 * synth-worker.js; from the sources, synth-worker-from-sources.mjs.
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { PRECOMPILED_DIR, SOURCE_ROOT } from '../runtime/precompiled.ts';
import { SynthesisError } from './synthesizer.ts';
import type { HashedFile, UnitReply, UnitRequest } from './unit-task.ts';

export interface UnitRunner {
  /** Synthesizes one unit; rejects with a SynthesisError naming the step and environment. */
  run(request: Omit<UnitRequest, 'id'>): Promise<readonly HashedFile[]>;
  /** How many units it runs at once. */
  readonly concurrency: number;
  close(): Promise<void>;
}

/** Units on this thread, one after another (small fleets, where starting workers costs more than it saves). */
async function inThreadRunner(): Promise<UnitRunner> {
  const { runUnit } = await import('./unit-task.ts');
  return {
    concurrency: 1,
    async run(request) {
      const reply = await runUnit({ id: 0, ...request });
      if ('error' in reply) throw new SynthesisError(reply.error);
      return reply.files;
    },
    async close() {},
  };
}

function startWorker(): Worker {
  if (PRECOMPILED_DIR !== undefined) return new Worker(pathToFileURL(path.join(PRECOMPILED_DIR, 'synth-worker.js')));
  return new Worker(pathToFileURL(path.join(SOURCE_ROOT, 'synth/synth-worker-from-sources.mjs')));
}

interface Pending {
  resolve(files: readonly HashedFile[]): void;
  reject(error: Error): void;
}

/** `size` worker threads; a unit goes to the first idle one. */
export function workerPool(size: number): UnitRunner {
  const idle: Worker[] = [];
  const workers: Worker[] = [];
  const queue: UnitRequest[] = [];
  const pending = new Map<number, Pending>();
  const busyWith = new Map<Worker, number>();
  let nextId = 0;
  let failure: Error | undefined;

  const dispatch = () => {
    while (idle.length > 0 && queue.length > 0) {
      const worker = idle.pop()!;
      const request = queue.shift()!;
      busyWith.set(worker, request.id);
      worker.postMessage(request);
    }
  };
  const failAll = (error: Error) => {
    failure ??= error;
    for (const task of pending.values()) task.reject(failure);
    pending.clear();
    queue.length = 0;
  };

  for (let index = 0; index < size; index += 1) {
    const worker = startWorker();
    worker.on('message', (reply: UnitReply) => {
      busyWith.delete(worker);
      const task = pending.get(reply.id);
      pending.delete(reply.id);
      if (task) 'error' in reply ? task.reject(new SynthesisError(reply.error)) : task.resolve(reply.files);
      idle.push(worker);
      dispatch();
    });
    worker.on('error', (error) => failAll(new SynthesisError(`a synth worker failed: ${error.message}`, { cause: error })));
    worker.on('exit', (code) => {
      if (busyWith.has(worker)) failAll(new SynthesisError(`a synth worker stopped (exit code ${code}) during a unit`));
    });
    workers.push(worker);
    idle.push(worker);
  }

  return {
    concurrency: size,
    run(request) {
      if (failure) return Promise.reject(failure);
      const id = nextId++;
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject });
        queue.push({ id, ...request });
        dispatch();
      });
    },
    async close() {
      busyWith.clear();
      await Promise.all(workers.map((worker) => worker.terminate()));
    },
  };
}

/** Where each kind of unit runs: Terraform (cdktf) and the rest (cdk8s). */
export interface UnitRunners {
  readonly terraform: UnitRunner;
  readonly kubernetes: UnitRunner;
  close(): Promise<void>;
}

/**
 * Runners for `threads` threads in all, this one included. Each library is
 * loaded on as few threads as possible — a thread holds a library's code for
 * good, about as much memory as a thousand deployments' objects — so
 * Terraform gets one worker of its own and the Kubernetes units the others,
 * or this thread when there is no other (two cores: cdk8s is loaded here
 * anyway, for Argo CD). One thread: everything here.
 */
export async function startRunners(threads: number): Promise<UnitRunners> {
  const here = await inThreadRunner();
  if (threads <= 1) return { terraform: here, kubernetes: here, close: async () => {} };
  const terraform = workerPool(1);
  const kubernetes = threads >= 3 ? workerPool(threads - 2) : here;
  return { terraform, kubernetes, close: async () => void (await Promise.all([terraform.close(), kubernetes.close()])) };
}
