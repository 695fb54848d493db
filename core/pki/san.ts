// Subject Alternative Names: validation and normalisation of DNS names and IP
// addresses, the 4- or 16-octet IP encoding used in the SAN extension, and
// set comparison (a leaf is re-issued when its SAN set changes).
import type { Bytes } from './bytes.ts';
import { PkiError } from './errors.ts';

const LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/**
 * Validates a DNS SAN and returns it in lower case. A leading `*.` wildcard
 * label is allowed; IP addresses are refused (they belong in ipAddresses).
 */
export function normalizeDnsName(name: string): string {
  if (typeof name !== 'string' || name.trim() === '') throw new PkiError('DNS name must be a non-empty string');
  const lower = name.toLowerCase();
  if (lower !== lower.trim()) throw new PkiError(`DNS name ${JSON.stringify(name)} has surrounding whitespace`);
  if (tryParseIp(lower)) throw new PkiError(`DNS name ${JSON.stringify(name)} is an IP address; pass it in ipAddresses`);
  if (lower.length > 253) throw new PkiError(`DNS name ${JSON.stringify(name)} is longer than 253 characters`);
  const labels = lower.split('.');
  labels.forEach((label, i) => {
    if (i === 0 && label === '*' && labels.length > 1) return;
    if (!LABEL.test(label)) {
      throw new PkiError(
        `DNS name ${JSON.stringify(name)} is invalid: label ${JSON.stringify(label)} must be 1-63 letters, digits or hyphens, not starting or ending with a hyphen`,
      );
    }
  });
  return lower;
}

function parseIPv4(s: string): number[] | undefined {
  const parts = s.split('.');
  if (parts.length !== 4) return undefined;
  const out: number[] = [];
  for (const p of parts) {
    // No leading zeros: "010" is octal to some parsers and decimal to others.
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p)) return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    out.push(n);
  }
  return out;
}

function parseIPv6(s: string): number[] | undefined {
  if (!/^[0-9a-fA-F:.]+$/.test(s)) return undefined;
  const halves = s.split('::');
  if (halves.length > 2) return undefined;
  const groups = (part: string): number[] | undefined => {
    if (part === '') return [];
    const out: number[] = [];
    const items = part.split(':');
    for (let i = 0; i < items.length; i++) {
      const item = items[i]!;
      if (i === items.length - 1 && item.includes('.')) {
        const v4 = parseIPv4(item);
        if (!v4) return undefined;
        out.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(item)) return undefined;
        out.push(parseInt(item, 16));
      }
    }
    return out;
  };
  const head = groups(halves[0]!);
  if (!head) return undefined;
  let all: number[];
  if (halves.length === 2) {
    const tail = groups(halves[1]!);
    if (!tail) return undefined;
    // A dotted quad may only end the address.
    if (halves[0]!.includes('.')) return undefined;
    const missing = 8 - head.length - tail.length;
    if (missing < 1) return undefined;
    all = [...head, ...new Array<number>(missing).fill(0), ...tail];
  } else {
    all = head;
  }
  if (all.length !== 8) return undefined;
  const bytes: number[] = [];
  for (const g of all) bytes.push(g >> 8, g & 0xff);
  return bytes;
}

function tryParseIp(s: string): Bytes | undefined {
  const v4 = parseIPv4(s);
  if (v4) return new Uint8Array(v4);
  if (s.includes(':')) {
    const v6 = parseIPv6(s);
    if (v6) return new Uint8Array(v6);
  }
  return undefined;
}

/** The SAN encoding of an IP address: 4 octets for IPv4, 16 for IPv6. */
export function encodeIpAddress(ip: string): Bytes {
  if (typeof ip !== 'string' || ip === '') throw new PkiError('IP address must be a non-empty string');
  if (ip.includes('%')) throw new PkiError(`IP address ${JSON.stringify(ip)} has a zone index, which a certificate cannot hold`);
  if (ip.includes('/')) throw new PkiError(`IP address ${JSON.stringify(ip)} is a CIDR range; a certificate holds single addresses`);
  const bytes = tryParseIp(ip);
  if (!bytes) throw new PkiError(`${JSON.stringify(ip)} is not a valid IPv4 or IPv6 address`);
  return bytes;
}

/** Formats 4 or 16 octets: dotted quad, or RFC 5952 canonical IPv6 (lower case, longest zero run as ::). */
export function formatIpAddress(bytes: Uint8Array): string {
  if (bytes.length === 4) return Array.from(bytes).join('.');
  if (bytes.length !== 16) throw new PkiError(`an IP address SAN has ${bytes.length} octets; expected 4 or 16`);
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((bytes[i]! << 8) | bytes[i + 1]!);
  // IPv4-mapped addresses keep the dotted tail (RFC 5952 §5).
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return `::ffff:${Array.from(bytes.subarray(12)).join('.')}`;
  }
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestLen < 2) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

/** Validates an IP address and returns its canonical text form. */
export function normalizeIpAddress(ip: string): string {
  return formatIpAddress(encodeIpAddress(ip));
}

export interface SubjectAltNames {
  dnsNames: readonly string[];
  ipAddresses: readonly string[];
}

/** Validates, normalises and de-duplicates SANs, keeping first-seen order. */
export function normalizeSans(sans: SubjectAltNames): { dnsNames: string[]; ipAddresses: string[] } {
  if (!Array.isArray(sans.dnsNames)) throw new PkiError('dnsNames must be an array of strings');
  if (!Array.isArray(sans.ipAddresses)) throw new PkiError('ipAddresses must be an array of strings');
  return {
    dnsNames: [...new Set(sans.dnsNames.map(normalizeDnsName))],
    ipAddresses: [...new Set(sans.ipAddresses.map(normalizeIpAddress))],
  };
}

/** True when both name the same set of DNS names and IP addresses (order, case, duplicates and IP spelling ignored). */
export function sansEqual(a: SubjectAltNames, b: SubjectAltNames): boolean {
  const x = normalizeSans(a);
  const y = normalizeSans(b);
  const same = (p: string[], q: string[]) => p.length === q.length && new Set([...p, ...q]).size === p.length;
  return same(x.dnsNames, y.dnsNames) && same(x.ipAddresses, y.ipAddresses);
}
