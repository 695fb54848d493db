// PVCs are resized in place: StatefulSet claim templates are immutable.
// Growing a claim is a patch to it; shrinking is not possible and is reported.
import type { Desired, Observed } from '../../core/handler.ts';
import { refOf } from '../../core/handler.ts';
import { parseQuantity } from '../../core/manifests/quantity.ts';
import type { SetContext } from '../../core/manifests/spicepodset.ts';

export interface VolumeResizes {
  /** Patches that grow claims to volume.storageRequests. */
  patches: NonNullable<Desired['patch']>;
  /** Claims larger than volume.storageRequests, as `name (size)`. */
  shrinks: string[];
}

export function volumeResizes(ctx: SetContext, observed: Observed): VolumeResizes {
  const wanted = ctx.spec.volume?.storageRequests;
  const patches: VolumeResizes['patches'] = [];
  const shrinks: string[] = [];
  if (wanted === undefined) return { patches, shrinks };
  const wantedBytes = parseQuantity(wanted);
  for (const pvc of observed.related.PersistentVolumeClaim ?? []) {
    const current = (pvc as { spec?: { resources?: { requests?: { storage?: string } } } }).spec?.resources?.requests?.storage;
    if (current === undefined) continue;
    const currentBytes = parseQuantity(current);
    if (wantedBytes > currentBytes) {
      patches.push({ target: refOf(pvc), patch: { spec: { resources: { requests: { storage: String(wanted) } } } } });
    } else if (wantedBytes < currentBytes) {
      shrinks.push(`${pvc.metadata.name} (${current})`);
    }
  }
  return { patches, shrinks };
}
