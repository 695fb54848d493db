// managedFields dropped from what the caches keep (shim/kube/managed-fields.ts):
// the object loses them and nothing else, and on the image's Node it is as small
// in memory as one that never had them.
import { spawnSync } from 'node:child_process';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { hostArch, nodeRuntime } from '../../scripts/image/node-runtime.ts';
import { NODE_FLAGS } from '../../scripts/image/spec.ts';
import type { KObject } from '../../shim/kube/client.ts';
import { withoutManagedFields } from '../../shim/kube/managed-fields.ts';
import { deploymentJson } from '../harness/cached-object-size.ts';

test('managedFields are dropped; the rest of the object is as it was', () => {
  const obj = JSON.parse(deploymentJson(7, true)) as KObject;
  const dropped = withoutManagedFields(obj);
  assert.is(dropped, obj, 'the same object');
  assert.equal(dropped, JSON.parse(deploymentJson(7, false)));
  assert.not.ok('managedFields' in dropped.metadata);
  const bare = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' } };
  assert.equal(withoutManagedFields(structuredClone(bare)), bare, 'an object without them is left as it is');
});

test("on the image's Node, an object without its managedFields takes no more memory than one that never had them", () => {
  // Node 24's V8 turns an object that loses its last property (managedFields is last in metadata) into
  // a hash table, which Node 20's did not: `delete` took twice the memory per object there.
  const lts = nodeRuntime(hostArch(), (line) => process.stderr.write(`${line}\n`));
  const script = new URL('../harness/cached-object-size.ts', import.meta.url).pathname;
  const r = spawnSync(lts.node, [...NODE_FLAGS, '--import', 'tsx', script], { encoding: 'utf8' });
  assert.is(r.status, 0, r.stderr);
  const { never, dropped } = JSON.parse(r.stdout) as { never: number; dropped: number };
  assert.ok(
    dropped <= never * 1.1,
    `bytes per object: ${dropped.toFixed(0)} with managedFields dropped, ${never.toFixed(0)} without them ever`,
  );
});

test.run();
