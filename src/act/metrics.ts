/**
 * The bot's own metrics, named after the LLM Auto-Optimizer design, in a
 * registry of their own (served on /metrics by `llmops optimize --serve`).
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

export class OptimizerMetrics {
  readonly registry = new Registry();
  /** Cycles by result: `success`, `failure`, `rate_limited`, `stopped`. */
  readonly attempts = new Counter({ name: 'optimizer_attempts_total', help: 'Optimization cycles, by result.', labelNames: ['result'] as const, registers: [this.registry] });
  readonly duration = new Histogram({ name: 'optimizer_duration_seconds', help: 'Duration of one optimization cycle.', buckets: [1, 5, 15, 30, 60, 120, 300, 600], registers: [this.registry] });
  /** Pushed configuration changes by type: `replicas`, `gpu`, `engine_args`, `revert`. */
  readonly configChanges = new Counter({
    name: 'optimizer_config_changes_total',
    help: 'Configuration changes pushed for review, by type.',
    labelNames: ['type'] as const,
    registers: [this.registry],
  });
  readonly rollbacks = new Counter({ name: 'optimizer_rollbacks_total', help: 'Revert pull requests opened after a failed verification.', registers: [this.registry] });
  readonly costSaved = new Counter({
    name: 'optimizer_cost_saved_usd_total',
    help: 'Predicted monthly saving (USD, at minimum replicas) of changes that passed verification after merge.',
    registers: [this.registry],
  });
  /**
   * 1 for each deployment whose SLO breach a pause or freeze window keeps the bot from answering (by `rule`);
   * rewritten every cycle, so an alert on it fires while a person's stop holds a safety action back.
   */
  readonly safetyActionsBlocked = new Gauge({
    name: 'optimizer_safety_actions_blocked',
    help: 'Deployments breaching an SLO whose safety action a pause or freeze window blocks.',
    labelNames: ['deployment', 'rule'] as const,
    registers: [this.registry],
  });
  readonly deploymentsActive = new Gauge({ name: 'optimizer_deployments_active', help: 'Deployments the bot manages (policy not paused).', registers: [this.registry] });
  /** Merged changes whose saving is counted: a later cycle that finds the same change verified counts nothing. */
  private readonly countedSavings = new Set<string>();

  /** Adds the saving of a verified change (`change` names it, e.g. deployment and merge time) the first time only. */
  countSaving(change: string, monthlyUsd: number): void {
    if (this.countedSavings.has(change)) return;
    this.countedSavings.add(change);
    this.costSaved.inc(Math.max(0, monthlyUsd));
  }
}
