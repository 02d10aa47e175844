/**
 * A network namespace for tests that need a non-loopback address: a "pod"
 * namespace joined to this one by a veth pair, each end with an address from
 * 198.18.0.0/15 (RFC 2544's range for network testing, routed nowhere). A
 * server started in the namespace is reached from the test at `podAddress`,
 * as a kubelet or Prometheus reaches a pod's IP; the namespace reaches this
 * side at `nodeAddress`. No traffic leaves the machine.
 *
 * Needs iproute2 and root (or passwordless sudo, as on GitHub-hosted runners);
 * without them `createNetworkNamespace` fails with what to do, never skips.
 */
import { execFile, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface NetworkNamespace {
  readonly name: string;
  /** This side's end of the veth pair (the node, as the pod sees it). */
  readonly nodeAddress: string;
  /** The namespace's end (the pod's IP). */
  readonly podAddress: string;
  /** Starts `command` inside the namespace as this process's user, with exactly `environment`. */
  spawn(command: string, args: readonly string[], options: { cwd: string; environment: Record<string, string> }): ChildProcessWithoutNullStreams;
  /** Deletes the namespace; its end of the veth pair takes this side's end with it. */
  remove(): Promise<void>;
}

const isRoot = () => process.getuid?.() === 0;
/** `ip …` as root: directly, or through passwordless sudo. */
const privileged = (args: readonly string[]) => (isRoot() ? ['ip', ...args] : ['sudo', '-n', 'ip', ...args]);

async function ip(args: readonly string[]): Promise<void> {
  const [command, ...rest] = privileged(args);
  await run(command!, rest);
}

/** Creates the namespace, its veth pair and addresses; `index` picks a /30 so that parallel runs do not collide. */
export async function createNetworkNamespace(index = process.pid % 16_000): Promise<NetworkNamespace> {
  const name = `llmops-test-${process.pid}-${index}`;
  const [nodeLink, podLink] = [`lh${index}`, `lp${index}`];
  // The /30 at `index`: 198.18.0.0/15 holds 32,768 of them.
  const base = index * 4;
  const address = (offset: number) => `198.${18 + ((base + offset) >> 16)}.${((base + offset) >> 8) & 255}.${(base + offset) & 255}`;
  const [nodeAddress, podAddress] = [address(1), address(2)];
  try {
    await ip(['netns', 'add', name]);
  } catch (error) {
    throw new Error(
      `cannot create network namespace ${name} for the non-loopback test (${(error as { stderr?: string }).stderr?.trim() || String(error)}): run the tests as root or with passwordless sudo, with iproute2 installed`,
    );
  }
  try {
    await ip(['link', 'add', nodeLink, 'type', 'veth', 'peer', 'name', podLink, 'netns', name]);
    await ip(['addr', 'add', `${nodeAddress}/30`, 'dev', nodeLink]);
    await ip(['link', 'set', nodeLink, 'up']);
    await ip(['-n', name, 'addr', 'add', `${podAddress}/30`, 'dev', podLink]);
    await ip(['-n', name, 'link', 'set', podLink, 'up']);
    await ip(['-n', name, 'link', 'set', 'lo', 'up']);
  } catch (error) {
    await ip(['netns', 'del', name]).catch(() => undefined);
    throw error;
  }
  const [uid, gid] = [String(process.getuid?.() ?? 0), String(process.getgid?.() ?? 0)];
  return {
    name,
    nodeAddress,
    podAddress,
    spawn(command, args, { cwd, environment }) {
      // Back to this process's user inside the namespace, with only the given variables (sudo would reset them anyway).
      const [first, ...rest] = privileged([
        'netns',
        'exec',
        name,
        'setpriv',
        '--reuid',
        uid,
        '--regid',
        gid,
        '--clear-groups',
        '--',
        'env',
        '-i',
        ...Object.entries(environment).map(([key, value]) => `${key}=${value}`),
        command,
        ...args,
      ]);
      return spawn(first!, rest, { cwd });
    },
    remove: () => ip(['netns', 'del', name]),
  };
}
