// Distinguished names. They are built here as DER (one attribute per RDN,
// UTF8String values) rather than through pkijs, whose RelativeDistinguishedNames
// puts every attribute of a name it builds into a single multi-valued RDN.
// Formatting follows RFC 4514 escaping, in encoded order ("CN=x, OU=y"), the
// order openssl and spiced print.
import * as asn1js from 'asn1js';
import { toBytes, toHex, type Bytes } from './bytes.ts';
import { PkiError } from './errors.ts';

const SHORT_NAMES: Record<string, string> = {
  '2.5.4.3': 'CN',
  '2.5.4.4': 'SN',
  '2.5.4.5': 'serialNumber',
  '2.5.4.6': 'C',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.9': 'STREET',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
  '2.5.4.12': 'title',
  '2.5.4.42': 'GN',
  '0.9.2342.19200300.100.1.1': 'UID',
  '0.9.2342.19200300.100.1.25': 'DC',
  '1.2.840.113549.1.9.1': 'emailAddress',
};

export const OID_COMMON_NAME = '2.5.4.3';
export const OID_ORGANIZATIONAL_UNIT = '2.5.4.11';

/** ub-common-name and ub-organizational-unit-name (RFC 5280 Appendix A). */
const MAX_LENGTH = 64;

/** Checks a CN or OU value a user supplied; returns it unchanged. */
export function validateNameValue(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.trim() === '') throw new PkiError(`${field} must be a non-empty string`);
  if ([...value].length > MAX_LENGTH) throw new PkiError(`${field} is longer than ${MAX_LENGTH} characters`);
  if (/[\u0000-\u001f\u007f]/.test(value)) throw new PkiError(`${field} must not contain control characters`);
  return value;
}

/** DER of a Name with one single-valued RDN per attribute, in the given order. */
export function encodeName(attributes: ReadonlyArray<readonly [oid: string, value: string]>): Bytes {
  const rdns = attributes.map(
    ([oid, value]) =>
      new asn1js.Set({
        value: [new asn1js.Sequence({ value: [new asn1js.ObjectIdentifier({ value: oid }), new asn1js.Utf8String({ value })] })],
      }),
  );
  return toBytes(new asn1js.Sequence({ value: rdns }).toBER(false));
}

function escapeValue(value: string): string {
  let out = value.replace(/[\\,+"<>;]/g, (c) => `\\${c}`).replace(/\u0000/g, '\\00');
  if (out.startsWith('#') || out.startsWith(' ')) out = `\\${out}`;
  if (out.endsWith(' ') && out.length > 1) out = `${out.slice(0, -1)}\\ `;
  return out;
}

function attributeValue(value: asn1js.AsnType): string | undefined {
  const block = (value as { valueBlock?: { value?: unknown } }).valueBlock;
  if (
    value instanceof asn1js.Utf8String ||
    value instanceof asn1js.PrintableString ||
    value instanceof asn1js.IA5String ||
    value instanceof asn1js.TeletexString ||
    value instanceof asn1js.VisibleString ||
    value instanceof asn1js.BmpString ||
    value instanceof asn1js.UniversalString ||
    value instanceof asn1js.NumericString
  ) {
    return typeof block?.value === 'string' ? block.value : undefined;
  }
  return undefined;
}

/**
 * Formats the DER of a Name: RDNs in encoded order joined by ", ", the
 * attributes of a multi-valued RDN joined by "+", unknown attribute types as
 * dotted OIDs, non-string values as #hex of their DER (RFC 4514).
 */
export function formatName(der: ArrayBuffer | Uint8Array): string {
  const parsed = asn1js.fromBER(der instanceof Uint8Array ? toBytes(der) : der);
  if (parsed.offset === -1 || !(parsed.result instanceof asn1js.Sequence)) throw new PkiError('distinguished name is not valid DER');
  const rdns: string[] = [];
  for (const rdn of parsed.result.valueBlock.value) {
    if (!(rdn instanceof asn1js.Set)) throw new PkiError('distinguished name is not a sequence of sets');
    const parts: string[] = [];
    for (const atv of rdn.valueBlock.value) {
      const [type, value] = atv instanceof asn1js.Sequence ? atv.valueBlock.value : [];
      if (!(type instanceof asn1js.ObjectIdentifier) || !value) throw new PkiError('distinguished name has a malformed attribute');
      const oid = type.valueBlock.toString();
      const text = attributeValue(value);
      const name = SHORT_NAMES[oid] ?? oid;
      parts.push(text === undefined ? `${name}=#${toHex(value.toBER(false))}` : `${name}=${escapeValue(text)}`);
    }
    rdns.push(parts.join('+'));
  }
  return rdns.join(', ');
}
