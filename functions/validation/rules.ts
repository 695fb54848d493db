// The checks admission runs on a SpicepodSet or SpicepodCluster, in order,
// each a small named rule with a reason a user can see. Objects reach the
// rules in the storage version (v1 / v1alpha1): review.ts converts a v2 object
// in-process, so no rule knows about API versions.
// `reject` findings deny the request under the `err` level; `warn` findings
// become the AdmissionReview warnings kubectl prints.
import { RESERVED_KEYS } from '../../core/labels.ts';
import { deepFreeze, Memo } from '../../core/memo.ts';
import { setNameProblems } from '../../core/manifests/name-limits.ts';
import { DNS_PORT, userHandlesDns } from '../../core/manifests/network-policy.ts';
import { VolumeReason, volumeMountProblems } from '../../core/manifests/volumes.ts';
import { clusterMembershipProblem } from '../../core/spec/cluster-node.ts';
import { normalizeSpicepodClusterSpec, normalizeSpicepodSetSpec, parseSpicepod } from '../../core/spec/normalize.ts';
import { legacySpicepodSetFields, type SpicepodSetSpec } from '../../core/spec/spicepodset.ts';
import { spicepodFindings } from './spicepod-rules.ts';

export const REASON_RESERVED_KEY = 'ReservedKey';
export const REASON_INVALID_SPEC = 'InvalidSpec';
export const REASON_CHILD_NAME = 'ChildNameInvalid';
export const REASON_SPICEPOD_REFUSED = 'SpicepodRefused';
export const REASON_SPICEPOD_UNKNOWN_SECTION = 'SpicepodUnknownSection';
export const REASON_DEPRECATED_FIELD = 'DeprecatedField';
export const REASON_FLOATING_TAG = 'FloatingImageTag';
export const REASON_STORAGE_CLASS_MISSING = 'StorageClassNotFound';
/** volumeMounts against the volumes (core/manifests/volumes.ts checks them; the reconcile-time backstop too). */
export const REASON_VOLUME_MOUNT_UNKNOWN = VolumeReason.MountUnknownVolume;
export const REASON_VOLUME_NOT_MOUNTED = VolumeReason.NotMounted;
export const REASON_VOLUME_MOUNT_PATH_TAKEN = VolumeReason.MountPathTaken;
export const REASON_VOLUME_NAME_RESERVED = VolumeReason.NameReserved;
export const REASON_DNS_EGRESS_INCOMPLETE = 'DnsEgressIncomplete';

export interface Finding {
  reason: string;
  severity: 'reject' | 'warn';
  field: string;
  message: string;
}

export interface AdmittedObject {
  kind: string;
  metadata: {
    name?: string;
    namespace?: string;
    annotations?: Record<string, string>;
    ownerReferences?: { apiVersion: string; kind: string; name: string; controller?: boolean }[];
  };
  spec?: unknown;
}

/** Lookups some rules need; absent ones are skipped. */
export interface Lookups {
  /** true/false: the StorageClass exists or not; undefined: cannot tell (the rule then says nothing). */
  storageClassExists?: (name: string) => Promise<boolean | undefined>;
}

// biome-ignore lint/suspicious/noExplicitAny: a spec as the API server admitted it (decoded JSON); each rule narrows what it reads
type Rec = Record<string, any>;
type Rule = (o: AdmittedObject, spec: Rec, lookups: Lookups) => Finding[] | Promise<Finding[]>;

/** The workload specs inside an object, with where they are written. */
function workloads(o: AdmittedObject, spec: Rec): { at: string; spec: Rec }[] {
  if (o.kind === 'SpicepodCluster') {
    return (['schedulerSetSpec', 'executorSetSpec'] as const)
      .filter((k) => spec[k] && typeof spec[k] === 'object')
      .map((k) => ({ at: `spec.${k}`, spec: spec[k] }));
  }
  return [{ at: 'spec', spec }];
}

/** spec.labels / spec.annotations may not set what the operator sets (facts §1.10, G3: refused at admission). */
const reservedKeys: Rule = (o, spec) =>
  workloads(o, spec).flatMap(({ at, spec: w }) =>
    (['labels', 'annotations'] as const).flatMap((map) =>
      Object.keys((w[map] ?? {}) as Rec)
        .filter((key) => RESERVED_KEYS.has(key))
        .map((key) => ({
          reason: REASON_RESERVED_KEY,
          severity: 'reject' as const,
          field: `${at}.${map}[${key}]`,
          message: `is reserved: the operator sets ${key} itself on the objects it creates; remove it`,
        })),
    ),
  );

