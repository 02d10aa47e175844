import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { App } from 'cdktf';
import type { Fleet } from '../../fleet/fleet.ts';
import { stableJson } from '../../fleet/stable-json.ts';
import { environmentSlice, type EnvironmentSlice } from '../environment-slice.ts';
import { GENERATED_NOTICE } from '../serialize.ts';
import type { OutputFile } from '../synthesizer.ts';
import { EnvironmentStack } from './environment-stack.ts';

/**
 * cdktf records the whole stack trace of every token it makes, unconditionally
 * (`creationStack`, cdktf/lib/tokens/private/stack-trace.js with
 * `Error.stackTraceLimit` raised to the maximum), for its own error messages.
 * At a thousand deployments that was a third of a GiB and seconds of
 * formatting per environment (BENCHMARKS.md, issue 17). The traces are not
 * part of the output, so while a stack is built and rendered they are
 * formatted as empty; an error's own trace is formatted when read, after.
 */
function withoutTokenStackTraces<T>(render: () => T): T {
  const previous = Error.prepareStackTrace;
  Error.prepareStackTrace = () => '';
  try {
    return render();
  } finally {
    Error.prepareStackTrace = previous;
  }
}

/** The Terraform JSON of one environment, as `terraform init && terraform plan` reads it. */
export function sliceTerraform(slice: EnvironmentSlice): Record<string, unknown> {
  return withoutTokenStackTraces(() => renderTerraform(slice));
}

function renderTerraform(slice: EnvironmentSlice): Record<string, unknown> {
  // cdktf's App insists on an output folder; we read the stack in memory and write nothing there.
  const outdir = mkdtempSync(path.join(tmpdir(), 'llmops-cdktf-'));
  try {
    const app = new App({ outdir, skipValidation: true, stackTraces: false });
    const stack = new EnvironmentStack(app, slice.environment.name, {
      environment: slice.environment,
      deployments: slice.deployments.map((deployment) => ({ model: deployment.model, spec: deployment.spec })),
      ownsClusterResources: slice.ownsClusterResources,
    });
    return stack.toTerraform() as Record<string, unknown>;
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

/** The Terraform JSON of one environment of a fleet. */
export function environmentTerraform(fleet: Fleet, environmentName: string): Record<string, unknown> {
  return sliceTerraform(environmentSlice(fleet, environmentName));
}

/**
 * `generated/<env>/terraform/cdk.tf.json`. The notice goes into the `//`
 * object cdktf already writes: Terraform ignores a `//` property in JSON
 * configuration (developer.hashicorp.com/terraform/language/syntax/json#comment-properties).
 */
export function terraformFile(slice: EnvironmentSlice): OutputFile {
  const terraform = sliceTerraform(slice);
  const comments = (terraform['//'] ?? {}) as Record<string, unknown>;
  return { path: `${slice.environment.name}/terraform/cdk.tf.json`, content: stableJson({ ...terraform, '//': { comment: GENERATED_NOTICE, ...comments } }) };
}
