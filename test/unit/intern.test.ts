// The informers' string table (shim/intern.ts): equal string values in the
// objects it has seen are one string in memory, which a heap snapshot counts.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { StringInterner } from '../../shim/intern.ts';
import { copiesInHeap } from '../harness/heap.ts';

/** 200 objects as a list would return them, each parsed on its own: a value 200 times, as 200 strings. */
const parsedObjects = (value: string) =>
  Array.from({ length: 200 }, (_, i) =>
    JSON.parse(JSON.stringify({ metadata: { name: `o${i}`, namespace: value }, spec: { images: [value] } })),
  );

test('equal values in the objects seen are one string in memory', () => {
  const value = `ns-${process.pid}-interned`;
  const objects = parsedObjects(value);
  // The test's own `value` is one string; each of the 400 parsed values another.
  assert.is(copiesInHeap(value), 1 + 400, 'each parsed value is a string of its own');
  const strings = new StringInterner();
  for (const obj of objects) strings.internValues(obj);
  assert.is(copiesInHeap(value), 1 + 1, 'the 400 values are the table copy');
  assert.is(objects[199].metadata.namespace, value);
  assert.is(objects[199].spec.images[0], value);
});

test('the values are unchanged, arrays and nesting included', () => {
  const obj = { a: 'x', b: [1, 'y', { c: 'z', d: null, e: true }], f: { g: ['h'] } };
  const copy = structuredClone(obj);
  assert.equal(new StringInterner().internValues(copy), obj);
});

test('uid and resourceVersion (unique per object) and long strings are not kept', () => {
  const strings = new StringInterner(100, 10);
  strings.internValues({ metadata: { uid: 'u-1', resourceVersion: '42' }, data: { big: 'x'.repeat(11) } });
  assert.is(strings.size, 0);
  strings.internValues({ metadata: { name: 'short' } });
  assert.is(strings.size, 1);
});

test('a full table starts over, so it holds no string for long', () => {
  const strings = new StringInterner(3);
  for (const s of ['a1', 'a2', 'a3']) strings.intern(s);
  assert.is(strings.size, 3);
  strings.intern('a4');
  assert.is(strings.size, 1);
  strings.intern('a4');
  assert.is(strings.size, 1);
});

test.run();