/** Everything the reconcile-time check refuses (InvalidSpec), refused before it is stored. */
const specProblems: Rule = (o, spec) => {
  const normalized = o.kind === 'SpicepodCluster' ? normalizeSpicepodClusterSpec(spec, o.metadata.name) : normalizeSpicepodSetSpec(spec);
  if (!normalized.ok)
    return normalized.problems.map((p) => ({ reason: REASON_INVALID_SPEC, severity: 'reject', field: p.field, message: p.message }));
  if (o.kind !== 'SpicepodSet') return [];
  const set = normalized.spec as SpicepodSetSpec;
  const membership = clusterMembershipProblem(o.metadata, set.cluster);
  return [
    ...setNameProblems(o.metadata.name ?? '', set).map((p) => ({
      reason: REASON_CHILD_NAME,
      severity: 'reject' as const,
      field: p.field,
      message: p.message,
    })),
    ...(membership
      ? [{ reason: REASON_INVALID_SPEC, severity: 'reject' as const, field: membership.field, message: membership.message }]
      : []),
  ];
};

/** What spiced itself would refuse in the Spicepod (executors have none). */
const spicepod: Rule = (o, spec) => {
  const at = o.kind === 'SpicepodCluster' ? 'spec.schedulerSetSpec.spicepod' : 'spec.spicepod';
  const value = o.kind === 'SpicepodCluster' ? spec.schedulerSetSpec?.spicepod : spec.spicepod;
  if (value === undefined) return [];
  const parsed = parseSpicepod(value, at);
  if (!parsed.ok) return []; // specProblems names it
  return spicepodFindings(parsed.spicepod, at).map((f) => ({
    ...f,
    reason: f.severity === 'reject' ? REASON_SPICEPOD_REFUSED : REASON_SPICEPOD_UNKNOWN_SECTION,
  }));
};

const LEGACY_FIELDS = Object.keys(legacySpicepodSetFields);
const LEGACY_VOLUME_FIELDS = ['storage_class_name', 'storage_requests'];

/** Spellings and values v2 no longer has (facts §1.2, §1.4). */
const deprecated: Rule = (o, spec) => {
  const out: Finding[] = [];
  if (o.kind === 'SpicepodSet') {
    for (const key of LEGACY_FIELDS) {
      if (spec[key] !== undefined)
        out.push({
          reason: REASON_DEPRECATED_FIELD,
          severity: 'warn',
          field: `spec.${key}`,
          message: 'is a deprecated snake_case spelling: use the camelCase field (spice.ai/v2 has only those)',
        });
    }
    for (const key of LEGACY_VOLUME_FIELDS) {
      if (spec.volume?.[key] !== undefined)
        out.push({
          reason: REASON_DEPRECATED_FIELD,
          severity: 'warn',
          field: `spec.volume.${key}`,
          message: 'is a deprecated snake_case spelling: use the camelCase field',
        });
    }
  }
  for (const { at, spec: w } of workloads(o, spec)) {
    for (const strategy of [w.updateStrategy, w.update_strategy]) {
      if (strategy?.type === 'Parallel') {
        out.push({
          reason: REASON_DEPRECATED_FIELD,
          severity: 'warn',
          field: `${at}.${strategy === w.updateStrategy ? 'updateStrategy' : 'update_strategy'}.type`,
          message:
            'Parallel is deprecated (spice.ai/v2 removed it and reads it as RollingOrdered): use RollingParallel with maxUnavailable',
        });
      }
    }
  }
  return out;
};

/** A tag that moves: pods started at different times run different builds. */
const floatingTag: Rule = (o, spec) =>
  workloads(o, spec).flatMap(({ at, spec: w }) => {
    const tag: unknown = w.image?.tag ?? w.spiceai_image_tag;
    const effective = typeof tag === 'string' ? tag : 'latest-models';
    if (effective.includes('@sha256:')) return [];
    const bare = effective.split('@')[0]!;
    if (!(bare === 'latest' || bare.startsWith('latest-'))) return [];
    return [
      {
        reason: REASON_FLOATING_TAG,
        severity: 'warn' as const,
        field: `${at}.image.tag`,
        message: `${tag === undefined ? `is not set, so ${effective} is used, a floating tag` : `${JSON.stringify(bare)} floats`}: replicas started at different times may run different spiced builds; pin a version (e.g. 1.9.0-models) or a digest`,
      },
    ];
  });

/** The claims of a volume whose StorageClass does not exist stay Pending for ever. */
const storageClass: Rule = async (o, spec, lookups) => {
  if (!lookups.storageClassExists) return [];
  const out: Finding[] = [];
  for (const { at, spec: w } of workloads(o, spec)) {
    const written = w.volume?.storageClassName !== undefined ? 'storageClassName' : 'storage_class_name';
    const named: { field: string; name: unknown }[] = [{ field: `${at}.volume.${written}`, name: w.volume?.[written] }];
    if (Array.isArray(w.volumeClaimTemplates))
      w.volumeClaimTemplates.forEach((t: Rec, i: number) =>
        named.push({ field: `${at}.volumeClaimTemplates[${i}].spec.storageClassName`, name: t?.spec?.storageClassName }),
      );
    for (const { field, name } of named) {
      if (typeof name !== 'string' || name === '') continue;
      if ((await lookups.storageClassExists(name)) === false) {
        out.push({
          reason: REASON_STORAGE_CLASS_MISSING,
          severity: 'reject',
          field,
          message: `names StorageClass ${JSON.stringify(name)}, which does not exist: the claims would stay Pending; create it or name an existing one (kubectl get storageclass)`,
        });
      }
    }
  }
  return out;
};

