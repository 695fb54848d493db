// Per-node leaf certificates, used by a node both as TLS server and client
// identity on the internal port. The issuer DN is the CA's subject DN byte
// for byte: spiced compares them before it checks the signature.
import { loadCA, type CertificateAndKey, type LoadedCA } from './ca.ts';
import { csrPublicKey } from './csr.ts';
import type { Key } from './engine.ts';
import { PkiError } from './errors.ts';
import {
  authorityKeyIdentifier,
  basicConstraints,
  extKeyUsage,
  keyIdentifier,
  keyUsage,
  subjectAltName,
  subjectKeyIdentifier,
} from './extensions.ts';
import { exportPrivateKeyPem, exportSpki, generateKeyPair, spkiFromPem } from './keys.ts';
import { encodeName, OID_COMMON_NAME, validateNameValue } from './names.ts';
import { normalizeSans, type SubjectAltNames } from './san.ts';
import { BACKDATE_MS, checkDate, checkValidityDays, DAY_MS, signCertificate } from './sign.ts';
import type { Bytes } from './bytes.ts';

export interface IssueLeafOptions extends SubjectAltNames {
  /** The signing CA: PEM certificate and key, or the result of loadCA (faster when issuing many). */
  ca: CertificateAndKey | LoadedCA;
  commonName: string;
  /** Default 365; the certificate never outlives the CA. */
  validityDays?: number;
  now?: Date;
  /** Certify this public key (a CryptoKey, or a PEM "PUBLIC KEY") instead of generating a key. */
  publicKey?: Key | string;
  /** Certify the public key of this PKCS#10 request after verifying its signature. Its subject and SANs are ignored. */
  csrPem?: string;
}

export interface IssuedLeaf {
  certPem: string;
  /** PKCS#8 PEM of the generated key; absent when publicKey or csrPem was given. */
  keyPem?: string;
}

function isLoaded(ca: CertificateAndKey | LoadedCA): ca is LoadedCA {
  return (ca as LoadedCA).kind === 'LoadedCA';
}

/**
 * Issues a leaf certificate: keyUsage digitalSignature + keyEncipherment
 * (critical), extKeyUsage serverAuth + clientAuth, basicConstraints CA:FALSE,
 * the given DNS and IP SANs, authorityKeyIdentifier = the CA's key id.
 * notBefore is 5 minutes before `now` (not before the CA's), notAfter is
 * `now + validityDays` capped at the CA's notAfter.
 */
export async function issueLeaf(options: IssueLeafOptions): Promise<IssuedLeaf> {
  if (!options || typeof options !== 'object') throw new PkiError('issueLeaf needs options');
  const commonName = validateNameValue(options.commonName, 'commonName');
  const sans = normalizeSans(options);
  if (sans.dnsNames.length + sans.ipAddresses.length === 0) {
    throw new PkiError('a leaf certificate needs at least one DNS name or IP address: peers verify the server name against the SANs');
  }
  const validityDays = checkValidityDays(options.validityDays ?? 365);
  const now = checkDate(options.now ?? new Date(), 'now');
  if (options.publicKey !== undefined && options.csrPem !== undefined) throw new PkiError('pass publicKey or csrPem, not both');
  if (!options.ca) throw new PkiError('ca is required');

  const ca = isLoaded(options.ca) ? options.ca : await loadCA(options.ca);
  if (now.getTime() >= ca.notAfter.getTime())
    throw new PkiError(`the CA certificate expired at ${ca.notAfter.toISOString()}; renew the CA first`);

  let spki: Bytes;
  let keyPem: string | undefined;
  if (options.csrPem !== undefined) {
    spki = await csrPublicKey(options.csrPem);
  } else if (options.publicKey !== undefined) {
    spki = typeof options.publicKey === 'string' ? spkiFromPem(options.publicKey) : await exportSpki(options.publicKey);
  } else {
    const keys = await generateKeyPair();
    spki = await exportSpki(keys.publicKey);
    keyPem = await exportPrivateKeyPem(keys.privateKey);
  }

  const notBefore = new Date(Math.max(now.getTime() - BACKDATE_MS, ca.notBefore.getTime()));
  const notAfter = new Date(Math.min(now.getTime() + validityDays * DAY_MS, ca.notAfter.getTime()));
  const { pem } = await signCertificate(
    {
      subject: encodeName([[OID_COMMON_NAME, commonName]]),
      issuer: ca.subject,
      spki,
      notBefore,
      notAfter,
      extensions: [
        basicConstraints(false),
        keyUsage(['digitalSignature', 'keyEncipherment']),
        extKeyUsage(['serverAuth', 'clientAuth']),
        subjectKeyIdentifier(await keyIdentifier(spki)),
        authorityKeyIdentifier(ca.keyId),
        subjectAltName(sans.dnsNames, sans.ipAddresses),
      ],
    },
    ca.signer,
  );
  return keyPem === undefined ? { certPem: pem } : { certPem: pem, keyPem };
}
