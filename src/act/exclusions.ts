/**
 * What the plan keeps out for a deployment, and why: the bans
 * (src/optimizer/bans.ts) of the configurations it reverted (the ledger's
 * rollbacks) and of the proposals people declined (the bot's closed pull
 * requests; a decline also lifts when the evidence it was made on moved
 * materially, or on a retry from the dashboard). One list serves the planner,
 * the pull-request body, `/llmops explain` and the ledger. Pure.
 */
import type { FleetDeployment } from '../fleet/fleet.ts';
import { banOf, bansOf, banWords, keepsOut, type Ban, type Failure } from '../optimizer/bans.ts';
import type { Signals } from '../optimizer/observe.ts';
import type { PlanOptions } from '../optimizer/plan.ts';
import type { Configuration } from '../optimizer/predict.ts';
import { declinedHow, evidenceWords, reopenedBy, type Decline } from './declines.ts';
import type { LedgerBan, LedgerEntry } from './ledger.ts';

/** A failure and, for a decline, the pull request it came from. */
type Failed = Failure & { readonly decline?: Decline };

const declinedAt = (decline: Decline, now: Date) => new Date(decline.metadata.declined?.at ?? now.toISOString());

/** The deployment's failures: its ledger's rollbacks and its declined pull requests. */
function failuresOf(deploymentId: string, ledger: readonly LedgerEntry[], declines: readonly Decline[], now: Date): Failed[] {
  const reverted = ledger.flatMap((entry): Failed[] =>
    entry.kind === 'rollback'
      ? [{ configuration: entry.failed as Configuration, at: new Date(entry.at), why: `reverted: ${entry.reason}`, ...(entry.ban ? { until: new Date(entry.ban.until) } : {}) }]
      : [],
  );
  const declined = declines
    .filter((decline) => decline.deploymentId === deploymentId)
    .map((decline): Failed => ({ configuration: decline.configuration, at: declinedAt(decline, now), why: `${declinedHow(decline)}, on ${evidenceWords(decline.evidence)}`, decline }));
  return [...reverted, ...declined];
}

/** The bans that hold for a deployment at `now`, given what is observed of it (a decline lifts when the evidence moved). */
export function activeBans(deployment: FleetDeployment, ledger: readonly LedgerEntry[], declines: readonly Decline[], observed: Signals | undefined, now: Date): (Ban & Failed)[] {
  const bans = bansOf(failuresOf(deployment.id, ledger, declines, now), deployment.policy.neighbourhood) as (Ban & Failed)[];
  return bans.filter((ban) => now.getTime() < ban.until.getTime() && !(ban.decline && reopenedBy(ban.decline, deployment, observed)));
}

/** The planner's exclusions: per deployment, the neighbourhoods its active bans keep out. */
export function exclusions(declines: readonly Decline[], ledgers: ReadonlyMap<string, readonly LedgerEntry[]>, now: Date): NonNullable<PlanOptions['excluded']> {
  return (deployment, observation) => {
    const bans = activeBans(deployment, ledgers.get(deployment.id) ?? [], declines, observation, now);
    if (bans.length === 0) return undefined;
    return (configuration) => bans.some((ban) => keepsOut(ban, configuration, deployment.policy.neighbourhood));
  };
}

/** What was kept out and why, one line per ban, for a pull-request body or `/llmops explain`. */
export function exclusionLines(deployment: FleetDeployment, ledger: readonly LedgerEntry[], declines: readonly Decline[], observed: Signals | undefined, now: Date): string[] {
  return activeBans(deployment, ledger, declines, observed, now).map((ban) => banWords(ban, deployment.policy.neighbourhood));
}

const ledgerBan = (ban: Ban): LedgerBan => ({ until: ban.until.toISOString(), strike: ban.strike, days: ban.days });

/** The ban a revert of `failed` at `now` earns, after the deployment's earlier failures. */
export function revertBan(deployment: FleetDeployment, ledger: readonly LedgerEntry[], declines: readonly Decline[], failed: Configuration, why: string, now: Date): LedgerBan {
  return ledgerBan(banOf(failuresOf(deployment.id, ledger, declines, now), { configuration: failed, at: now, why }, deployment.policy.neighbourhood));
}

/** Ledger lines for the declines of a deployment the base's ledger does not record yet, each with its ban. */
export function declineEntries(declines: readonly Decline[], deployment: FleetDeployment, recorded: readonly LedgerEntry[], now: Date): LedgerEntry[] {
  const known = new Set(recorded.flatMap((entry) => (entry.kind === 'decline' ? [entry.pullRequest] : [])));
  const bans = bansOf(failuresOf(deployment.id, recorded, declines, now), deployment.policy.neighbourhood) as (Ban & Failed)[];
  return bans
    .filter((ban) => ban.decline && !known.has(ban.decline.pullRequest.number))
    .map(({ decline, ...ban }) => ({
      kind: 'decline',
      at: declinedAt(decline!, now).toISOString(),
      deploymentId: deployment.id,
      pullRequest: decline!.pullRequest.number,
      configuration: JSON.parse(JSON.stringify(decline!.configuration)),
      reason: `${declinedHow(decline!)}: its neighbourhood is not proposed until ${ban.until.toISOString()}, or until the evidence moves by more than the policy's materialChangePct`,
      evidence: { ...decline!.evidence },
      ban: ledgerBan(ban),
    }));
}
