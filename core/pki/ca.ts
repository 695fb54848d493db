// The cluster root CA: a self-signed ECDSA P-256 certificate limited to
// signing leaves (pathLen 0), and loading a CA (ours or a user's) for signing.
import type * as pkijs from 'pkijs';
import { toHex, type Bytes } from './bytes.ts';
import { nameDer, readCertificates, spkiDer } from './certificate.ts';
import { basicConstraints, decodeExtensions, keyIdentifier, keyUsage, subjectKeyIdentifier, authorityKeyIdentifier } from './extensions.ts';
import { PkiError } from './errors.ts';
import {
  exportPrivateKeyPem,
  exportSpki,
  generateKeyPair,
  importPrivateKey,
  importPrivateKeyWithSpki,
  privateKeyMatchesSpki,
  publicKeyAlgorithm,
  type SigningKey,
} from './keys.ts';
import { encodeName, OID_COMMON_NAME, OID_ORGANIZATIONAL_UNIT, validateNameValue } from './names.ts';
import { BACKDATE_MS, checkDate, checkValidityDays, DAY_MS, signCertificate, truncateToSecond } from './sign.ts';

/** PEM certificate and PKCS#8 private key, as stored in a Secret. */
export interface CertificateAndKey {
  certPem: string;
  keyPem: string;
}

export interface CreateCAOptions {
  commonName: string;
  organizationalUnit?: string;
  /** Default 3650 (10 years). */
  validityDays?: number;
  /** Default the current time; notBefore is 5 minutes earlier. */
  now?: Date;
  /**
   * Re-sign with this existing private key (PEM) instead of generating one:
   * renewing a CA this way, with the same names, keeps the leaves it issued
   * verifying against the new certificate. Returned again as PKCS#8.
   */
  keyPem?: string;
}

/** A self-signed root certificate: CA:TRUE pathlen 0, keyCertSign + cRLSign + digitalSignature, SKI = AKI = keyId. */
async function signRoot(o: {
  subject: Bytes;
  spki: Bytes;
  keyId: Bytes;
  signer: SigningKey;
  now: Date;
  validityDays: number;
}): Promise<string> {
  const { pem } = await signCertificate(
    {
      subject: o.subject,
      issuer: o.subject,
      spki: o.spki,
      notBefore: new Date(o.now.getTime() - BACKDATE_MS),
      notAfter: new Date(o.now.getTime() + o.validityDays * DAY_MS),
      extensions: [
        basicConstraints(true, 0),
        keyUsage(['digitalSignature', 'keyCertSign', 'cRLSign']),
        subjectKeyIdentifier(o.keyId),
        authorityKeyIdentifier(o.keyId),
      ],
    },
    o.signer,
  );
  return pem;
}

/** Creates a self-signed root CA (ECDSA P-256 unless keyPem is given): basicConstraints CA:TRUE pathlen:0, keyUsage keyCertSign + cRLSign + digitalSignature, both critical. */
export async function createCA(options: CreateCAOptions): Promise<CertificateAndKey> {
  const commonName = validateNameValue(options?.commonName, 'commonName');
  const attributes: Array<[string, string]> = [[OID_COMMON_NAME, commonName]];
  if (options.organizationalUnit !== undefined) {
    attributes.push([OID_ORGANIZATIONAL_UNIT, validateNameValue(options.organizationalUnit, 'organizationalUnit')]);
  }
  const validityDays = checkValidityDays(options.validityDays ?? 3650);
  const now = checkDate(options.now ?? new Date(), 'now');

  let signer: SigningKey;
  let spki: Bytes;
  if (options.keyPem !== undefined) {
    ({ spki, ...signer } = await importPrivateKeyWithSpki(options.keyPem));
  } else {
    const keys = await generateKeyPair();
    spki = await exportSpki(keys.publicKey);
    signer = { privateKey: keys.privateKey, algorithm: publicKeyAlgorithm(spki) };
  }
  const name = encodeName(attributes);
  const pem = await signRoot({ subject: name, spki, keyId: await keyIdentifier(spki), signer, now, validityDays });
  return { certPem: pem, keyPem: await exportPrivateKeyPem(signer.privateKey) };
}

