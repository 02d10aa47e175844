import type { Fleet } from '../fleet/fleet.ts';
import { synthesizeFleet, type Synthesizer } from './synthesizer.ts';

/** The synth steps, in order (Helm repackages what Kubernetes produced). */
export const SYNTHESIZERS: readonly Synthesizer[] = [];

/** The complete `generated/` tree of a fleet. */
export function synthesize(fleet: Fleet): Map<string, string> {
  return synthesizeFleet(fleet, SYNTHESIZERS);
}
