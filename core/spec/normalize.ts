// Turns a spec as stored by the API server into the one shape handlers use:
// legacy snake_case spellings folded into camelCase (camelCase wins), a YAML
// string Spicepod parsed, defaults applied. Problems a user can fix come back
// as data naming the field, never as exceptions.
import { deepFreeze, Memo } from '../memo.ts';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { normalizedSpicepodSetSpecSchema, spicepodSetSpecSchema, type SpicepodSetSpec, type SpicepodSetSpecInput } from './spicepodset.ts';
import { spicepodClusterSpecSchema, type SpicepodClusterSpec } from './spicepodcluster.ts';
import { clusterPortProblems, networkRuleProblems } from './network.ts';
import { STATE_LOCATION_FIELD, stateLocationProblem } from './scheduler-state.ts';
import { clusterNodePort, nodeAddressProblems } from './cluster-node.ts';
import { apiServerProblems } from './api-rules.ts';

export interface SpecProblem {
  /** Path of the offending field, e.g. spec.serviceAccount.name. */
  field: string;
  message: string;
}

export type Normalized<T> = { ok: true; spec: T } | { ok: false; problems: SpecProblem[] };

/**
 * An executor's HTTP server answers /health only (crates/runtime/src/http/mod.rs
 * `start_health_only`, spiceai/spiceai @ 007885f9): a readiness probe on
 * /v1/ready would never pass. Liveness timings apply.
 */
const EXECUTOR_READINESS_MESSAGE =
  'must not be set on executors: spiced serves only /health on an executor (no /v1/ready to probe for readiness); set probes.liveness, which probes /health';

function problemsOf(error: z.ZodError, prefix: string): SpecProblem[] {
  return error.issues.map((issue) => ({
    field: [prefix, ...issue.path.map(String)].join('.'),
    message: issue.message,
  }));
}

/** Parses a Spicepod given as an object or as a YAML string. */
export function parseSpicepod(
  value: unknown,
  field: string,
): { ok: true; spicepod: Record<string, unknown> } | { ok: false; problem: SpecProblem } {
  let pod = value;
  if (typeof value === 'string') {
    try {
      pod = parseYaml(value, { logLevel: 'error' });
    } catch (error) {
      const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
      return { ok: false, problem: { field, message: `is not valid YAML: ${reason}` } };
    }
  }
  if (pod === null || typeof pod !== 'object' || Array.isArray(pod)) {
    return { ok: false, problem: { field, message: 'must be a Spicepod object (name, kind: Spicepod, version)' } };
  }
  return { ok: true, spicepod: pod as Record<string, unknown> };
}

/** `latest`-style tags float, so they are pulled every time, as Kubernetes does for :latest. */
export function defaultPullPolicy(tag: string): 'Always' | 'IfNotPresent' {
  const bare = tag.split('@')[0] ?? tag;
  return bare === 'latest' || bare.startsWith('latest-') ? 'Always' : 'IfNotPresent';
}

function foldLegacy(spec: SpicepodSetSpecInput): Record<string, unknown> {
  const {
    spiceai_image_registry,
    spiceai_image_name,
    spiceai_image_tag,
    spiceai_image_pull_secret,
    spiced,
    enable_service,
    env_from_source,
    service_account,
    update_strategy,
    ingress,
    egress,
    dnsPolicy,
    dnsConfig,
    volume,
    ...camel
  } = spec;
  const image = {
    registry: spiceai_image_registry,
    name: spiceai_image_name,
    tag: spiceai_image_tag,
    pullSecret: spiceai_image_pull_secret,
    ...defined(camel.image ?? {}),
  };
  const folded: Record<string, unknown> = {
    ...camel,
    image: defined(image),
    httpPort: camel.httpPort ?? spiced?.http_port,
    flightPort: camel.flightPort ?? spiced?.flight_port,
    metricsPort: camel.metricsPort ?? spiced?.metrics_port,
    enableService: camel.enableService ?? enable_service,
    envFromSource: camel.envFromSource ?? env_from_source,
  };
  if (service_account || camel.serviceAccount) {
    folded.serviceAccount = { ...defined(service_account ?? {}), ...defined(camel.serviceAccount ?? {}) };
  }
  if (update_strategy || camel.updateStrategy) {
    folded.updateStrategy = defined({
      // The snake_case generation documented RollingParallel as its default.
      type: camel.updateStrategy?.type ?? update_strategy?.type ?? (update_strategy ? 'RollingParallel' : undefined),
      maxUnavailable: camel.updateStrategy?.maxUnavailable ?? update_strategy?.max_unavailable,
      minReadyForCutover: camel.updateStrategy?.minReadyForCutover,
    });
  }
  if (ingress || egress || dnsPolicy || dnsConfig || camel.network) {
    folded.network = defined({
      ingress: camel.network?.ingress ?? ingress,
      egress: camel.network?.egress ?? egress,
      dnsPolicy: camel.network?.dnsPolicy ?? dnsPolicy,
      dnsConfig: camel.network?.dnsConfig ?? dnsConfig,
    });
  }
  if (volume) {
    folded.volume = defined({
      storageClassName: volume.storageClassName ?? volume.storage_class_name,
      storageRequests: volume.storageRequests ?? volume.storage_requests,
    });
  }
  return defined(folded);
}

