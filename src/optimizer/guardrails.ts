/** Rules that hold whatever the metrics say: the emergency stop, freeze windows, the cooldown after a change. */
import { CronExpressionParser } from 'cron-parser';
import type { ResolvedPolicy } from '../declarations/policy.ts';

export interface Guardrail {
  readonly rule: 'paused' | 'freeze-window' | 'cooldown';
  readonly reason: string;
}

/** The freeze window `now` falls in, if any: the last start of its cron is less than its duration ago. */
export function activeFreezeWindow(policy: ResolvedPolicy, now: Date): ResolvedPolicy['freezeWindows'][number] | undefined {
  return policy.freezeWindows.find((window) => {
    const started = CronExpressionParser.parse(window.cron, { currentDate: now, tz: window.timeZone }).prev().toDate();
    return now.getTime() - started.getTime() < window.durationMinutes * 60_000;
  });
}

/** The guardrail that stops any change to a deployment under `policy` at `now`, if one does. */
export function guardrail(policy: ResolvedPolicy, now: Date, lastChangeAt?: Date): Guardrail | undefined {
  if (policy.paused) return { rule: 'paused', reason: `policy ${policy.name} is paused (paused: true): the bot proposes nothing until it is unpaused` };
  const freeze = activeFreezeWindow(policy, now);
  if (freeze) return { rule: 'freeze-window', reason: `inside the freeze window "${freeze.reason}" (${freeze.cron}, ${freeze.durationMinutes} min, ${freeze.timeZone})` };
  if (lastChangeAt) {
    const minutes = (now.getTime() - lastChangeAt.getTime()) / 60_000;
    if (minutes < policy.limits.cooldownMinutes) {
      return { rule: 'cooldown', reason: `last change ${Math.round(minutes)} min ago; policy ${policy.name} waits ${policy.limits.cooldownMinutes} min between changes` };
    }
  }
  return undefined;
}
