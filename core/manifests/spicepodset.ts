// SpicepodSet spec -> the Kubernetes objects it is made of (pure functions).
import { stringify } from 'yaml';
import type { HandlerConfig, KubeObject } from '../handler.ts';
import type { SpicepodSetSpec } from '../spec/spicepodset.ts';
import { contentHash } from './hash.ts';
import { deepFreeze, Memo } from '../memo.ts';
import { SPICEPOD_KEY, commonLabels, names, withoutReserved } from './names.ts';
import { desiredVolumeClaimTemplates as claimTemplates, hasClaims } from './volumes.ts';
import { nodeTls, podTemplate, type PodTemplate } from './pod-template.ts';
import { clusterNodePort } from '../spec/cluster-node.ts';
import { ANNOTATION_REVISION } from '../annotations.ts';
import { LABEL_APP, LABEL_REPLICA, LABEL_VERSION, LABEL_WORKLOAD } from '../labels.ts';

export interface SetContext {
  set: string;
  namespace: string;
  spec: SpicepodSetSpec;
  config: HandlerConfig;
}

/** Public Service ports (reference §2.4): fixed service ports, targeting the configured container ports. */
export const SERVICE_PORTS = { http: 8090, flight: 50051, metrics: 9090 } as const;

function meta(ctx: SetContext, name: string, extraLabels: Record<string, string> = {}) {
  return {
    name,
    namespace: ctx.namespace,
    labels: { ...commonLabels(ctx.set, ctx.spec), ...extraLabels },
    annotations: Object.keys(withoutReserved(ctx.spec.annotations)).length ? withoutReserved(ctx.spec.annotations) : undefined,
  };
}

/**
 * A Deployment for the simple case; per-replica StatefulSets for claims (volume, volumeClaimTemplates), cluster role or several
 * replicas, and for BlueGreen, whose generations and standby are sets of StatefulSets.
 */
export function workloadMode(spec: SpicepodSetSpec): 'Deployment' | 'StatefulSets' {
  const simple = !hasClaims(spec) && !spec.cluster && spec.replicas <= 1 && spec.updateStrategy.type !== 'BlueGreen';
  return simple ? 'Deployment' : 'StatefulSets';
}

export function spicepodYaml(spec: SpicepodSetSpec): string {
  // Rendering YAML is a reconcile's costliest step; a normalized spec is frozen, so its
  // Spicepod object stands for its content.
  const spicepod = spec.spicepod as object;
  const hit = rendered.get(spicepod);
  if (hit !== undefined) return hit;
  const yaml = stringify(spicepod, { lineWidth: 0 });
  if (Object.isFrozen(spicepod)) rendered.set(spicepod, yaml);
  return yaml;
}
const rendered = new WeakMap<object, string>();

export function desiredConfigMap(ctx: SetContext): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: meta(ctx, names.configMap(ctx.set)),
    data: { [SPICEPOD_KEY]: spicepodYaml(ctx.spec) },
  };
}

export function desiredService(ctx: SetContext, version?: string): KubeObject {
  const { spec } = ctx;
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: meta(ctx, names.service(ctx.set)),
    spec: {
      type: 'ClusterIP',
      selector: { [LABEL_APP]: ctx.set, ...(version ? { [LABEL_VERSION]: version } : {}) },
      ports: [
        { name: 'http', port: SERVICE_PORTS.http, targetPort: spec.httpPort, protocol: 'TCP' },
        { name: 'flight', port: SERVICE_PORTS.flight, targetPort: spec.flightPort, protocol: 'TCP' },
        { name: 'metrics', port: SERVICE_PORTS.metrics, targetPort: spec.metricsPort, protocol: 'TCP' },
      ],
    },
  };
}

/** Stable per-pod DNS for the StatefulSets; cluster peers dial each other through it. */
export function desiredHeadlessService(ctx: SetContext): KubeObject {
  const { spec } = ctx;
  const ports = [
    { name: 'http', port: spec.httpPort, targetPort: spec.httpPort, protocol: 'TCP' },
    { name: 'flight', port: spec.flightPort, targetPort: spec.flightPort, protocol: 'TCP' },
  ];
  if (spec.cluster) {
    const port = clusterNodePort(spec.cluster);
    ports.push({ name: 'cluster', port, targetPort: port, protocol: 'TCP' });
  }
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: meta(ctx, names.headlessService(ctx.set)),
    spec: {
      clusterIP: 'None',
      // Peers must resolve each other before they are Ready, or a cluster cannot form.
      publishNotReadyAddresses: true,
      selector: { [LABEL_APP]: ctx.set },
      ports,
    },
  };
}

/** ServiceAccount (annotations only here: IRSA), Role and RoleBinding, when the set creates its own. */
export function desiredServiceAccountObjects(ctx: SetContext): KubeObject[] {
  const sa = ctx.spec.serviceAccount;
  if (!sa.enabled || !sa.create) return [];
  const saName = names.serviceAccount(ctx.set, ctx.spec);
  return [
    {
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: { ...meta(ctx, saName), annotations: sa.annotations },
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: meta(ctx, names.role(ctx.set)),
      // Read access for spiced's kubernetes secret store and ConfigMap-backed settings, in its own namespace only.
      rules: [{ apiGroups: [''], resources: ['secrets', 'configmaps'], verbs: ['get', 'list', 'watch'] }],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: meta(ctx, names.role(ctx.set)),
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: names.role(ctx.set) },
      subjects: [{ kind: 'ServiceAccount', name: saName, namespace: ctx.namespace }],
    },
  ];
}

