// How each field group of a SpicepodSet (and of a cluster node) maps between
// v1 (both its camelCase and snake_case spellings) and v2: the migration
// table of the product docs (facts §1.17), read so that what the operator
// does with the v1 form is what v2 means. Fields spelled the same in both
// versions are not listed: they pass through unchanged.
import { parse as parseYaml } from 'yaml';
import { DEFAULT_IMAGE } from '../spec/spicepodset.ts';
import { DATA_VOLUME } from '../spec/volumes.ts';
import { defined, type FieldRule, type Json } from './kept-fields.ts';

// biome-ignore lint/suspicious/noExplicitAny: a spec of either version as decoded JSON; each rule reads its own fields (the schemas check them)
type Obj = Record<string, any>;

/** Full repository to registry + name, the way the operator joins them again (core/manifests/pod-template.ts). */
export function splitRepository(repository: string): { registry?: string; name: string } {
  const slash = repository.indexOf('/');
  const first = slash > 0 ? repository.slice(0, slash) : '';
  // A first segment with a dot or a port, or localhost, is a registry host (the Docker reference rule).
  if (first && (first.includes('.') || first.includes(':') || first === 'localhost'))
    return { registry: first, name: repository.slice(slash + 1) };
  return { name: repository };
}

export function joinRepository(registry: string | undefined, name: string): string {
  return registry ? `${registry.replace(/\/+$/, '')}/${name}` : name;
}

const image: FieldRule = {
  name: 'image',
  older: ['image', 'spiceai_image_registry', 'spiceai_image_name', 'spiceai_image_tag', 'spiceai_image_pull_secret'],
  newer: ['image'],
  up(a) {
    const i: Obj = a.image ?? {};
    if (Object.keys(a).length === 0) return {};
    const registry = i.registry ?? a.spiceai_image_registry;
    const name = i.name ?? a.spiceai_image_name;
    return {
      image: defined({
        repository: registry !== undefined || name !== undefined ? joinRepository(registry, name ?? DEFAULT_IMAGE.name) : undefined,
        tag: i.tag ?? a.spiceai_image_tag,
        pullPolicy: i.pullPolicy,
        pullSecret: i.pullSecret ?? a.spiceai_image_pull_secret,
      }),
    };
  },
  down(b) {
    const i: Obj | undefined = b.image as Obj;
    if (!i) return {};
    return {
      image: defined({
        ...(typeof i.repository === 'string' ? splitRepository(i.repository) : {}),
        tag: i.tag,
        pullPolicy: i.pullPolicy,
        pullSecret: i.pullSecret,
      }),
    };
  },
};

const LISTENERS = [
  ['httpPort', 'http', 'http_port'],
  ['flightPort', 'flight', 'flight_port'],
  ['metricsPort', 'metrics', 'metrics_port'],
] as const;

const ports: FieldRule = {
  name: 'ports',
  older: ['httpPort', 'flightPort', 'metricsPort', 'spiced'],
  newer: ['http', 'flight', 'metrics'],
  up(a) {
    const spiced: Obj = a.spiced ?? {};
    const out: Json = {};
    for (const [older, newer, legacy] of LISTENERS) {
      const port = a[older] ?? spiced[legacy];
      if (port !== undefined) out[newer] = { port };
    }
    return out;
  },
  down(b) {
    const out: Json = {};
    for (const [older, newer] of LISTENERS) {
      const port = (b[newer] as Obj | undefined)?.port;
      if (port !== undefined) out[older] = port;
    }
    return out;
  },
};

const service: FieldRule = {
  name: 'service',
  older: ['enableService', 'enable_service'],
  newer: ['service'],
  up: (a) => {
    const enabled = a.enableService ?? a.enable_service;
    return enabled === undefined ? {} : { service: { enabled } };
  },
  down: (b) => {
    const enabled = (b.service as Obj | undefined)?.enabled;
    return enabled === undefined ? {} : { enableService: enabled };
  },
};

const envFromSource: FieldRule = {
  name: 'envFromSource',
  older: ['envFromSource', 'env_from_source'],
  newer: ['envFromSource'],
  up: (a) => defined({ envFromSource: a.envFromSource ?? a.env_from_source }),
  down: (b) => b,
};

const serviceAccount: FieldRule = {
  name: 'serviceAccount',
  older: ['serviceAccount', 'service_account'],
  newer: ['serviceAccount'],
  up: (a) =>
    Object.keys(a).length === 0
      ? {}
      : { serviceAccount: { ...defined((a.service_account as Json) ?? {}), ...defined((a.serviceAccount as Json) ?? {}) } },
  down: (b) => b,
};

