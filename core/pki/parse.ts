// Reading a certificate back into plain data (for status, metrics and
// "does this still match what we want" checks), and the issuer check spiced
// performs at load time.
import { bytesEqual, toBytes, toHex } from './bytes.ts';
import { nameDer, readCertificate, readCertificates, spkiDer } from './certificate.ts';
import { cryptoEngine, subtle } from './engine.ts';
import { decodeExtensions, type KeyUsage } from './extensions.ts';
import { spkiToPem } from './keys.ts';
import { formatName } from './names.ts';

export interface CertificateInfo {
  /** RFC 4514-style, in encoded order, e.g. "CN=x, OU=y". */
  subject: string;
  issuer: string;
  /** Lower-case hex without leading zero octets. */
  serialHex: string;
  notBefore: Date;
  notAfter: Date;
  dnsNames: string[];
  /** Dotted IPv4 or RFC 5952 IPv6. */
  ipAddresses: string[];
  isCA: boolean;
  pathLength?: number;
  keyUsages: KeyUsage[];
  /** Names for the usual purposes (serverAuth, clientAuth, ...), dotted OIDs otherwise. */
  extKeyUsages: string[];
  /** Lower-case hex SHA-256 of the certificate DER. */
  fingerprintSha256: string;
  /** PEM "PUBLIC KEY" (SubjectPublicKeyInfo). */
  publicKeyPem: string;
  /** Lower-case hex; absent when the extension is. */
  subjectKeyId?: string;
  authorityKeyId?: string;
}

/** Parses the first certificate of a PEM string. Throws a PkiError on anything that is not a PEM certificate. */
export async function parseCertificate(pem: string): Promise<CertificateInfo> {
  const { der, cert } = readCertificate(pem);
  const ext = decodeExtensions(cert.extensions);
  let serial = toBytes(cert.serialNumber.valueBlock.valueHexView);
  let start = 0;
  while (start < serial.length - 1 && serial[start] === 0) start++;
  serial = serial.subarray(start);
  const info: CertificateInfo = {
    subject: formatName(nameDer(cert.subject)),
    issuer: formatName(nameDer(cert.issuer)),
    serialHex: toHex(serial),
    notBefore: cert.notBefore.value,
    notAfter: cert.notAfter.value,
    dnsNames: ext.dnsNames,
    ipAddresses: ext.ipAddresses,
    isCA: ext.isCA,
    keyUsages: ext.keyUsages,
    extKeyUsages: ext.extKeyUsages,
    fingerprintSha256: toHex(await subtle().digest('SHA-256', der)),
    publicKeyPem: spkiToPem(spkiDer(cert)),
  };
  if (ext.pathLength !== undefined) info.pathLength = ext.pathLength;
  if (ext.subjectKeyId) info.subjectKeyId = toHex(ext.subjectKeyId);
  if (ext.authorityKeyId) info.authorityKeyId = toHex(ext.authorityKeyId);
  return info;
}

/**
 * True when a certificate of `caPem` (a single CA or a bundle) issued the
 * leaf: the leaf's issuer DN is byte-equal to that CA's subject DN and the
 * leaf's signature verifies with that CA's key. Validity dates are not checked.
 */
export async function verifyIssuedBy(leafPem: string, caPem: string): Promise<boolean> {
  const { cert: leaf } = readCertificate(leafPem);
  const issuer = nameDer(leaf.issuer);
  for (const { cert: ca } of readCertificates(caPem)) {
    if (!bytesEqual(issuer, nameDer(ca.subject))) continue;
    try {
      if (await leaf.verify(ca, cryptoEngine())) return true;
    } catch {
      // An unsupported or malformed key or signature does not verify.
    }
  }
  return false;
}