/** The set's pod template, without any workload's labels, and its revision (a hash of everything that should roll the pods). */
function baseTemplate(ctx: SetContext): { revision: string; template: PodTemplate } {
  // Rendering the Spicepod and hashing are most of a reconcile's work: remembered per set for the
  // same (frozen, normalized) spec object and configuration.
  const key = `${ctx.namespace}/${ctx.set}`;
  const hit = revisioned.get(key);
  if (hit && hit.spec === ctx.spec && hit.config === ctx.config) return hit.result;
  const spicepodChecksum = contentHash(spicepodYaml(ctx.spec), 16);
  const template = deepFreeze(podTemplate({ ...ctx, spicepodChecksum, selectorLabels: {} }));
  const result = { revision: contentHash(template), template };
  if (Object.isFrozen(ctx.spec)) revisioned.set(key, { spec: ctx.spec, config: ctx.config, result });
  return result;
}
const revisioned = new Memo<
  string,
  { spec: SpicepodSetSpec; config: SetContext['config']; result: { revision: string; template: PodTemplate } }
>(4096);

/** The revision of the set's pod template: what a workload's pods are compared with to know whether they are current. */
export const templateRevision = (ctx: SetContext): string => baseTemplate(ctx).revision;

export interface Replica {
  /** Labels the workload selects its pods by. */
  selectorLabels: Record<string, string>;
  /** A StatefulSet replica: a cluster node mounts its own certificate, named after its StatefulSet. */
  statefulSet?: string;
}

/**
 * A replica's pod template, in one call: the set's template with the workload's selector labels,
 * its revision, and on a cluster node with mTLS its own certificate's volume.
 */
export function replicaPodTemplate(ctx: SetContext, replica: Replica): PodTemplate {
  const { revision, template } = baseTemplate(ctx);
  const volumes = replica.statefulSet ? nodeTls(ctx.spec, names.nodeTlsSecret(replica.statefulSet)).volumes : [];
  return {
    ...template,
    metadata: {
      labels: { ...template.metadata.labels, ...replica.selectorLabels },
      annotations: { ...template.metadata.annotations, [ANNOTATION_REVISION]: revision },
    },
    ...(volumes.length ? { spec: { ...template.spec, volumes: [...template.spec.volumes, ...volumes] } } : {}),
  };
}

export function deploymentSelector(set: string): Record<string, string> {
  return { [LABEL_APP]: set, [LABEL_WORKLOAD]: 'deployment' };
}

export function desiredDeployment(ctx: SetContext, replicas: number): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: meta(ctx, names.deployment(ctx.set)),
    spec: {
      replicas,
      selector: { matchLabels: deploymentSelector(ctx.set) },
      // The new pod is Ready before the old one goes.
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
      template: replicaPodTemplate(ctx, { selectorLabels: deploymentSelector(ctx.set) }),
    },
  };
}

export function statefulSetSelector(set: string, ordinal: number, version?: string): Record<string, string> {
  return { [LABEL_APP]: set, [LABEL_REPLICA]: String(ordinal), ...(version ? { [LABEL_VERSION]: version } : {}) };
}

/** The StatefulSets' claim templates (core/manifests/volumes.ts). */
export const desiredVolumeClaimTemplates = (ctx: SetContext) => claimTemplates(ctx.set, ctx.spec);

export interface StatefulSetInput {
  ordinal: number;
  replicas: 0 | 1;
  version?: string;
  /** volumeClaimTemplates are immutable: an existing StatefulSet keeps its own. */
  volumeClaimTemplates?: unknown[];
  /** BlueGreen generations get fresh claims and drop them with the generation. */
  ephemeralClaims?: boolean;
}

export function desiredStatefulSet(ctx: SetContext, input: StatefulSetInput): KubeObject {
  const name = names.statefulSet(ctx.set, input.ordinal, input.version);
  const claims = input.volumeClaimTemplates ?? desiredVolumeClaimTemplates(ctx);
  const extra: Record<string, string> = { [LABEL_REPLICA]: String(input.ordinal) };
  if (input.version) extra[LABEL_VERSION] = input.version;
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: meta(ctx, name, extra),
    spec: {
      replicas: input.replicas,
      serviceName: names.headlessService(ctx.set),
      selector: { matchLabels: statefulSetSelector(ctx.set, input.ordinal, input.version) },
      podManagementPolicy: 'Parallel',
      updateStrategy: { type: 'RollingUpdate' },
      persistentVolumeClaimRetentionPolicy: claims
        ? { whenDeleted: input.ephemeralClaims ? 'Delete' : 'Retain', whenScaled: 'Retain' }
        : undefined,
      template: replicaPodTemplate(ctx, { selectorLabels: statefulSetSelector(ctx.set, input.ordinal, input.version), statefulSet: name }),
      volumeClaimTemplates: claims,
    },
  };
}
