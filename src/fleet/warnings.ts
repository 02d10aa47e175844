/**
 * What a reviewer should see but what does not make a fleet invalid: listed by
 * `llmops validate` after the verdict, one line each in the issue format.
 */
import type { DeclarationIssue } from '../declarations/issues.ts';
import { poolCost } from './cost.ts';
import type { Fleet } from './fleet.ts';

const usd = (value: number) => Math.round(value).toLocaleString('en-US');

/**
 * An environment whose node pools provision more GPU spend than its monthly
 * budget: at their minima (spent whatever the traffic), or at their maxima
 * (ceilings the autoscaler reaches under peak load, with room for a canary
 * surge). Warnings, not errors: the budget is a month's spend, watched by the
 * LLMBudgetProjectedOverrun alerts and the bot's budget rule, and an
 * environment over its budget must stay loadable so the bot can propose the
 * cheaper configuration.
 */
function budgetWarnings(fleet: Fleet): DeclarationIssue[] {
  return fleet.environments.flatMap((environment) => {
    const file = fleet.sourceFiles.get(`environments/${environment.name}`) ?? '';
    const budget = environment.budget.monthlyUsd;
    const pools = environment.nodePools.flatMap((pool) => poolCost(environment, pool) ?? []);
    const spend = (bound: 'minUsdPerMonth' | 'maxUsdPerMonth') => ({
      total: pools.reduce((sum, pool) => sum + pool[bound], 0),
      parts: pools.map((pool) => `${pool.pool.name} ${usd(pool[bound])}`).join(' + '),
    });
    const [minimum, maximum] = [spend('minUsdPerMonth'), spend('maxUsdPerMonth')];
    if (minimum.total > budget) {
      return [
        {
          file,
          path: 'budget.monthlyUsd',
          message: `the node pools at their minima provision ${usd(minimum.total)} USD/month (${minimum.parts}), spent whatever the traffic, above the budget of ${usd(budget)}; raise the budget or lower the pools' minNodes`,
        },
      ];
    }
    if (maximum.total <= budget) return [];
    return [
      {
        file,
        path: 'budget.monthlyUsd',
        message: `the node pools at their maxima provision ${usd(maximum.total)} USD/month (${maximum.parts}), above the budget of ${usd(budget)}: the autoscaler may spend that under peak load; lower a pool's maxNodes or raise the budget if that is not meant`,
      },
    ];
  });
}

/** Every warning of a valid fleet. */
export function fleetWarnings(fleet: Fleet): DeclarationIssue[] {
  return budgetWarnings(fleet);
}
