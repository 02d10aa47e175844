/** Vitest hooks shared by the bot's test files: one real Prometheus per file, a fresh bot world per test. */
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import type { PrometheusServer } from '../prometheus/server.ts';
import { createBotWorld, type BotWorld } from './bot-harness.ts';
import { prometheusWithScenario } from './plan-harness.ts';

/**
 * Registers the hooks: the real Prometheus with `scenario` (ending at `at`,
 * with `otherExporters`' OpenMetrics families beside it) for the whole file,
 * and a bot world whose stand-in's clock reads `clock` (default: `at`) for
 * every test.
 */
export function botWorldPerTest(scenario: unknown, at: Date, otherExporters = '', clock: () => Date = () => at): { readonly prometheus: PrometheusServer; readonly world: BotWorld } {
  let prometheus: PrometheusServer | undefined;
  let world: BotWorld | undefined;
  beforeAll(async () => {
    prometheus = await prometheusWithScenario(scenario, at, undefined, otherExporters);
  }, 120_000);
  afterAll(async () => prometheus?.stop());
  beforeEach(async () => {
    world = await createBotWorld(clock);
  });
  afterEach(async () => world?.remove());
  return {
    get prometheus() {
      return prometheus!;
    },
    get world() {
      return world!;
    },
  };
}
