import { createHash } from 'node:crypto';
import type { Construct } from 'constructs';
import type { Prompt, PromptVersion } from '../../declarations/prompt.ts';
import type { FleetDeployment } from '../../fleet/fleet.ts';
import { stableJson } from '../serialize.ts';
import { deploymentLabels, syncWave, SyncWave } from './labels.ts';
import { kplus } from './plus.ts';

/** ConfigMap of one prompt version; the name carries a content hash, so an edit makes a new object and rolls its consumers. */
export function promptConfigMapName(prompt: Prompt, version: string): string {
  const hash = createHash('sha256').update(stableJson(prompt.versions[version])).digest('hex').slice(0, 8);
  return `prompt-${prompt.name}-${version}-${hash}`.slice(0, 63);
}

/** One ConfigMap per prompt version, immutable (a change is a new name). */
export function addPromptConfigMaps(scope: Construct, deployment: FleetDeployment): void {
  for (const prompt of deployment.prompts) {
    for (const [version, body] of Object.entries(prompt.versions) as [string, PromptVersion][]) {
      new kplus.ConfigMap(scope, `prompt-${prompt.name}-${version}`, {
        metadata: {
          name: promptConfigMapName(prompt, version),
          labels: { ...deploymentLabels(deployment), 'llmops.dev/prompt': prompt.name, 'llmops.dev/prompt-version': version },
          annotations: syncWave(SyncWave.configuration),
        },
        immutable: true,
        data: {
          system: body.system,
          template: body.template,
          'sampling.json': stableJson({ temperature: body.temperature, max_tokens: body.maxOutputTokens }),
        },
      });
    }
  }
}
