// PVCs are resized in place: StatefulSet claim templates are immutable.
// Growing a claim is a patch to it; shrinking is not possible and is reported.
// Each claim is `<template>-<statefulset>-0`, and the StatefulSets are
// `<set>-...`: a claim belongs to the template whose `<template>-<set>-` it
// starts with (the longest such, should one template's name extend another's).
import type { Desired, Observed } from '../../core/handler.ts';
import { refOf } from '../../core/handler.ts';
import { parseQuantity } from '../../core/manifests/quantity.ts';
import type { SetContext } from '../../core/manifests/spicepodset.ts';
import { wantedStorage } from '../../core/manifests/volumes.ts';

export interface VolumeResizes {
  /** Patches that grow claims to their template's storage request. */
  patches: NonNullable<Desired['patch']>;
  /** Claims larger than their template's storage request, as `name (size)`. */
  shrinks: string[];
  /** The fields whose size is below a claim's (for the message), e.g. volume.storageRequests. */
  shrinkFields: string[];
  /** The sizes asked for, for the message: `10Gi`, or `10Gi (data), 5Gi (cache)` with several templates. */
  sizes: string;
}

export function volumeResizes(ctx: SetContext, observed: Observed): VolumeResizes {
  const wanted = wantedStorage(ctx.spec);
  const longestFirst = [...wanted].sort((a, b) => b.name.length - a.name.length);
  const patches: VolumeResizes['patches'] = [];
  const shrinks: string[] = [];
  const shrinkFields = new Set<string>();
  const sizes = ctx.spec.volume ? wanted.map((w) => w.storage).join(', ') : wanted.map((w) => `${w.storage} (${w.name})`).join(', ');
  if (!wanted.length) return { patches, shrinks, shrinkFields: [], sizes };
  for (const pvc of observed.related.PersistentVolumeClaim ?? []) {
    const template = longestFirst.find((w) => pvc.metadata.name.startsWith(`${w.name}-${ctx.set}-`));
    if (!template) continue;
    const current = (pvc as { spec?: { resources?: { requests?: { storage?: string } } } }).spec?.resources?.requests?.storage;
    if (current === undefined) continue;
    const wantedBytes = parseQuantity(template.storage);
    const currentBytes = parseQuantity(current);
    if (wantedBytes > currentBytes) {
      patches.push({ target: refOf(pvc), patch: { spec: { resources: { requests: { storage: template.storage } } } } });
    } else if (wantedBytes < currentBytes) {
      shrinks.push(`${pvc.metadata.name} (${current})`);
      shrinkFields.add(template.field);
    }
  }
  return { patches, shrinks, shrinkFields: [...shrinkFields], sizes };
}
