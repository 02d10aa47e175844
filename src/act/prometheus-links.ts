/**
 * Links from a pull request's figures to the Prometheus graph of the query
 * behind each one: the fleet-wide query observe runs (src/optimizer/observe.ts),
 * narrowed to the deployment, graphed over the window and ending where the
 * figure was read. The expression browser's URL parameters (`/graph?g0.expr=…
 * &g0.tab=0&g0.range_input=…&g0.end_input=…`, the form Grafana's "Prometheus"
 * link writes; Prometheus 3 serves `/graph` as its query page). The base URL is
 * printed in pull requests, so credentials in it are dropped.
 */
import { signalQueries, windowSeconds, type DeploymentTarget, type Signals, type Window } from '../optimizer/observe.ts';
import { MODEL_LABEL } from '../vllm/metrics.ts';

/** The base URL without credentials, query or trailing slash. */
export function publicBaseUrl(url: string): string {
  const parsed = new URL(url);
  parsed.username = '';
  parsed.password = '';
  parsed.search = '';
  parsed.hash = '';
  return parsed.toString().replace(/\/$/, '');
}

/** `expression` narrowed to one deployment's series (`and on (namespace, model_name)` a one-sample vector with its labels). */
export function forDeployment(expression: string, target: DeploymentTarget): string {
  const labels = label(label('vector(1)', 'namespace', target.namespace), MODEL_LABEL, target.model);
  return `(${expression}) and on (namespace, ${MODEL_LABEL}) ${labels}`;
}

const label = (vector: string, name: string, value: string) => `label_replace(${vector}, "${name}", "${value.replace(/["\\]/g, '\\$&')}", "", "")`;

/** "2026-11-18 14:00:00", the expression browser's end time (UTC). */
const endInput = (at: Date) => at.toISOString().slice(0, 19).replace('T', ' ');

/** The graph of `expression` over `rangeSeconds` up to `end`. */
export function graphLink(baseUrl: string, expression: string, end: Date, rangeSeconds: number): string {
  const parameters = new URLSearchParams({ 'g0.expr': expression, 'g0.tab': '0', 'g0.range_input': `${Math.max(60, Math.round(rangeSeconds))}s`, 'g0.end_input': endInput(end) });
  return `${publicBaseUrl(baseUrl)}/graph?${parameters}`;
}

/** A graph link per observed signal of one deployment, for the window that ended at `end`. */
export function signalLinks(baseUrl: string, target: DeploymentTarget, window: Window, end: Date): Record<keyof Signals, string> {
  const queries = signalQueries(window);
  return Object.fromEntries(Object.entries(queries).map(([signal, query]) => [signal, graphLink(baseUrl, forDeployment(query, target), end, windowSeconds(window))])) as Record<keyof Signals, string>;
}
