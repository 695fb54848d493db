// PKCS#10 certificate signing requests: creating one (a node that keeps its
// own key) and reading one back with its self-signature checked.
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { toBytes, type Bytes } from './bytes.ts';
import { cryptoEngine } from './engine.ts';
import { PkiError } from './errors.ts';
import { subjectAltName } from './extensions.ts';
import { exportPrivateKeyPem, exportSpki, generateKeyPair, publicKeyAlgorithm } from './keys.ts';
import { encodeName, OID_COMMON_NAME, validateNameValue } from './names.ts';
import { decodePem, encodePem, PEM_CERTIFICATE_REQUEST } from './pem.ts';
import { normalizeSans, type SubjectAltNames } from './san.ts';

const OID_EXTENSION_REQUEST = '1.2.840.113549.1.9.14';

export interface CreateCSROptions extends SubjectAltNames {
  commonName: string;
}

/** A new P-256 key and a CSR for CN=commonName that requests the given SANs. */
export async function createCSR(options: CreateCSROptions): Promise<{ csrPem: string; keyPem: string }> {
  const commonName = validateNameValue(options?.commonName, 'commonName');
  const sans = normalizeSans(options);
  const keys = await generateKeyPair();
  const csr = new pkijs.CertificationRequest();
  csr.version = 0;
  csr.subject = pkijs.RelativeDistinguishedNames.fromBER(encodeName([[OID_COMMON_NAME, commonName]]));
  csr.subjectPublicKeyInfo = pkijs.PublicKeyInfo.fromBER(await exportSpki(keys.publicKey));
  if (sans.dnsNames.length + sans.ipAddresses.length > 0) {
    csr.attributes = [
      new pkijs.Attribute({
        type: OID_EXTENSION_REQUEST,
        values: [new pkijs.Extensions({ extensions: [subjectAltName(sans.dnsNames, sans.ipAddresses)] }).toSchema()],
      }),
    ];
  }
  await csr.sign(keys.privateKey, 'SHA-256', cryptoEngine());
  const der = csr.toSchema().toBER(false);
  return { csrPem: encodePem(PEM_CERTIFICATE_REQUEST, der), keyPem: await exportPrivateKeyPem(keys.privateKey) };
}

/**
 * The SubjectPublicKeyInfo of a PEM CSR after checking the CSR's signature
 * (proof that the requester holds the private key). Throws a PkiError for a
 * CSR that does not parse or whose signature does not verify.
 */
export async function csrPublicKey(csrPem: string): Promise<Bytes> {
  if (typeof csrPem !== 'string') throw new PkiError('csrPem must be a PEM string');
  const { der } = decodePem(csrPem, [PEM_CERTIFICATE_REQUEST, 'NEW CERTIFICATE REQUEST']);
  const asn1 = asn1js.fromBER(der);
  if (asn1.offset === -1) throw new PkiError('certificate signing request is not valid DER');
  let csr: pkijs.CertificationRequest;
  try {
    csr = new pkijs.CertificationRequest({ schema: asn1.result });
  } catch (error) {
    throw new PkiError(`data is not a PKCS#10 certificate signing request: ${error instanceof Error ? error.message : String(error)}`);
  }
  const spki = toBytes(csr.subjectPublicKeyInfo.toSchema().toBER(false));
  publicKeyAlgorithm(spki); // refuses key types we cannot use, with a clear message
  let valid = false;
  try {
    valid = await csr.verify(cryptoEngine());
  } catch {
    valid = false;
  }
  if (!valid) throw new PkiError('the certificate signing request signature does not verify (the CSR is corrupt or was altered)');
  return spki;
}
