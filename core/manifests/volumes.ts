// The per-replica claims of a SpicepodSet and the spiced container's mounts
// of them. v1's `volume` is the template data alone, rendered exactly as it
// always was (so existing sets do not roll); volumeClaimTemplates (spice.ai/v2,
// also stored in v1) give the full PVC spec of each template. The template
// data is mounted at /data unless a volumeMounts entry names it; every other
// template needs one (facts §1.6, §10.4).
import { LABEL_APP } from '../labels.ts';
import type { SpecProblem } from '../spec/normalize.ts';
import type { SpicepodSetSpec } from '../spec/spicepodset.ts';
import { DATA_MOUNT_PATH, DATA_VOLUME, templateName, type VolumeMount } from '../spec/volumes.ts';
import { NODE_TLS_VOLUME, SPICEPOD_KEY, SPICEPOD_VOLUME, TLS_MOUNT } from './names.ts';
import { SPICED_WORKING_DIR } from './spiced.ts';

/** Reasons a user sees when the mounts do not fit the volumes (admission and InvalidSpec). */
export const VolumeReason = {
  /** A volumeMounts entry names no volume of the pod. */
  MountUnknownVolume: 'VolumeMountUnknownVolume',
  /** A template other than data that no volumeMounts entry mounts. */
  NotMounted: 'VolumeNotMounted',
  /** Two mounts at one path (the implicit /data and the operator's own included). */
  MountPathTaken: 'VolumeMountPathTaken',
  /** A template named like a volume the operator adds itself. */
  NameReserved: 'VolumeNameReserved',
} as const;

export interface VolumeProblem extends SpecProblem {
  reason: (typeof VolumeReason)[keyof typeof VolumeReason];
}

type VolumeSpec = Pick<SpicepodSetSpec, 'volume' | 'volumeClaimTemplates' | 'volumeMounts' | 'cluster'>;

/** The volumes the operator gives every pod of this spec: the Spicepod, and a cluster node's certificate with mTLS. */
export function ownVolumes(spec: Pick<SpicepodSetSpec, 'cluster'>): { name: string; mountPath: string }[] {
  const own = [{ name: SPICEPOD_VOLUME, mountPath: `${SPICED_WORKING_DIR}/${SPICEPOD_KEY}` }];
  if (spec.cluster && !spec.cluster.allowInsecureConnections) own.push({ name: NODE_TLS_VOLUME, mountPath: TLS_MOUNT });
  return own;
}

/** Names of the claim templates (v1's volume is data). */
export function claimNames(spec: VolumeSpec): string[] {
  if (spec.volume) return [DATA_VOLUME];
  return (spec.volumeClaimTemplates ?? []).map(templateName);
}

export const hasClaims = (spec: VolumeSpec): boolean => claimNames(spec).length > 0;

const quantities = (m: Record<string, string | number> | undefined) =>
  m ? Object.fromEntries(Object.entries(m).map(([k, v]) => [k, String(v)])) : undefined;

/** The StatefulSets' volumeClaimTemplates (undefined: none). */
export function desiredVolumeClaimTemplates(set: string, spec: VolumeSpec) {
  const volume = spec.volume;
  if (volume) {
    return [
      {
        apiVersion: 'v1',
        kind: 'PersistentVolumeClaim',
        metadata: { name: DATA_VOLUME, labels: { [LABEL_APP]: set } },
        spec: {
          accessModes: ['ReadWriteOnce'],
          storageClassName: volume.storageClassName,
          resources: { requests: { storage: String(volume.storageRequests ?? '1Gi') } },
        },
      },
    ];
  }
  if (!spec.volumeClaimTemplates?.length) return undefined;
  return spec.volumeClaimTemplates.map((t) => ({
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: {
      name: templateName(t),
      // spice.ai/app: the operator finds the claims by it (resizes).
      labels: { ...t.metadata?.labels, [LABEL_APP]: set },
      annotations: t.metadata?.annotations,
    },
    spec: {
      accessModes: t.spec.accessModes ?? ['ReadWriteOnce'],
      storageClassName: t.spec.storageClassName,
      // A claim must request storage (the API server refuses one without): 1Gi as v1's volume.
      resources: { requests: { storage: '1Gi', ...quantities(t.spec.resources?.requests) }, limits: quantities(t.spec.resources?.limits) },
      volumeMode: t.spec.volumeMode,
      selector: t.spec.selector,
      volumeName: t.spec.volumeName,
    },
  }));
}

