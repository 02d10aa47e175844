#!/usr/bin/env node
// The tests use the real Prometheus server and promtool (Debian package `prometheus`).
// Installs the package when it is missing and we are root; otherwise says how.
import { execFileSync, spawnSync } from 'node:child_process';

const has = (command) => spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;

if (has('prometheus') && has('promtool')) process.exit(0);

if (process.getuid?.() !== 0) {
  console.error(
    'The tests need the Prometheus server and promtool (Debian package "prometheus").\n' + 'Install them with:  sudo apt-get update && sudo apt-get install -y --no-install-recommends prometheus',
  );
  process.exit(1);
}
console.error('Installing the Debian package "prometheus" (server and promtool) for the tests...');
const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'prometheus'], { stdio: 'inherit', env });
if (!has('prometheus') || !has('promtool')) {
  console.error('apt-get finished but prometheus/promtool are still not on PATH.');
  process.exit(1);
}
