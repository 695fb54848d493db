// X.509 v3 extensions: DER builders for the ones this PKI writes, and
// decoders for reading certificates back. Values are encoded here with asn1js
// rather than pkijs's extension classes so the DER is exactly what RFC 5280
// asks for (minimal key-usage bit strings, cA omitted when FALSE).
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { toBytes, type Bytes } from './bytes.ts';
import { subtle } from './engine.ts';
import { PkiError } from './errors.ts';
import { encodeIpAddress, formatIpAddress } from './san.ts';

export const OID_SUBJECT_KEY_IDENTIFIER = '2.5.29.14';
export const OID_KEY_USAGE = '2.5.29.15';
export const OID_SUBJECT_ALT_NAME = '2.5.29.17';
export const OID_BASIC_CONSTRAINTS = '2.5.29.19';
export const OID_AUTHORITY_KEY_IDENTIFIER = '2.5.29.35';
export const OID_EXT_KEY_USAGE = '2.5.29.37';

/** Key usage names in bit order (RFC 5280 §4.2.1.3). */
export const KEY_USAGES = [
  'digitalSignature',
  'nonRepudiation',
  'keyEncipherment',
  'dataEncipherment',
  'keyAgreement',
  'keyCertSign',
  'cRLSign',
  'encipherOnly',
  'decipherOnly',
] as const;
export type KeyUsage = (typeof KEY_USAGES)[number];

export const EXT_KEY_USAGES: Record<string, string> = {
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
  codeSigning: '1.3.6.1.5.5.7.3.3',
  emailProtection: '1.3.6.1.5.5.7.3.4',
  timeStamping: '1.3.6.1.5.5.7.3.8',
  OCSPSigning: '1.3.6.1.5.5.7.3.9',
};
const EXT_KEY_USAGE_NAMES = Object.fromEntries(Object.entries(EXT_KEY_USAGES).map(([k, v]) => [v, k]));

function extension(oid: string, critical: boolean, value: asn1js.AsnType): pkijs.Extension {
  return new pkijs.Extension({ extnID: oid, critical, extnValue: value.toBER(false) });
}

export function basicConstraints(ca: boolean, pathLength?: number): pkijs.Extension {
  const items: asn1js.AsnType[] = [];
  if (ca) items.push(new asn1js.Boolean({ value: true }));
  if (ca && pathLength !== undefined) items.push(new asn1js.Integer({ value: pathLength }));
  return extension(OID_BASIC_CONSTRAINTS, true, new asn1js.Sequence({ value: items }));
}

export function keyUsage(usages: readonly KeyUsage[]): pkijs.Extension {
  const bits = usages.map((u) => KEY_USAGES.indexOf(u));
  const highest = Math.max(...bits);
  const bytes = new Uint8Array(Math.floor(highest / 8) + 1);
  for (const bit of bits) bytes[bit >> 3]! |= 0x80 >> (bit & 7);
  // DER: trailing zero bits are dropped and counted as unused.
  const unusedBits = 7 - (highest & 7);
  return extension(OID_KEY_USAGE, true, new asn1js.BitString({ valueHex: bytes.buffer, unusedBits }));
}

export function extKeyUsage(names: readonly string[]): pkijs.Extension {
  return extension(
    OID_EXT_KEY_USAGE,
    false,
    new asn1js.Sequence({ value: names.map((n) => new asn1js.ObjectIdentifier({ value: EXT_KEY_USAGES[n] ?? n })) }),
  );
}

export function subjectAltName(dnsNames: readonly string[], ipAddresses: readonly string[]): pkijs.Extension {
  const names: asn1js.AsnType[] = [
    // dNSName [2] IA5String and iPAddress [7] OCTET STRING, both implicitly tagged.
    ...dnsNames.map(
      (d) => new asn1js.Primitive({ idBlock: { tagClass: 3, tagNumber: 2 }, valueHex: new TextEncoder().encode(d).buffer as ArrayBuffer }),
    ),
    ...ipAddresses.map((ip) => new asn1js.Primitive({ idBlock: { tagClass: 3, tagNumber: 7 }, valueHex: encodeIpAddress(ip).buffer })),
  ];
  return extension(OID_SUBJECT_ALT_NAME, false, new asn1js.Sequence({ value: names }));
}

export function subjectKeyIdentifier(keyId: Uint8Array): pkijs.Extension {
  return extension(OID_SUBJECT_KEY_IDENTIFIER, false, new asn1js.OctetString({ valueHex: toBytes(keyId).buffer }));
}

