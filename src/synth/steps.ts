import type { Fleet } from '../fleet/fleet.ts';
import { synthesizeFleet, type Synthesizer } from './synthesizer.ts';
import { argocdSynthesizer } from './argocd/argocd-synthesizer.ts';
import { helmSynthesizer } from './helm/helm-synthesizer.ts';
import { kubernetesSynthesizer } from './kubernetes/kubernetes-synthesizer.ts';
import { terraformSynthesizer } from './terraform/terraform-synthesizer.ts';

/** The synth steps, in order (Helm repackages what Kubernetes produced). */
export const SYNTHESIZERS: readonly Synthesizer[] = [kubernetesSynthesizer, helmSynthesizer, terraformSynthesizer, argocdSynthesizer];

/** The complete `generated/` tree of a fleet. */
export function synthesize(fleet: Fleet): Map<string, string> {
  return synthesizeFleet(fleet, SYNTHESIZERS);
}