/**
 * Every volumeMounts entry names a volumeClaimTemplate or a volume of the pods, every
 * template but data is mounted, no two mounts share a path. Cluster nodes carry their
 * certificate volume unless the cluster runs without mTLS.
 */
const volumes: Rule = (o, spec) => {
  if (o.kind === 'SpicepodSet') {
    const normalized = normalizeSpicepodSetSpec(spec);
    return normalized.ok
      ? volumeMountProblems(normalized.spec).map((p) => ({
          reason: p.reason,
          severity: 'reject' as const,
          field: p.field,
          message: p.message,
        }))
      : [];
  }
  return workloads(o, spec).flatMap(({ at, spec: w }) => {
    if (w.volumeMounts !== undefined && !Array.isArray(w.volumeMounts)) return [];
    const node = {
      volume: w.volume,
      volumeClaimTemplates: Array.isArray(w.volumeClaimTemplates) ? w.volumeClaimTemplates : undefined,
      volumeMounts: w.volumeMounts,
      cluster: { allowInsecureConnections: spec.allowInsecureConnections === true },
    } as Parameters<typeof volumeMountProblems>[0];
    return volumeMountProblems(node, at).map((p) => ({
      reason: p.reason,
      severity: 'reject' as const,
      field: p.field,
      message: p.message,
    }));
  });
};

/**
 * The operator adds DNS egress (UDP and TCP 53) unless an egress rule names port 53
 * (core/manifests/network-policy.ts): then the user's rules are all there is, and one
 * that opens 53 over UDP or TCP alone breaks lookups whose answers need the other
 * (resolvers retry over TCP when a UDP answer is truncated; RFC 7766).
 */
const dnsEgress: Rule = (o, spec) =>
  workloads(o, spec).flatMap(({ at, spec: w }) => {
    const written = w.network?.egress !== undefined ? 'network.egress' : 'egress';
    const egress: unknown = w.network?.egress ?? w.egress;
    if (!Array.isArray(egress) || !userHandlesDns(egress)) return [];
    const covers = (protocol: string) =>
      egress.some((r: Rec) =>
        (r?.ports ?? []).some(
          (p: Rec) =>
            (p?.protocol ?? 'TCP') === protocol && typeof p.port === 'number' && p.port <= DNS_PORT && DNS_PORT <= (p.endPort ?? p.port),
        ),
      );
    const missing = ['UDP', 'TCP'].filter((protocol) => !covers(protocol));
    if (!missing.length) return [];
    return [
      {
        reason: REASON_DNS_EGRESS_INCOMPLETE,
        severity: 'warn' as const,
        field: `${at}.${written}`,
        message: `opens port ${DNS_PORT} without ${missing.join(' and ')}: a rule naming port ${DNS_PORT} replaces the DNS egress the operator adds (UDP and TCP ${DNS_PORT}), and lookups need both (large answers are retried over TCP); add ${missing.join(' and ')} ${DNS_PORT}`,
      },
    ];
  });

/**
 * In order: the first rules name the most basic problems. A `pure` rule reads only the object's kind,
 * name, owner references and spec, so what it finds is remembered for that content; the others ask
 * the cluster (lookups) every time.
 */
export const RULES: readonly { name: string; check: Rule; pure: boolean }[] = [
  { name: 'reserved-keys', check: reservedKeys, pure: true },
  { name: 'spec', check: specProblems, pure: true },
  { name: 'volumes', check: volumes, pure: true },
  { name: 'spicepod', check: spicepod, pure: true },
  { name: 'storage-class', check: storageClass, pure: false },
  { name: 'dns-egress', check: dnsEgress, pure: true },
  { name: 'deprecated', check: deprecated, pure: true },
  { name: 'floating-tag', check: floatingTag, pure: true },
];

/**
 * What the pure rules found, per rule, by the content they read. An UPDATE's old object is the
 * object the previous review admitted, and the API server sends an object again on every retry and
 * dry run, so most reviews find their objects here (bench/crd-webhooks.ts).
 */
const pureFindings = new Memo<string, readonly (readonly Finding[])[]>(256);

export async function findings(o: AdmittedObject, lookups: Lookups = {}): Promise<Finding[]> {
  const spec = (o.spec && typeof o.spec === 'object' ? o.spec : {}) as Rec;
  const key = JSON.stringify([o.kind, o.metadata?.name, o.metadata?.ownerReferences, o.spec]) ?? '';
  const pure =
    pureFindings.get(key) ??
    pureFindings.set(key, deepFreeze(RULES.map((rule) => (rule.pure ? (rule.check(o, spec, lookups) as Finding[]) : []))));
  const out: Finding[] = [];
  for (const [i, rule] of RULES.entries()) out.push(...(rule.pure ? pure[i]! : await rule.check(o, spec, lookups)));
  return out;
}
