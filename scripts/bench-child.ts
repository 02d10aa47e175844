/**
 * One measured benchmark task in a fresh process; prints elapsed ms (from
 * process start, so module loading counts) and peak RSS as JSON.
 * Usage: tsx scripts/bench-child.ts <validate|synth|kubernetes|terraform> <fleet-root>
 *        tsx scripts/bench-child.ts plan <fleet-root> <prometheus-url> <unix-seconds>
 */
import { main } from '../src/cli/main.ts';
import { loadFleet } from '../src/fleet/load.ts';

const [task, root, prometheusUrl, at] = process.argv.slice(2);
const quiet = { out: () => {}, err: (text: string) => process.stderr.write(text) };
let exitCode = 0;
if (task === 'validate' || task === 'synth') {
  exitCode = await main([task, '--root', root], quiet);
} else if (task === 'plan') {
  exitCode = await main(['plan', '--root', root, '--prometheus', prometheusUrl, '--at', at, '--window', '20m', '--recent', '5m', '--json'], quiet);
} else {
  const result = await loadFleet(root);
  if (!result.ok) throw new Error('fleet invalid');
  const { environmentSlice, sliceDeployments } = await import('../src/synth/environment-slice.ts');
  const slices = result.fleet.environments.map((environment) => environmentSlice(result.fleet, environment.name));
  if (task === 'kubernetes') {
    const { botManifests, deploymentManifests, namespaceManifests } = await import('../src/synth/kubernetes/kubernetes-synthesizer.ts');
    for (const slice of slices) {
      namespaceManifests(slice, sliceDeployments(slice));
      for (const deployment of sliceDeployments(slice)) deploymentManifests(deployment);
      botManifests(slice);
    }
  } else {
    const { terraformFile } = await import('../src/synth/terraform/terraform-synthesizer.ts');
    for (const slice of slices) terraformFile(slice);
  }
}
console.log(JSON.stringify({ elapsedMs: performance.now(), maxRssKiB: process.resourceUsage().maxRSS }));
process.exitCode = exitCode;
