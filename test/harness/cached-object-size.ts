// Run by test/unit/managed-fields.test.ts on the image's Node (with the image's
// node flags and tsx): prints, as JSON, the heap that 2,000 Deployments hold per
// object, parsed from JSON as the API server returns them, when they never had
// managedFields and when they had them and withoutManagedFields dropped them.
import type { KObject } from '../../shim/kube/client.ts';
import { withoutManagedFields } from '../../shim/kube/managed-fields.ts';
import { heapUsedAfterGc } from './heap.ts';

/** A Deployment as the API server returns it, as JSON: metadata's fields in its order, managedFields last. */
export function deploymentJson(i: number, managedFields: boolean): string {
  return JSON.stringify({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: `set-${i}`,
      namespace: 'tenant-a',
      uid: `0f6c1b9e-0000-4000-8000-${String(i).padStart(12, '0')}`,
      resourceVersion: String(100_000 + i),
      generation: 1,
      creationTimestamp: '2026-12-02T16:18:40Z',
      labels: { 'app.kubernetes.io/name': 'spiced', 'app.kubernetes.io/instance': `set-${i}` },
      annotations: { 'deployment.kubernetes.io/revision': '1' },
      ownerReferences: [{ apiVersion: 'spice.ai/v1', kind: 'SpicepodSet', name: `set-${i}`, uid: `u-${i}`, controller: true }],
      ...(managedFields && {
        managedFields: [
          {
            manager: 'spiceai-operator',
            operation: 'Apply',
            apiVersion: 'apps/v1',
            time: '2026-12-02T16:18:40Z',
            fieldsType: 'FieldsV1',
            fieldsV1: { 'f:metadata': { 'f:labels': { 'f:app.kubernetes.io/name': {} } }, 'f:spec': { 'f:replicas': {} } },
          },
        ],
      }),
    },
    spec: { replicas: 0 },
  });
}

/** Bytes of heap per object that 2,000 objects parsed from their JSON, then passed to `keep`, hold. */
function bytesPerObject(managedFields: boolean, keep: (obj: KObject) => KObject): number {
  const texts = Array.from({ length: 2000 }, (_, i) => deploymentJson(i, managedFields));
  const before = heapUsedAfterGc();
  const objects = texts.map((text) => keep(JSON.parse(text)));
  const held = heapUsedAfterGc() - before;
  if (objects.length !== texts.length) throw new Error('objects lost'); // they are held until measured
  return held / objects.length;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const never = bytesPerObject(false, (obj) => obj);
  const dropped = bytesPerObject(true, withoutManagedFields);
  console.log(JSON.stringify({ never, dropped }));
}
