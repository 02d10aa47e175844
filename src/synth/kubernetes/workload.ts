import { ApiObject } from 'cdk8s';
import type { Construct } from 'constructs';
import type { FleetDeployment } from '../../fleet/fleet.ts';
import { analysisTemplateNames, serviceNames } from '../../fleet/naming.ts';
import { analysisDurationSeconds, CANARY_MAX_SURGE, deploymentCanaryTraffic } from '../../fleet/canary-traffic.ts';
import { deploymentLabels, selectorLabels, syncWave, SyncWave, versionLabel } from './labels.ts';
import { modelServerPodTemplate, startupBudgetSeconds } from './model-server.ts';
import { routeName } from './route.ts';

/** What scales the workload (the KEDA ScaledObject points at this). */
export interface WorkloadRef {
  readonly apiVersion: string;
  readonly kind: string;
  readonly name: string;
}

/** Argo Rollouts' Gateway API traffic-router plugin, as registered in the controller's `trafficRouterPlugins`. */
export const GATEWAY_API_PLUGIN = 'argoproj-labs/gatewayAPI';

/** Slack on top of the start-up and analysis budgets before a rollout counts as stuck, seconds. */
const PROGRESS_SLACK_SECONDS = 600;

/**
 * `progressDeadlineSeconds`: a new replica may take its whole start-up budget
 * (downloading and loading the weights) and then an analysis before the rollout
 * moves on; the Kubernetes/Argo default of 600 s would mark a 70B rollout
 * Degraded while its first canary pod is still loading.
 */
export function progressDeadlineSeconds(deployment: FleetDeployment): number {
  const analysis = deployment.environment.canary ? analysisDurationSeconds(deployment.policy) : 0;
  return startupBudgetSeconds(deployment) + analysis + PROGRESS_SLACK_SECONDS;
}

/**
 * Argo Rollouts canary steps from the policy: per step, the canary's pods for
 * its weight (`setCanaryScale`, routed canaries), the weight, the analysis and
 * the pause. Without a router the weights are the canary's real share of the
 * pods (see canary-traffic.ts).
 */
export function canarySteps(deployment: FleetDeployment): Record<string, unknown>[] {
  const plan = deploymentCanaryTraffic(deployment);
  return plan.steps.flatMap((step, index) => {
    const last = index === plan.steps.length - 1;
    const out: Record<string, unknown>[] = [];
    if (plan.router === 'gateway-api') out.push({ setCanaryScale: { weight: step.setWeight } });
    out.push({ setWeight: step.setWeight });
    if (step.analysis) {
      const names = analysisTemplateNames(deployment.model.name);
      // With no stable pod left at this step (the canary takes every request) there is nothing to compare with.
      const stableRuns = step.pods.atMin.stable > 0 && step.pods.atMax.stable > 0;
      out.push({
        analysis: {
          templates: [{ templateName: names.canary }, ...(stableRuns ? [{ templateName: names.versusStable }] : [])],
          args: [{ name: 'canary-hash', valueFrom: { podTemplateHashValue: 'Latest' } }, ...(stableRuns ? [{ name: 'stable-hash', valueFrom: { podTemplateHashValue: 'Stable' } }] : [])],
        },
      });
    }
    if (!last) out.push({ pause: step.pauseMinutes > 0 ? { duration: `${step.pauseMinutes}m` } : {} });
    return out;
  });
}

/**
 * The model server workload: an Argo Rollouts `Rollout` with the policy's canary
 * (exact weights through the Gateway API router, or replica-count weights), or
 * a `Deployment` where the environment has no canaries. `spec.replicas` is left
 * out: KEDA owns the replica count.
 */
export function addWorkload(scope: Construct, deployment: FleetDeployment): WorkloadRef {
  const name = deployment.model.name;
  const metadata = { name, labels: { ...deploymentLabels(deployment), ...versionLabel(deployment) }, annotations: syncWave(SyncWave.workload) };
  const common = {
    revisionHistoryLimit: 3,
    progressDeadlineSeconds: progressDeadlineSeconds(deployment),
    selector: { matchLabels: selectorLabels(deployment) },
    template: modelServerPodTemplate(deployment),
  };
  if (!deployment.environment.canary) {
    new ApiObject(scope, 'workload', {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata,
      spec: { ...common, strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: CANARY_MAX_SURGE, maxUnavailable: 0 } } },
    });
    return { apiVersion: 'apps/v1', kind: 'Deployment', name };
  }
  const services = serviceNames(name);
  const routed = deployment.environment.gateway.canaryTraffic === 'gateway-api';
  new ApiObject(scope, 'workload', {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Rollout',
    metadata,
    spec: {
      ...common,
      strategy: {
        canary: {
          stableService: services.stable,
          canaryService: services.canary,
          // A new replica needs free GPUs: add one at a time, never remove a serving one first.
          maxSurge: CANARY_MAX_SURGE,
          maxUnavailable: 0,
          ...(routed
            ? {
                // The plugin rewrites the HTTPRoute's stable/canary backend weights; Argo CD ignores those fields (see argocd-synthesizer.ts).
                trafficRouting: { plugins: { [GATEWAY_API_PLUGIN]: { httpRoute: routeName(name), namespace: deployment.environment.namespace, disableInProgressLabel: true } } },
                // Stable shrinks as traffic leaves it, so canary pods replace stable ones; the peak extra is what one step adds.
                dynamicStableScale: true,
              }
            : {}),
          steps: canarySteps(deployment),
        },
      },
    },
  });
  return { apiVersion: 'argoproj.io/v1alpha1', kind: 'Rollout', name };
}
