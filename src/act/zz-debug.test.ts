import { it } from 'vitest';
import { createBotWorld } from '../testing/bot-harness.ts';
import { PrometheusClient } from '../prometheus/client.ts';
import { prometheusWithScenario, lastWednesdayAfternoon, steadyScenario } from '../testing/plan-harness.ts';
import { runCycle } from './cycle.ts';
it('debug', async () => {
  const AT = new Date(lastWednesdayAfternoon().getTime() - 60 * 60_000);
  const prometheus = await prometheusWithScenario(steadyScenario(['production/llama-3-1-8b-instruct'], 5), AT);
  const world = await createBotWorld(() => AT);
  try {
    const report = await runCycle({ repository: world.repository(await world.botClone()), github: world.client(), prometheus: new PrometheusClient(prometheus.url), now: AT, log: (l) => console.log(l) });
    console.log(JSON.stringify(report.outcomes, null, 1), report.dashboard);
  } catch (e) { console.log('ERR', e); }
  console.log(world.github.contractViolations);
  console.log(world.github.pulls[0]?.body);
  console.log(world.github.issues[0]?.body);
  await world.remove(); await prometheus.stop();
}, 120000);
