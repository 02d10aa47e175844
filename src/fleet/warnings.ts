/**
 * What a reviewer should see but what does not make a fleet invalid: listed by
 * `llmops validate` after the verdict, one line each in the issue format.
 */
import type { DeclarationIssue } from '../declarations/issues.ts';
import { poolCost } from './cost.ts';
import type { Fleet } from './fleet.ts';

const usd = (value: number) => Math.round(value).toLocaleString('en-US');

/**
 * An environment whose node pools, at their maxima, provision more GPU spend
 * than its monthly budget. A warning, not an error: the maxima are ceilings the
 * autoscaler reaches only under peak load (and must leave room for a canary
 * surge), while the budget is a month's spend, watched by the
 * LLMBudgetProjectedOverrun alerts and the bot's budget rule. A minimum above
 * the budget is an error (see serving-checks.ts): that spend is certain.
 */
function budgetWarnings(fleet: Fleet): DeclarationIssue[] {
  return fleet.environments.flatMap((environment) => {
    const pools = environment.nodePools.flatMap((pool) => poolCost(environment, pool) ?? []);
    const maxUsd = pools.reduce((sum, pool) => sum + pool.maxUsdPerMonth, 0);
    if (maxUsd <= environment.budget.monthlyUsd) return [];
    const parts = pools.map((pool) => `${pool.pool.name} ${usd(pool.maxUsdPerMonth)}`).join(' + ');
    return [
      {
        file: fleet.sourceFiles.get(`environments/${environment.name}`) ?? '',
        path: 'budget.monthlyUsd',
        message: `the node pools at their maxima provision ${usd(maxUsd)} USD/month (${parts}), above the budget of ${usd(environment.budget.monthlyUsd)}: the autoscaler may spend that under peak load; lower a pool's maxNodes or raise the budget if that is not meant`,
      },
    ];
  });
}

/** Every warning of a valid fleet. */
export function fleetWarnings(fleet: Fleet): DeclarationIssue[] {
  return budgetWarnings(fleet);
}
