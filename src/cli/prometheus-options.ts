/** The Prometheus a command reads (`--prometheus`, credentials from the environment) and its windows (`--window`, `--recent`), checked before any query. */
import { windowSeconds } from '../optimizer/observe.ts';
import { maskUrl, PrometheusError, prometheusFromEnvironment, type PrometheusClient } from '../prometheus/client.ts';
import { ExitCode } from './exit-codes.ts';
import { CliError } from './io.ts';

/** A Prometheus duration of whole seconds, minutes, hours or days (`90m`, `1h`), as the option's value reaches PromQL. */
export function durationOption(name: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  let seconds = 0;
  try {
    seconds = windowSeconds(value);
  } catch {
    seconds = 0;
  }
  if (!(seconds > 0)) throw new CliError(`${name}: expected a duration such as 30m, 1h or 2d (got ${JSON.stringify(value)})`, ExitCode.usage);
  return value;
}

/** The client for `--prometheus URL`, with LLMOPS_PROMETHEUS_TOKEN / _USERNAME / _PASSWORD / _CA_FILE. */
export async function prometheusOption(url: string): Promise<PrometheusClient> {
  if (!URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol)) {
    throw new CliError(`--prometheus: expected an http or https URL such as http://prometheus-operated.monitoring.svc:9090 (got ${JSON.stringify(maskUrl(url))})`, ExitCode.usage);
  }
  try {
    return await prometheusFromEnvironment(url);
  } catch (error) {
    if (error instanceof PrometheusError) throw new CliError(error.message, ExitCode.usage);
    throw error;
  }
}
