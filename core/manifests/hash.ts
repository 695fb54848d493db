// Content hashes for revisions and versions: canonical JSON (sorted keys)
// through SHA-256, so the same input hashes the same on every runtime.
// @noble/hashes is synchronous and pure JavaScript: a reconcile hashes its
// template each time, and WebCrypto's asynchronous digest costs far more per
// call than hashing a few kilobytes.
import { sha256 } from '@noble/hashes/sha2';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils';

export function canonicalJson(value: unknown): string {
  // Written out (no entries/filter/map/join) because a pod template's worth of intermediate arrays
  // was most of what a reconcile allocated; the output is unchanged, so revisions are too.
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) out += (i ? ',' : '') + (canonicalJson(value[i]) ?? ''); // undefined: an empty slot, as join() wrote it
    return `${out}]`;
  }
  const object = value as Record<string, unknown>;
  let out = '{';
  for (const key of Object.keys(object).sort()) {
    const v = object[key];
    if (v === undefined) continue;
    out += `${out.length > 1 ? ',' : ''}${JSON.stringify(key)}:${canonicalJson(v)}`;
  }
  return `${out}}`;
}

/** How many slots canonicalJson writes for an array: none for [undefined], which it writes as []. */
const slots = (array: unknown[]) => (array.length === 1 && array[0] === undefined ? 0 : array.length);

/**
 * canonicalJson(a) === canonicalJson(b), without writing either out: conversion asks this of every
 * field group of every object it converts, a whole Spicepod among them.
 */
export function canonicallyEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return JSON.stringify(a) === JSON.stringify(b);
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || slots(a) !== slots(b)) return false;
    for (let i = 0; i < slots(a); i++) if (!canonicallyEqual(a[i], b[i])) return false;
    return true;
  }
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  let defined = 0;
  for (const key of Object.keys(x)) {
    if (x[key] === undefined) continue;
    defined++;
    if (!Object.hasOwn(y, key) || !canonicallyEqual(x[key], y[key])) return false;
  }
  for (const key of Object.keys(y)) if (y[key] !== undefined) defined--;
  return defined === 0;
}

/** Hex SHA-256 of the canonical JSON of value, shortened to `length` characters. */
export function contentHash(value: unknown, length = 10): string {
  return bytesToHex(sha256(utf8ToBytes(canonicalJson(value)))).slice(0, length);
}
