// A webhook's serving certificate as kept in one Secret (type
// kubernetes.io/tls): its CA in ca.crt/ca.key, the certificate the webhook
// serves in tls.crt/tls.key. Reading the Secret's data, making the
// certificates a plan asks for, and the data to write back. Pure (Web
// Crypto): the decision is serving-certificate-policy.ts, and the shim
// (shim/webhook/) only reads, writes and serves.
import { decodeBase64, encodeBase64 } from '../base64.ts';
import { createCA, renewCA } from './ca.ts';
import { issueLeaf } from './leaf.ts';
import type { SubjectAltNames } from './san.ts';

/** What the Secret holds, as text; a key is undefined when absent or not base64. */
export interface ServingMaterial {
  caPem?: string;
  caKeyPem?: string;
  certPem?: string;
  keyPem?: string;
}

/** Everything an operator-managed Secret holds once written. */
export type CompleteServingMaterial = Required<ServingMaterial>;

/** The Secret's data keys. */
export const SERVING_SECRET_KEYS = { caPem: 'ca.crt', caKeyPem: 'ca.key', certPem: 'tls.crt', keyPem: 'tls.key' } as const satisfies Record<
  keyof ServingMaterial,
  string
>;

/** The Secret's `data` (base64 values) as text. */
export function readServingSecret(data: Record<string, string> | undefined): ServingMaterial {
  const text = (key: string) => (data?.[key] === undefined ? undefined : decodeBase64(data[key]!));
  return {
    caPem: text(SERVING_SECRET_KEYS.caPem),
    caKeyPem: text(SERVING_SECRET_KEYS.caKeyPem),
    certPem: text(SERVING_SECRET_KEYS.certPem),
    keyPem: text(SERVING_SECRET_KEYS.keyPem),
  };
}

/** The Secret's `data` for this material (base64 values). */
export function servingSecretData(material: CompleteServingMaterial): Record<string, string> {
  return {
    [SERVING_SECRET_KEYS.certPem]: encodeBase64(material.certPem),
    [SERVING_SECRET_KEYS.keyPem]: encodeBase64(material.keyPem),
    [SERVING_SECRET_KEYS.caPem]: encodeBase64(material.caPem),
    [SERVING_SECRET_KEYS.caKeyPem]: encodeBase64(material.caKeyPem),
  };
}

/** The Secret's `data` after a renewal: the certificates replaced, ca.key and every other key kept byte for byte. */
export function renewedSecretData(data: Record<string, string> | undefined, material: CompleteServingMaterial): Record<string, string> {
  return {
    ...data,
    [SERVING_SECRET_KEYS.caPem]: encodeBase64(material.caPem),
    [SERVING_SECRET_KEYS.certPem]: encodeBase64(material.certPem),
    [SERVING_SECRET_KEYS.keyPem]: encodeBase64(material.keyPem),
  };
}

/** Who the certificate is for, and when. */
export interface ServingIdentity {
  /** The leaf's common name; the CA is named `<commonName>-ca`. */
  commonName: string;
  wanted: SubjectAltNames;
  now: Date;
  /** Default 365. */
  leafValidityDays?: number;
  /** Default 3650. */
  caValidityDays?: number;
}

const newLeaf = async (ca: { certPem: string; keyPem: string }, id: ServingIdentity) => {
  const leaf = await issueLeaf({ ca, commonName: id.commonName, ...id.wanted, validityDays: id.leafValidityDays ?? 365, now: id.now });
  return { certPem: leaf.certPem, keyPem: leaf.keyPem! };
};

/** A new CA and a serving certificate from it, for a Secret that does not exist yet. */
export async function createServingMaterial(id: ServingIdentity): Promise<CompleteServingMaterial> {
  const ca = await createCA({ commonName: `${id.commonName}-ca`, validityDays: id.caValidityDays ?? 3650, now: id.now });
  return { caPem: ca.certPem, caKeyPem: ca.keyPem, ...(await newLeaf(ca, id)) };
}

/**
 * The Secret's material after a renewal: the CA re-signed with its own key
 * and subject (renewCA: every certificate it issued keeps verifying), and/or a
 * new serving certificate from it. What is not renewed is kept as it is.
 */
export async function renewServingMaterial(
  have: ServingMaterial & { caPem: string; caKeyPem: string },
  what: { renewCA: boolean; reissueLeaf: boolean },
  id: ServingIdentity,
): Promise<CompleteServingMaterial> {
  const caPem = what.renewCA
    ? (await renewCA({ certPem: have.caPem, keyPem: have.caKeyPem }, { validityDays: id.caValidityDays ?? 3650, now: id.now })).certPem
    : have.caPem;
  const leaf = what.reissueLeaf
    ? await newLeaf({ certPem: caPem, keyPem: have.caKeyPem }, id)
    : { certPem: have.certPem!, keyPem: have.keyPem! };
  return { caPem, caKeyPem: have.caKeyPem, ...leaf };
}
