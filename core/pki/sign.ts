// Assembling and signing a certificate with pkijs: serial numbers, validity
// times, and the subject and issuer names taken verbatim from DER.
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { concatBytes, toBytes, type Bytes } from './bytes.ts';
import { cryptoEngine, randomBytes } from './engine.ts';
import { PkiError } from './errors.ts';
import type { SigningKey } from './keys.ts';
import { encodePem, PEM_CERTIFICATE } from './pem.ts';

/** Clock-skew slack: certificates are valid from 5 minutes before they are made. */
export const BACKDATE_MS = 5 * 60 * 1000;
export const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * A random positive serial of exactly 128 bits: the top bit is set so the
 * length never varies, and a 0x00 octet keeps the DER INTEGER positive (17
 * octets, within RFC 5280's 20).
 */
export function randomSerial(): Bytes {
  const bytes = randomBytes(16);
  bytes[0]! |= 0x80;
  return concatBytes(new Uint8Array([0]), bytes);
}

/** Drops milliseconds: certificate times have whole seconds. */
export function truncateToSecond(date: Date): Date {
  return new Date(Math.floor(date.getTime() / 1000) * 1000);
}

export function checkDate(value: unknown, field: string): Date {
  if (!(value instanceof Date) || Number.isNaN(value.getTime())) throw new PkiError(`${field} must be a valid Date`);
  return value;
}

export function checkValidityDays(value: unknown, field = 'validityDays'): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) throw new PkiError(`${field} must be a positive number of days`);
  if (value > 100 * 365) throw new PkiError(`${field} must be at most 36500 (100 years)`);
  return value;
}

/** UTCTime through 2049, GeneralizedTime from 2050 (RFC 5280 §4.1.2.5); pkijs defaults to UTCTime for every year. */
function time(date: Date): pkijs.Time {
  const year = date.getUTCFullYear();
  return new pkijs.Time({ type: year >= 1950 && year < 2050 ? 0 : 1, value: truncateToSecond(date) });
}

function nameFromDer(der: Bytes): pkijs.RelativeDistinguishedNames {
  // fromBER keeps the bytes (valueBeforeDecode), and toSchema re-emits them unchanged.
  return pkijs.RelativeDistinguishedNames.fromBER(der);
}

export interface CertificateTemplate {
  subject: Bytes;
  issuer: Bytes;
  spki: Bytes;
  notBefore: Date;
  notAfter: Date;
  extensions: pkijs.Extension[];
}

export interface SignedCertificate {
  der: Bytes;
  pem: string;
  cert: pkijs.Certificate;
}

export async function signCertificate(template: CertificateTemplate, signer: SigningKey): Promise<SignedCertificate> {
  if (template.notAfter.getTime() <= template.notBefore.getTime()) throw new PkiError('certificate would expire before it becomes valid');
  const cert = new pkijs.Certificate();
  cert.version = 2; // v3
  cert.serialNumber = new asn1js.Integer({ valueHex: randomSerial().buffer });
  cert.subject = nameFromDer(template.subject);
  cert.issuer = nameFromDer(template.issuer);
  cert.notBefore = time(template.notBefore);
  cert.notAfter = time(template.notAfter);
  cert.subjectPublicKeyInfo = pkijs.PublicKeyInfo.fromBER(template.spki);
  cert.extensions = template.extensions;
  await cert.sign(signer.privateKey, signer.algorithm.hash, cryptoEngine());
  const der = toBytes(cert.toSchema().toBER(false));
  return { der, pem: encodePem(PEM_CERTIFICATE, der), cert };
}