/** The spiced container's mounts of the claims and of volumes the user names (after the Spicepod's). */
export function claimMounts(spec: VolumeSpec): Record<string, unknown>[] {
  const explicit: VolumeMount[] = spec.volumeMounts ?? [];
  const implicit =
    claimNames(spec).includes(DATA_VOLUME) && !explicit.some((m) => m.name === DATA_VOLUME)
      ? [{ name: DATA_VOLUME, mountPath: DATA_MOUNT_PATH }]
      : [];
  return [
    ...implicit,
    ...explicit.map((m) =>
      Object.fromEntries(
        Object.entries({ name: m.name, mountPath: m.mountPath, subPath: m.subPath, readOnly: m.readOnly }).filter(
          ([, v]) => v !== undefined,
        ),
      ),
    ),
  ];
}

/** Storage each template asks for, by template name (v1: volume.storageRequests for data). */
export function wantedStorage(spec: VolumeSpec): { name: string; storage: string; field: string }[] {
  if (spec.volume)
    return spec.volume.storageRequests === undefined
      ? []
      : [{ name: DATA_VOLUME, storage: String(spec.volume.storageRequests), field: 'volume.storageRequests' }];
  return (spec.volumeClaimTemplates ?? []).flatMap((t, i) => {
    const storage = t.spec.resources?.requests?.storage;
    return storage === undefined
      ? []
      : [{ name: templateName(t), storage: String(storage), field: `volumeClaimTemplates[${i}].spec.resources.requests.storage` }];
  });
}

/**
 * The mounts against the pod's volumes, in order: templates named like the operator's own
 * volumes, mounts of no volume, templates nobody mounts, two mounts at one path. `at` is
 * where the spec is written (spec, or a cluster's node spec).
 */
export function volumeMountProblems(spec: VolumeSpec, at = 'spec'): VolumeProblem[] {
  const own = ownVolumes(spec);
  const claims = claimNames(spec);
  const templatesField = spec.volume ? `${at}.volume` : `${at}.volumeClaimTemplates`;
  const problems: VolumeProblem[] = [];
  claims.forEach((name, i) => {
    if (own.some((v) => v.name === name)) {
      problems.push({
        reason: VolumeReason.NameReserved,
        field: `${templatesField}[${i}].metadata.name`,
        message: `${JSON.stringify(name)} is a volume the operator adds to the pods itself; name the template otherwise`,
      });
    }
  });
  const known = [...claims, ...own.map((v) => v.name)];
  const mounts = spec.volumeMounts ?? [];
  mounts.forEach((m, i) => {
    if (!known.includes(m.name)) {
      problems.push({
        reason: VolumeReason.MountUnknownVolume,
        field: `${at}.volumeMounts[${i}].name`,
        message: `${JSON.stringify(m.name)} is neither a volumeClaimTemplate nor a volume of the pods (${known.map((n) => JSON.stringify(n)).join(', ')}): add a volumeClaimTemplate named ${JSON.stringify(m.name)} or mount one of these`,
      });
    }
  });
  claims.forEach((name, i) => {
    if (name !== DATA_VOLUME && !mounts.some((m) => m.name === name)) {
      problems.push({
        reason: VolumeReason.NotMounted,
        field: `${templatesField}[${i}]`,
        message: `${JSON.stringify(name)} is not mounted: only ${DATA_VOLUME} is mounted without a volumeMounts entry; add one named ${JSON.stringify(name)} with its mountPath`,
      });
    }
  });
  const taken = new Map<string, string>(own.map((v) => [v.mountPath, `the operator's ${v.name} volume`]));
  const implicit = claimMounts({ ...spec, volumeMounts: [] })[0] as { mountPath: string } | undefined;
  if (implicit && !mounts.some((m) => m.name === DATA_VOLUME))
    taken.set(implicit.mountPath, `${DATA_VOLUME}, mounted there without a volumeMounts entry`);
  mounts.forEach((m, i) => {
    const holder = taken.get(m.mountPath);
    if (holder)
      problems.push({
        reason: VolumeReason.MountPathTaken,
        field: `${at}.volumeMounts[${i}].mountPath`,
        message: `${m.mountPath} is already the mount of ${holder}: mount paths must be unique in the container`,
      });
    else taken.set(m.mountPath, `volumeMounts[${i}]`);
  });
  return problems;
}
