import type { Construct } from 'constructs';
import type { PromptVersion } from '../../declarations/prompt.ts';
import type { FleetDeployment } from '../../fleet/fleet.ts';
import { promptConfigMapName } from '../../fleet/naming.ts';
import { stableJson } from '../../fleet/stable-json.ts';
import { deploymentLabels, syncWave, SyncWave } from './labels.ts';
import { kplus } from './plus.ts';

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
