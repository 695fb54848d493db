// Strict CIDR parsing for NetworkPolicy ipBlocks. Stricter than the API
// server's legacy check (which still admits leading zeros and host bits for
// old objects): we refuse what Kubernetes' StrictIPCIDRValidation refuses,
// because "10.0.0.1/8" and "010.0.0.0/8" are ambiguous, not just unusual.
import { encodeIpAddress, formatIpAddress } from '../pki/san.ts';

export interface Cidr {
  family: 4 | 6;
  /** The network address, 4 or 16 octets, with no bits set beyond the prefix. */
  bytes: Uint8Array;
  prefix: number;
}

export type ParsedCidr = { ok: true; cidr: Cidr } | { ok: false; message: string };

const EXAMPLE = 'e.g. 10.0.0.0/8 or 2001:db8::/32';

export function parseCidr(value: unknown): ParsedCidr {
  if (typeof value !== 'string' || value === '') return { ok: false, message: `must be a CIDR (${EXAMPLE})` };
  const slash = value.indexOf('/');
  if (slash < 0)
    return { ok: false, message: `${JSON.stringify(value)} has no prefix length: write a CIDR (${EXAMPLE}; /32 for one IPv4 address)` };
  const address = value.slice(0, slash);
  const length = value.slice(slash + 1);
  let bytes: Uint8Array;
  try {
    // Dotted quads with leading zeros, zone indexes and anything else that is not an address are refused here.
    bytes = encodeIpAddress(address);
  } catch {
    return {
      ok: false,
      message: `${JSON.stringify(value)} is not a CIDR: ${JSON.stringify(address)} is not an IPv4 or IPv6 address (${EXAMPLE})`,
    };
  }
  const family = bytes.length === 4 ? 4 : 6;
  if (family === 6 && bytes.subarray(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff) {
    return { ok: false, message: `${JSON.stringify(value)} uses an IPv4-mapped IPv6 address: write the IPv4 CIDR instead` };
  }
  const max = family === 4 ? 32 : 128;
  if (!/^(0|[1-9][0-9]{0,2})$/.test(length) || Number(length) > max) {
    return {
      ok: false,
      message: `${JSON.stringify(value)} is not a CIDR: the prefix length must be a number from 0 to ${max} without leading zeros`,
    };
  }
  const prefix = Number(length);
  const network = mask(bytes, prefix);
  if (!sameBytes(network, bytes)) {
    return {
      ok: false,
      message: `${JSON.stringify(value)} has bits set beyond the /${prefix} prefix: write ${JSON.stringify(`${formatIpAddress(network)}/${prefix}`)} for the range, or /${max} for the single address`,
    };
  }
  return { ok: true, cidr: { family, bytes, prefix } };
}

/** Whether `inner` lies inside `outer` and is smaller than it (an ipBlock `except` must be). */
export function strictlyContains(outer: Cidr, inner: Cidr): boolean {
  return outer.family === inner.family && inner.prefix > outer.prefix && sameBytes(mask(inner.bytes, outer.prefix), outer.bytes);
}

function mask(bytes: Uint8Array, prefix: number): Uint8Array {
  const out = new Uint8Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) {
    const bits = Math.max(0, Math.min(8, prefix - i * 8));
    out[i] = bytes[i]! & ((0xff << (8 - bits)) & 0xff);
  }
  return out;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