/**
 * A new ECDSA P-256 key for a CA, with its key identifier (hex of the SHA-1
 * of the public key, as in subjectKeyIdentifier): a CA named after its key
 * gets a new name exactly when its key changes.
 */
export async function generateCAKey(): Promise<{ keyPem: string; keyIdHex: string }> {
  const keys = await generateKeyPair();
  const keyId = await keyIdentifier(await exportSpki(keys.publicKey));
  return { keyPem: await exportPrivateKeyPem(keys.privateKey), keyIdHex: toHex(keyId) };
}

export interface RenewCAOptions {
  /** Default 3650 (10 years). */
  validityDays?: number;
  /** Default the current time; notBefore is 5 minutes earlier. */
  now?: Date;
}

/**
 * Re-signs a CA with its own key and its subject copied byte for byte: a new
 * serial and validity, the same identity. Every leaf the old certificate
 * issued verifies against the new one (issuer DN equal, signature by the same
 * key), so nodes holding either certificate keep trusting each other: spiced
 * compares the leaf's issuer with the first CA's subject and checks the
 * signature, and rustls (webpki) anchors trust on subject and key only.
 */
export async function renewCA(ca: CertificateAndKey, options: RenewCAOptions = {}): Promise<CertificateAndKey> {
  const loaded = await loadCA(ca);
  const validityDays = checkValidityDays(options.validityDays ?? 3650);
  const now = checkDate(options.now ?? new Date(), 'now');
  const { spki } = await importPrivateKeyWithSpki(ca.keyPem);
  const pem = await signRoot({ subject: loaded.subject, spki, keyId: loaded.keyId, signer: loaded.signer, now, validityDays });
  return { certPem: pem, keyPem: ca.keyPem };
}

/** A CA ready to sign: its certificate read and its key imported and checked once. */
export interface LoadedCA {
  readonly kind: 'LoadedCA';
  readonly certPem: string;
  /** DER of the CA's subject, copied verbatim into each leaf's issuer. */
  readonly subject: Bytes;
  readonly keyId: Bytes;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly signer: SigningKey;
}

/**
 * Reads a CA certificate and key for signing. The PEM may be a bundle: the
 * certificate that matches the key is used. Throws a PkiError when the key
 * matches no certificate, or the certificate is not a CA allowed to sign
 * certificates.
 */
export async function loadCA(ca: CertificateAndKey): Promise<LoadedCA> {
  if (!ca || typeof ca !== 'object') throw new PkiError('ca must be { certPem, keyPem }');
  const certs = readCertificates(ca.certPem);
  const signer = await importPrivateKey(ca.keyPem);
  let chosen: { der: Bytes; cert: pkijs.Certificate } | undefined;
  for (const c of certs) {
    if (await privateKeyMatchesSpki(signer, spkiDer(c.cert))) {
      chosen = c;
      break;
    }
  }
  if (!chosen) throw new PkiError('the CA private key does not match the CA certificate');
  const ext = decodeExtensions(chosen.cert.extensions);
  if (!ext.isCA) throw new PkiError('the CA certificate is not a CA (basicConstraints CA:TRUE is missing)');
  if (chosen.cert.extensions?.some((e) => e.extnID === '2.5.29.15') && !ext.keyUsages.includes('keyCertSign')) {
    throw new PkiError('the CA certificate may not sign certificates (keyUsage lacks keyCertSign)');
  }
  return {
    kind: 'LoadedCA',
    certPem: ca.certPem,
    subject: nameDer(chosen.cert.subject),
    keyId: ext.subjectKeyId ?? (await keyIdentifier(spkiDer(chosen.cert))),
    notBefore: truncateToSecond(chosen.cert.notBefore.value),
    notAfter: truncateToSecond(chosen.cert.notAfter.value),
    signer,
  };
}
