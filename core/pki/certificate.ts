// Reading certificates: PEM or DER to a pkijs Certificate, with errors a
// user can understand when the input is something else.
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { toBytes, type Bytes } from './bytes.ts';
import { PkiError } from './errors.ts';
import { decodePem, decodePemBlocks, PEM_CERTIFICATE } from './pem.ts';

export interface ReadCertificate {
  der: Bytes;
  cert: pkijs.Certificate;
}

export function certificateFromDer(der: Bytes): pkijs.Certificate {
  const asn1 = asn1js.fromBER(der);
  if (asn1.offset === -1) throw new PkiError('certificate is not valid DER');
  try {
    return new pkijs.Certificate({ schema: asn1.result });
  } catch (error) {
    throw new PkiError(`data is not an X.509 certificate: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** The first CERTIFICATE block of a PEM string, parsed. */
export function readCertificate(pem: string): ReadCertificate {
  if (typeof pem !== 'string' || !pem.includes('-----BEGIN')) {
    throw new PkiError('expected a PEM certificate (-----BEGIN CERTIFICATE-----)');
  }
  const { der } = decodePem(pem, PEM_CERTIFICATE);
  return { der, cert: certificateFromDer(der) };
}

/** Every CERTIFICATE block of a PEM bundle, parsed; throws when there is none. */
export function readCertificates(pem: string): ReadCertificate[] {
  if (typeof pem !== 'string') throw new PkiError('expected a PEM certificate (-----BEGIN CERTIFICATE-----)');
  const blocks = decodePemBlocks(pem).filter((b) => b.label === PEM_CERTIFICATE);
  if (blocks.length === 0) throw new PkiError('expected a PEM certificate (-----BEGIN CERTIFICATE-----), found none');
  return blocks.map((b) => ({ der: b.der, cert: certificateFromDer(b.der) }));
}

/** DER of the certificate's subject or issuer Name exactly as encoded in the certificate. */
export function nameDer(name: pkijs.RelativeDistinguishedNames): Bytes {
  if (name.valueBeforeDecode.byteLength > 0) return toBytes(name.valueBeforeDecode);
  return toBytes(name.toSchema().toBER(false));
}

/** DER of the certificate's SubjectPublicKeyInfo. */
export function spkiDer(cert: pkijs.Certificate): Bytes {
  return toBytes(cert.subjectPublicKeyInfo.toSchema().toBER(false));
}
