/** Rules that hold whatever the metrics say: the emergency stop and freeze windows (even for safety), the cooldown after a change (for all but safety). */
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

/** A person's stop — the pause or a freeze window — that holds every change, safety included, at `now`. */
export function humanStop(policy: ResolvedPolicy, now: Date): Guardrail | undefined {
  if (policy.paused) return { rule: 'paused', reason: `policy ${policy.name} is paused (paused: true): the bot proposes nothing until it is unpaused` };
  const freeze = activeFreezeWindow(policy, now);
  if (freeze) return { rule: 'freeze-window', reason: `inside the freeze window "${freeze.reason}" (${freeze.cron}, ${freeze.durationMinutes} min, ${freeze.timeZone})` };
  return undefined;
}

/**
 * The guardrail that stops a change to a deployment under `policy` at `now`, if one does: a person's stop, then the
 * cooldown after the last change. Safety proposals ask only `humanStop`: an SLO breach does not wait for a cooldown.
 */
export function guardrail(policy: ResolvedPolicy, now: Date, lastChangeAt?: Date): Guardrail | undefined {
  const stop = humanStop(policy, now);
  if (stop) return stop;
  if (lastChangeAt) {
    const minutes = (now.getTime() - lastChangeAt.getTime()) / 60_000;
    if (minutes < policy.limits.cooldownMinutes) {
      return { rule: 'cooldown', reason: `last change ${Math.round(minutes)} min ago; policy ${policy.name} waits ${policy.limits.cooldownMinutes} min between changes` };
    }
  }
  return undefined;
}