const updateStrategy: FieldRule = {
  name: 'updateStrategy',
  older: ['updateStrategy', 'update_strategy'],
  newer: ['updateStrategy'],
  up(a) {
    if (Object.keys(a).length === 0) return {};
    const camel: Obj | undefined = a.updateStrategy as Obj;
    const legacy: Obj | undefined = a.update_strategy as Obj;
    // The snake_case generation defaulted to RollingParallel; v2 removed Parallel, which reads as the default RollingOrdered (facts §1.4).
    let type = camel?.type ?? legacy?.type ?? (legacy ? 'RollingParallel' : undefined);
    if (type === 'Parallel') type = 'RollingOrdered';
    return {
      updateStrategy: defined({
        type,
        maxUnavailable: camel?.maxUnavailable ?? legacy?.max_unavailable,
        minReadyForCutover: camel?.minReadyForCutover,
      }),
    };
  },
  down: (b) => b,
};

const network: FieldRule = {
  name: 'network',
  older: ['network', 'ingress', 'egress', 'dnsPolicy', 'dnsConfig'],
  newer: ['network'],
  up(a) {
    if (Object.keys(a).length === 0) return {};
    const n: Obj = a.network ?? {};
    return {
      network: defined({
        ...n,
        ingress: n.ingress ?? a.ingress,
        egress: n.egress ?? a.egress,
        dnsPolicy: n.dnsPolicy ?? a.dnsPolicy,
        dnsConfig: n.dnsConfig ?? a.dnsConfig,
      }),
    };
  },
  down: (b) => b,
};

/**
 * v2's templates as v1's `volume` when they say nothing else: the template data alone
 * (named data or unnamed), with at most a StorageClass and a storage request, and no
 * mounts. Anything more is stored in v1's volumeClaimTemplates and volumeMounts, the
 * same fields, so the operator acts on it (core/manifests/volumes.ts).
 */
function asVolume(templates: unknown, mounts: unknown): Json | undefined {
  if (mounts !== undefined || !Array.isArray(templates) || templates.length !== 1) return undefined;
  const t: Obj = templates[0] ?? {};
  const only = (o: unknown, keys: string[]) =>
    typeof o === 'object' && o !== null && !Array.isArray(o) && Object.keys(o).every((k) => keys.includes(k));
  if (t.metadata !== undefined && !(only(t.metadata, ['name']) && (t.metadata.name ?? DATA_VOLUME) === DATA_VOLUME)) return undefined;
  if (!only(t, ['metadata', 'spec']) || !only(t.spec, ['storageClassName', 'resources'])) return undefined;
  const resources: Obj | undefined = t.spec.resources;
  if (resources !== undefined && !(only(resources, ['requests']) && only(resources.requests, ['storage']))) return undefined;
  return defined({ storageClassName: t.spec.storageClassName, storageRequests: resources?.requests?.storage });
}

const volume: FieldRule = {
  name: 'volume',
  older: ['volume', 'volumeClaimTemplates', 'volumeMounts'],
  newer: ['volumeClaimTemplates', 'volumeMounts'],
  up(a) {
    const v: Obj | undefined = a.volume as Obj;
    const out: Json = defined({ volumeClaimTemplates: a.volumeClaimTemplates, volumeMounts: a.volumeMounts });
    if (!v || out.volumeClaimTemplates !== undefined) return out;
    const storageClassName = v.storageClassName ?? v.storage_class_name;
    const storage = v.storageRequests ?? v.storage_requests;
    return {
      volumeClaimTemplates: [
        {
          metadata: { name: DATA_VOLUME },
          spec: defined({ storageClassName, resources: storage === undefined ? undefined : { requests: { storage } } }),
        },
      ],
      ...out,
    };
  },
  down(b) {
    const volume = asVolume(b.volumeClaimTemplates, b.volumeMounts);
    return volume ? { volume } : defined({ volumeClaimTemplates: b.volumeClaimTemplates, volumeMounts: b.volumeMounts });
  },
};

const standby: FieldRule = {
  name: 'standbyVersion',
  older: ['instantRollback'],
  newer: ['standbyVersion'],
  up: (a) => defined({ standbyVersion: a.instantRollback }),
  down: (b) => defined({ instantRollback: b.standbyVersion }),
};

const spicepod: FieldRule = {
  name: 'spicepod',
  older: ['spicepod'],
  newer: ['spicepod'],
  up(a) {
    if (a.spicepod === undefined) return {};
    if (typeof a.spicepod !== 'string') return { spicepod: a.spicepod };
    // v2 holds the Spicepod as an object; the string (comments, layout) is kept for v1.
    let parsed: unknown;
    try {
      parsed = parseYaml(a.spicepod, { logLevel: 'silent' });
    } catch {
      parsed = undefined;
    }
    return { spicepod: typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? parsed : {} };
  },
  down: (b) => b,
};

/** The rules of a SpicepodSet spec and of a cluster node spec (which lacks the legacy and set-only fields). */
export const WORKLOAD_RULES: readonly FieldRule[] = [
  image,
  ports,
  service,
  envFromSource,
  serviceAccount,
  updateStrategy,
  network,
  volume,
  standby,
  spicepod,
];
