// Content hashes for revisions and versions: canonical JSON (sorted keys)
// through SHA-256, so the same input hashes the same on every runtime.
// @noble/hashes is synchronous and pure JavaScript: a reconcile hashes its
// template each time, and WebCrypto's asynchronous digest costs far more per
// call than hashing a few kilobytes.
import { sha256 } from '@noble/hashes/sha2';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils';

export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** Hex SHA-256 of the canonical JSON of value, shortened to `length` characters. */
export function contentHash(value: unknown, length = 10): string {
  return bytesToHex(sha256(utf8ToBytes(canonicalJson(value)))).slice(0, length);
}
