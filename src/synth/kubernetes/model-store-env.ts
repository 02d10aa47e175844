/** The variables vLLM's object-store loader needs, as cdk8s-plus environment values (literals or Secret keys). */
import type { Construct } from 'constructs';
import type { FleetDeployment } from '../../fleet/fleet.ts';
import { modelStoreVariables } from '../../fleet/workload-identity.ts';
import { kplus } from './plus.ts';

export function modelStoreEnv(scope: Construct, deployment: FleetDeployment): Record<string, kplus.EnvValue> {
  return Object.fromEntries(
    modelStoreVariables(deployment.environment, deployment.model).map((variable) => [
      variable.name,
      'secret' in variable
        ? kplus.EnvValue.fromSecretValue({ secret: kplus.Secret.fromSecretName(scope, `model-store-${variable.name}`, variable.secret.name), key: variable.secret.key }, { optional: false })
        : kplus.EnvValue.fromValue(variable.value),
    ]),
  );
}
