import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PrometheusClient } from '../prometheus/client.ts';
import type { PrometheusServer } from '../prometheus/server.ts';
import { createBotWorld, git } from '../testing/bot-harness.ts';
import { copyFixtureFleet, removeFleet, runCli } from '../testing/fixture-fleet.ts';
import { lastWednesdayAfternoon, prometheusWithScenario, steadyScenario } from '../testing/plan-harness.ts';
import { runCycle } from './cycle.ts';

const AT = new Date(lastWednesdayAfternoon().getTime() - 60 * 60_000);
const QWEN_LEDGER = 'generated/optimizer/ledger/production/qwen2-5-7b-instruct.jsonl';
const GOOD_LINE = '{"kind":"merge","at":"2026-01-01T00:00:00.000Z","deploymentId":"production/qwen2-5-7b-instruct","mergedAt":"2026-01-01T00:00:00.000Z","outcome":"verified"}';
/** A line cut short, as a killed writer or a bad merge leaves it. */
const TRUNCATED_LINE = '{"kind":"decision","at":"2026-01-01T00:00:00.000Z","deploy';

describe('a damaged ledger line', () => {
  it('is reported by validate and synth --check with its file and line', async () => {
    const root = await copyFixtureFleet({ withGenerated: true });
    try {
      await mkdir(path.dirname(path.join(root, QWEN_LEDGER)), { recursive: true });
      await writeFile(path.join(root, QWEN_LEDGER), `${GOOD_LINE}\n${TRUNCATED_LINE}\n`);

      const validate = await runCli(['validate', '--root', root]);
      const check = await runCli(['synth', '--check', '--root', root]);

      const expected = `${QWEN_LEDGER}:2: expected one JSON object per line (got ${JSON.stringify(TRUNCATED_LINE)}); the bot skips this deployment until the line is fixed or removed`;
      expect(validate.exitCode).toBe(1);
      expect(validate.stderr.split('\n')).toContain(expected);
      expect(check.exitCode).toBe(1);
      expect(check.stderr.split('\n')).toContain(expected);
    } finally {
      await removeFleet(root);
    }
  });

  describe('in the bot', () => {
    let prometheus: PrometheusServer;
    beforeAll(async () => {
      prometheus = await prometheusWithScenario(steadyScenario(['production/llama-3-1-8b-instruct', 'production/qwen2-5-7b-instruct'], 3), AT);
    }, 120_000);
    afterAll(async () => prometheus?.stop());

    it('skips only its deployment; the others are still proposed', async () => {
      // Arrange: the damaged line reached main.
      const world = await createBotWorld(() => AT);
      try {
        await mkdir(path.dirname(path.join(world.human, QWEN_LEDGER)), { recursive: true });
        await writeFile(path.join(world.human, QWEN_LEDGER), `${GOOD_LINE}\n${TRUNCATED_LINE}\n`);
        await git(world.human, 'add', QWEN_LEDGER);
        await git(world.human, 'commit', '--quiet', '-m', 'A ledger line cut short');
        await git(world.human, 'push', '--quiet', 'origin', 'main');

        // Act (local mode: no pull-request limits, so every proposal shows)
        const report = await runCycle({ repository: world.repository(await world.botClone()), prometheus: new PrometheusClient(prometheus.url), now: AT });

        // Assert
        expect(report.outcomes).toContainEqual({
          deploymentId: 'production/qwen2-5-7b-instruct',
          kind: 'failed',
          detail: `${QWEN_LEDGER}:2: expected one JSON object per line (got ${JSON.stringify(TRUNCATED_LINE)}); this deployment is skipped until the line is fixed or removed`,
        });
        expect(report.outcomes).toContainEqual(expect.objectContaining({ deploymentId: 'production/llama-3-1-8b-instruct', kind: 'local' }));
        expect(report.outcomes.filter((outcome) => outcome.deploymentId === 'production/qwen2-5-7b-instruct')).toHaveLength(1);
      } finally {
        await world.remove();
      }
    }, 180_000);
  });
});
