// canonicallyEqual is canonicalJson's equality without the strings: conversion decides with it
// whether a field group must be kept in the annotation, so it must agree with canonicalJson on
// every JSON value, undefined fields, empty array slots and key order included.
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { canonicalJson, canonicallyEqual } from '../../core/manifests/hash.ts';

const value = fc.letrec((tie) => ({
  leaf: fc.oneof(
    fc.constant(null),
    fc.constant(undefined),
    fc.boolean(),
    fc.integer({ min: -3, max: 3 }),
    fc.constantFrom('', 'a', '1', 'null'),
    fc.constant(Number.NaN),
  ),
  array: fc.array(tie('any'), { maxLength: 3 }),
  object: fc.dictionary(fc.constantFrom('a', 'b', 'c'), tie('any'), { maxKeys: 3 }),
  any: fc.oneof({ depthSize: 'small' }, tie('leaf'), tie('array'), tie('object')),
})).any;

/** The same value with its keys written in the reverse order, at every level. */
const reversed = (v: unknown): unknown =>
  Array.isArray(v)
    ? v.map(reversed)
    : v && typeof v === 'object'
      ? Object.fromEntries(
          Object.entries(v)
            .reverse()
            .map(([k, x]) => [k, reversed(x)]),
        )
      : v;

test('canonicallyEqual(a, b) is canonicalJson(a) === canonicalJson(b), for any two JSON values', () => {
  fc.assert(
    fc.property(value, value, (a, b) => canonicallyEqual(a, b) === (canonicalJson(a) === canonicalJson(b))),
    { numRuns: 5000 },
  );
});

test('canonicallyEqual ignores key order and undefined fields, and sees every other difference', () => {
  fc.assert(fc.property(value, (a) => canonicallyEqual(a, reversed(a)) && canonicallyEqual(reversed(a), a)));
  assert.ok(canonicallyEqual({ a: 1, b: undefined }, { a: 1 }));
  assert.ok(canonicallyEqual({ a: 1 }, { b: undefined, a: 1 }));
  assert.not.ok(canonicallyEqual({ a: 1 }, { a: 1, b: null }));
  assert.not.ok(canonicallyEqual([1, undefined], [1, null]));
  assert.not.ok(canonicallyEqual([], {}));
  assert.not.ok(canonicallyEqual({ a: [1, 2] }, { a: [2, 1] }));
  assert.ok(canonicallyEqual(Number.NaN, null)); // as JSON writes them
});

test.run();