export function authorityKeyIdentifier(keyId: Uint8Array): pkijs.Extension {
  return extension(
    OID_AUTHORITY_KEY_IDENTIFIER,
    false,
    new asn1js.Sequence({ value: [new asn1js.Primitive({ idBlock: { tagClass: 3, tagNumber: 0 }, valueHex: toBytes(keyId).buffer })] }),
  );
}

/** RFC 5280 §4.2.1.2 method 1: SHA-1 of the subjectPublicKey BIT STRING contents. */
export async function keyIdentifier(spki: Bytes): Promise<Bytes> {
  const asn1 = asn1js.fromBER(spki);
  const bits = asn1.result instanceof asn1js.Sequence ? asn1.result.valueBlock.value[1] : undefined;
  if (asn1.offset === -1 || !(bits instanceof asn1js.BitString)) throw new PkiError('public key is not a SubjectPublicKeyInfo');
  return toBytes(await subtle().digest('SHA-1', toBytes(bits.valueBlock.valueHexView)));
}

// ---- decoding --------------------------------------------------------------

export interface DecodedExtensions {
  isCA: boolean;
  pathLength?: number;
  keyUsages: KeyUsage[];
  extKeyUsages: string[];
  dnsNames: string[];
  ipAddresses: string[];
  subjectKeyId?: Bytes;
  authorityKeyId?: Bytes;
}

function parseValue(ext: pkijs.Extension): asn1js.AsnType {
  const asn1 = asn1js.fromBER(toBytes(ext.extnValue.valueBlock.valueHexView));
  if (asn1.offset === -1) throw new PkiError(`certificate extension ${ext.extnID} is not valid DER`);
  return asn1.result;
}

export function decodeExtensions(extensions: readonly pkijs.Extension[] | undefined): DecodedExtensions {
  const out: DecodedExtensions = { isCA: false, keyUsages: [], extKeyUsages: [], dnsNames: [], ipAddresses: [] };
  for (const ext of extensions ?? []) {
    switch (ext.extnID) {
      case OID_BASIC_CONSTRAINTS: {
        const value = parseValue(ext);
        const items = value instanceof asn1js.Sequence ? value.valueBlock.value : [];
        for (const item of items) {
          if (item instanceof asn1js.Boolean) out.isCA = item.valueBlock.value;
          if (item instanceof asn1js.Integer) out.pathLength = item.valueBlock.valueDec;
        }
        break;
      }
      case OID_KEY_USAGE: {
        const value = parseValue(ext);
        if (!(value instanceof asn1js.BitString)) break;
        const bytes = value.valueBlock.valueHexView;
        KEY_USAGES.forEach((name, bit) => {
          if (bit >> 3 < bytes.length && bytes[bit >> 3]! & (0x80 >> (bit & 7))) out.keyUsages.push(name);
        });
        break;
      }
      case OID_EXT_KEY_USAGE: {
        const value = parseValue(ext);
        for (const item of value instanceof asn1js.Sequence ? value.valueBlock.value : []) {
          if (item instanceof asn1js.ObjectIdentifier) {
            const oid = item.valueBlock.toString();
            out.extKeyUsages.push(EXT_KEY_USAGE_NAMES[oid] ?? oid);
          }
        }
        break;
      }
      case OID_SUBJECT_ALT_NAME: {
        const value = parseValue(ext);
        for (const item of value instanceof asn1js.Sequence ? value.valueBlock.value : []) {
          if (item.idBlock.tagClass !== 3) continue;
          const raw = (item.valueBlock as { valueHexView?: Uint8Array }).valueHexView;
          if (!raw) continue;
          if (item.idBlock.tagNumber === 2) out.dnsNames.push(new TextDecoder().decode(raw));
          if (item.idBlock.tagNumber === 7 && (raw.length === 4 || raw.length === 16)) out.ipAddresses.push(formatIpAddress(raw));
        }
        break;
      }
      case OID_SUBJECT_KEY_IDENTIFIER: {
        const value = parseValue(ext);
        if (value instanceof asn1js.OctetString) out.subjectKeyId = toBytes(value.valueBlock.valueHexView);
        break;
      }
      case OID_AUTHORITY_KEY_IDENTIFIER: {
        const value = parseValue(ext);
        const first = value instanceof asn1js.Sequence ? value.valueBlock.value[0] : undefined;
        if (first && first.idBlock.tagClass === 3 && first.idBlock.tagNumber === 0) {
          const raw = (first.valueBlock as { valueHexView?: Uint8Array }).valueHexView;
          if (raw) out.authorityKeyId = toBytes(raw);
        }
        break;
      }
    }
  }
  return out;
}