function defined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

/** Rules that span fields, which the schema alone cannot state. */
function crossFieldProblems(spec: SpicepodSetSpec): SpecProblem[] {
  const problems: SpecProblem[] = [];
  const sa = spec.serviceAccount;
  if (sa.enabled && !sa.create && !sa.name) {
    problems.push({
      field: 'spec.serviceAccount.name',
      message: 'is required when serviceAccount.enabled is true and create is false: name an existing ServiceAccount, or set create: true',
    });
  }
  if (spec.volume && spec.volumeClaimTemplates) {
    // The CRD says so too (VOLUME_EXCLUSIVE_RULE); this names it for objects admitted without that rule.
    problems.push({
      field: 'spec.volumeClaimTemplates',
      message: 'must not be set with volume: volume is the volumeClaimTemplate data; set one of them',
    });
  }
  if (spec.network?.dnsPolicy === 'None' && !spec.network.dnsConfig?.nameservers?.length) {
    problems.push({
      field: 'spec.network.dnsConfig.nameservers',
      message: 'must list at least one nameserver when network.dnsPolicy is None',
    });
  }
  const ports = [
    ['httpPort', spec.httpPort],
    ['flightPort', spec.flightPort],
    ['metricsPort', spec.metricsPort],
  ] as const;
  for (let i = 0; i < ports.length; i++) {
    for (let j = i + 1; j < ports.length; j++) {
      if (ports[i]![1] === ports[j]![1]) {
        problems.push({
          field: `spec.${ports[j]![0]}`,
          message: `must differ from spec.${ports[i]![0]} (both are ${ports[i]![1]})`,
        });
      }
    }
  }
  if (spec.cluster) {
    problems.push(...nodeAddressProblems(spec.cluster, spec.replicas, 'spec.cluster'));
    problems.push(...clusterPortProblems(spec, 'spec', clusterNodePort(spec.cluster)));
  }
  if (spec.cluster && spec.updateStrategy.type === 'BlueGreen') {
    problems.push({
      field: 'spec.updateStrategy.type',
      message: 'BlueGreen is not supported on cluster nodes (their certificates name each pod); use RollingOrdered',
    });
  }
  if (spec.cluster?.role === 'executor' && spec.probes?.readiness) {
    problems.push({ field: 'spec.probes.readiness', message: EXECUTOR_READINESS_MESSAGE });
  }
  return problems;
}

// Normalizing is the costliest step of most reconciles, and most reconciles see a set whose spec
// has not changed (a child, a pod or its own status did). Results are remembered by the spec's JSON
// (sets with equal specs share one), and frozen so that no caller can change what the next one gets.
const normalizedSets = new Memo<string, Normalized<SpicepodSetSpec>>(4096);

/** Validates a SpicepodSet spec (either spelling) and returns it in the G2 form with defaults. The result is frozen. */
export function normalizeSpicepodSetSpec(raw: unknown): Normalized<SpicepodSetSpec> {
  const key = JSON.stringify(raw) ?? 'undefined';
  return normalizedSets.get(key) ?? normalizedSets.set(key, deepFreeze(normalizeSetSpec(raw)));
}

