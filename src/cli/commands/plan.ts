import { suggestion } from '../../declarations/issues.ts';
import { describeChange, recommendationJson } from '../../optimizer/describe.ts';
import { planFleet } from '../../optimizer/plan.ts';
import { PrometheusError } from '../../prometheus/client.ts';
import { ExitCode } from '../exit-codes.ts';
import { fleetOrFail } from '../fleet-or-fail.ts';
import { CliError, type Io } from '../io.ts';
import { durationOption, prometheusOption } from '../prometheus-options.ts';
import { renderTable } from '../table.ts';

export interface PlanCommandOptions {
  readonly root: string;
  readonly prometheus: string;
  readonly env?: string;
  readonly json?: boolean;
  readonly window?: string;
  readonly recent?: string;
  /** Evaluate at this unix time (seconds) instead of now. */
  readonly at?: string;
}

/** `llmops plan`: what the bot would propose for each deployment now, and why. Changes nothing. */
export async function planCommand(options: PlanCommandOptions, io: Io): Promise<void> {
  const fleet = await fleetOrFail(options.root, io);
  const environments = fleet.environments.map((environment) => environment.name);
  if (options.env !== undefined && !environments.includes(options.env)) {
    throw new CliError(`--env: expected one of ${environments.join(', ')}${suggestion(options.env, environments)} (got ${JSON.stringify(options.env)})`, ExitCode.usage);
  }
  const [window, recent] = [durationOption('--window', options.window), durationOption('--recent', options.recent)];
  const prometheus = await prometheusOption(options.prometheus);
  let recommendations;
  try {
    recommendations = await planFleet(fleet, prometheus, {
      environment: options.env,
      window,
      recent,
      now: options.at === undefined ? undefined : new Date(Number(options.at) * 1000),
    });
  } catch (error) {
    if (error instanceof PrometheusError) throw new CliError(error.message, ExitCode.failure);
    throw error;
  }
  if (options.json) {
    io.out(`${JSON.stringify(recommendations.map(recommendationJson), null, 2)}\n`);
    return;
  }
  const usd = (value: number) => (Number.isFinite(value) ? value.toFixed(2) : '-');
  io.out(
    renderTable(
      ['ENVIRONMENT', 'MODEL', 'ACTION', 'RULE', 'CHANGE', '$/HOUR NOW → PROPOSED', 'CONFIDENCE', 'RISK'],
      recommendations.map((recommendation) => [
        recommendation.environment,
        recommendation.model,
        recommendation.action,
        recommendation.rule,
        describeChange(recommendation),
        recommendation.proposed ? `${usd(recommendation.current.costPerHourUsd)} → ${usd(recommendation.proposed.costPerHourUsd)}` : usd(recommendation.current.costPerHourUsd),
        recommendation.confidence === undefined ? '-' : recommendation.confidence.toFixed(2),
        recommendation.risk === undefined ? '-' : recommendation.risk.toFixed(2),
      ]),
    ),
  );
  io.out('\nWhy:\n');
  for (const recommendation of recommendations) {
    const notes = recommendation.orientation.notes.length > 0 ? ` [${recommendation.orientation.notes.join('; ')}]` : '';
    io.out(`  ${recommendation.deploymentId}: ${recommendation.reason}${notes}\n`);
    for (const rule of recommendation.held ?? []) io.out(`    ${rule}\n`);
    const { calibration } = recommendation;
    io.out(
      `    calibrated on ${calibration.capacityEvidence === 'prior' ? 'nothing (the prior)' : calibration.capacityEvidence === 'queue' ? 'a sustained queue' : 'the observed concurrency'}: capacity ${calibration.capacity.toFixed(2)}x, inter-token ${calibration.interToken.toFixed(2)}x (p95 tail ${calibration.interTokenTail.toFixed(2)}x), TTFT ${calibration.ttft.toFixed(2)}x, end-to-end ${calibration.e2e.toFixed(2)}x the prior, uncertainty ±${(calibration.uncertainty * 100).toFixed(0)} %\n`,
    );
  }
}
