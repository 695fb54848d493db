// managedFields (server-side apply's record of who owns which field) come with
// every object the API server returns, and nothing in the operator reads them:
// the informers' caches, and the objects a write returns that stand in for the
// cache until it catches up, keep objects without them.
//
// They are dropped by copying metadata without them, not with `delete`: the
// image's Node (24; Node 20 did not) turns an object that loses a property, even
// its last, into a hash table (V8's dictionary mode). With `delete`, each of the
// 4,000 Deployments, Services, ConfigMaps and SpicepodSets cached for 1,000 sets
// held one: a small Deployment took 1,400 bytes of heap instead of 650
// (test/unit/managed-fields.test.ts), more than with its managedFields kept.
import type { KObject } from './client.ts';

/** obj, its metadata replaced by a copy without managedFields (if it had any). */
export function withoutManagedFields<T extends KObject>(obj: T): T {
  const metadata = obj.metadata;
  if (metadata && 'managedFields' in metadata) {
    const { managedFields: _dropped, ...kept } = metadata;
    obj.metadata = kept;
  }
  return obj;
}
