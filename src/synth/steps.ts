/** The whole `generated/` tree of a fleet, in memory, on this thread (the bot, `llmops diff` and the tests; `llmops synth` streams: pipeline.ts). */
import type { Fleet } from '../fleet/fleet.ts';
import { argocdFiles } from './argocd/argocd-synthesizer.ts';
import { environmentSlice } from './environment-slice.ts';
import { treeOf } from './synthesizer.ts';
import { kubernetesUnitFiles } from './kubernetes-units.ts';
import { terraformFile } from './terraform/terraform-synthesizer.ts';
import { environmentUnits, synthesizeUnit } from './units.ts';

/** Every file of `generated/` (outside the bot's ledger), sorted by path. */
export function synthesize(fleet: Fleet): Map<string, string> {
  const slices = fleet.environments.map((environment) => environmentSlice(fleet, environment.name));
  return treeOf([
    ...slices.flatMap((slice) => environmentUnits(slice).flatMap((unit) => synthesizeUnit(slice, unit, () => (unit.kind === 'terraform' ? [terraformFile(slice)] : kubernetesUnitFiles(slice, unit))))),
    ...argocdFiles(fleet),
  ]);
}
