/** Vitest global setup: synthesizes the frozen fixture fleet once for the whole run; every test file reads or copies it. */
import { PREPARED_FIXTURE_VARIABLE, prepareFixture, removeFleet } from './fixture-fleet.ts';

export async function setup(): Promise<() => Promise<void>> {
  const root = await prepareFixture();
  process.env[PREPARED_FIXTURE_VARIABLE] = root;
  return () => removeFleet(root);
}