function normalizeSetSpec(raw: unknown): Normalized<SpicepodSetSpec> {
  const admitted = spicepodSetSpecSchema.safeParse(raw);
  if (!admitted.success) return { ok: false, problems: problemsOf(admitted.error, 'spec') };
  const pod = parseSpicepod(admitted.data.spicepod, 'spec.spicepod');
  if (!pod.ok) return { ok: false, problems: [pod.problem] };
  const folded = { ...foldLegacy(admitted.data), spicepod: pod.spicepod };
  const normalized = normalizedSpicepodSetSpecSchema.safeParse(folded);
  if (!normalized.success) return { ok: false, problems: problemsOf(normalized.error, 'spec') };
  const spec = normalized.data;
  spec.image.pullPolicy ??= defaultPullPolicy(spec.image.tag);
  // Name the rules where the user wrote them: the older spelling keeps them at the top level.
  const written = admitted.data;
  const networkFields = {
    ingress: written.network?.ingress === undefined && written.ingress !== undefined ? 'spec.ingress' : 'spec.network.ingress',
    egress: written.network?.egress === undefined && written.egress !== undefined ? 'spec.egress' : 'spec.network.egress',
  };
  const guard = spec.cluster ? { port: clusterNodePort(spec.cluster), clusterName: spec.cluster.clusterName ?? '' } : undefined;
  const problems = [...crossFieldProblems(spec), ...networkRuleProblems(spec.network, networkFields, guard), ...apiServerProblems(spec)];
  return problems.length ? { ok: false, problems } : { ok: true, spec };
}

/**
 * Validates a SpicepodCluster spec. `name` is the cluster's own name, which
 * ingress rules admitting the cluster's pods to the internal port must pin;
 * without it such a rule may pin any cluster name.
 */
export function normalizeSpicepodClusterSpec(raw: unknown, name?: string): Normalized<SpicepodClusterSpec> {
  const admitted = spicepodClusterSpecSchema.safeParse(raw);
  if (!admitted.success) return { ok: false, problems: problemsOf(admitted.error, 'spec') };
  const spec = admitted.data;
  if (spec.executorSetSpec.spicepod !== undefined) {
    return {
      ok: false,
      problems: [{ field: 'spec.executorSetSpec.spicepod', message: 'is not allowed: executors fetch the Spicepod from the scheduler' }],
    };
  }
  for (const role of ['schedulerSetSpec', 'executorSetSpec'] as const) {
    if (spec[role].updateStrategy?.type === 'BlueGreen') {
      return {
        ok: false,
        problems: [
          {
            field: `spec.${role}.updateStrategy.type`,
            message: 'BlueGreen is not supported on cluster nodes (their certificates name each pod); use RollingOrdered',
          },
        ],
      };
    }
  }
  // Every node is a cluster node: its rules may not open its internal port, nor its public ports take it.
  const problems = (['schedulerSetSpec', 'executorSetSpec'] as const).flatMap((role) => {
    const port = clusterNodePort(spec[role].cluster);
    return [
      ...nodeAddressProblems(spec[role].cluster, spec[role].replicas, `spec.${role}.cluster`),
      ...clusterPortProblems(spec[role], `spec.${role}`, port),
      ...networkRuleProblems(
        spec[role].network,
        { ingress: `spec.${role}.network.ingress`, egress: `spec.${role}.network.egress` },
        { port, clusterName: name },
      ),
    ];
  });
  const schedulerPort = clusterNodePort(spec.schedulerSetSpec.cluster);
  const executorPort = clusterNodePort(spec.executorSetSpec.cluster);
  if (schedulerPort !== executorPort) {
    problems.push({
      field: 'spec.executorSetSpec.cluster.bindAddress',
      message: `must use the port of spec.schedulerSetSpec.cluster.bindAddress (${schedulerPort}, got ${executorPort}): every node dials its peers on one internal port, which the NetworkPolicies open between them`,
    });
  }
  if (spec.executorSetSpec.probes?.readiness) {
    problems.push({ field: 'spec.executorSetSpec.probes.readiness', message: EXECUTOR_READINESS_MESSAGE });
  }
  if (problems.length) return { ok: false, problems };
  const pod = parseSpicepod(spec.schedulerSetSpec.spicepod, 'spec.schedulerSetSpec.spicepod');
  if (!pod.ok) return { ok: false, problems: [pod.problem] };
  const stateProblem = stateLocationProblem(pod.spicepod);
  if (stateProblem) return { ok: false, problems: [{ field: STATE_LOCATION_FIELD, message: stateProblem }] };
  return { ok: true, spec: { ...spec, schedulerSetSpec: { ...spec.schedulerSetSpec, spicepod: pod.spicepod } } };
}
