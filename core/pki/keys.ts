// Keys: P-256 generation, PKCS#8 import and export, and the signing
// parameters that follow from a key's algorithm. A CA key brought by a user
// may also be SEC1 ("EC PRIVATE KEY", what Go's tooling writes) or PKCS#1
// ("RSA PRIVATE KEY"); both are rewrapped as PKCS#8 for Web Crypto.
import * as asn1js from 'asn1js';
import { toBytes, type Bytes } from './bytes.ts';
import { readCertificate, spkiDer } from './certificate.ts';
import { randomBytes, subtle, type Key, type KeyPair } from './engine.ts';
import { PkiError } from './errors.ts';
import { decodePem, decodePemBlocks, encodePem, PEM_PRIVATE_KEY, PEM_PUBLIC_KEY } from './pem.ts';

const OID_EC_PUBLIC_KEY = '1.2.840.10045.2.1';
const OID_RSA_ENCRYPTION = '1.2.840.113549.1.1.1';
const CURVES: Record<string, { name: 'P-256' | 'P-384' | 'P-521'; hash: HashName }> = {
  '1.2.840.10045.3.1.7': { name: 'P-256', hash: 'SHA-256' },
  '1.3.132.0.34': { name: 'P-384', hash: 'SHA-384' },
  '1.3.132.0.35': { name: 'P-521', hash: 'SHA-512' },
};
const KNOWN_UNSUPPORTED: Record<string, string> = {
  '1.3.101.112': 'Ed25519',
  '1.3.101.113': 'Ed448',
  '1.2.840.113549.1.1.10': 'RSA-PSS',
};

export type HashName = 'SHA-256' | 'SHA-384' | 'SHA-512';

/** What Web Crypto needs to import and use a key, derived from its AlgorithmIdentifier. */
export interface KeyAlgorithm {
  /** e.g. "ECDSA P-256" or "RSA". */
  description: string;
  importParams: { name: 'ECDSA'; namedCurve: string } | { name: 'RSASSA-PKCS1-v1_5'; hash: HashName };
  signParams: { name: 'ECDSA'; hash: HashName } | { name: 'RSASSA-PKCS1-v1_5' };
  /** The digest used when this key signs a certificate. */
  hash: HashName;
}

export interface SigningKey {
  privateKey: Key;
  algorithm: KeyAlgorithm;
}

export const LEAF_KEY_PARAMS = { name: 'ECDSA', namedCurve: 'P-256' } as const;

function algorithmFrom(oid: string, params: asn1js.AsnType | undefined, what: string): KeyAlgorithm {
  if (oid === OID_EC_PUBLIC_KEY) {
    const curveOid = params instanceof asn1js.ObjectIdentifier ? params.valueBlock.toString() : undefined;
    const curve = curveOid ? CURVES[curveOid] : undefined;
    if (!curve)
      throw new PkiError(`${what} uses an unsupported elliptic curve ${curveOid ?? '(explicit parameters)'}; use P-256, P-384 or P-521`);
    return {
      description: `ECDSA ${curve.name}`,
      importParams: { name: 'ECDSA', namedCurve: curve.name },
      signParams: { name: 'ECDSA', hash: curve.hash },
      hash: curve.hash,
    };
  }
  if (oid === OID_RSA_ENCRYPTION) {
    return {
      description: 'RSA',
      importParams: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
      signParams: { name: 'RSASSA-PKCS1-v1_5' },
      hash: 'SHA-256',
    };
  }
  throw new PkiError(`${what} uses an unsupported key algorithm ${KNOWN_UNSUPPORTED[oid] ?? oid}; use ECDSA or RSA`);
}

function sequenceItems(der: Bytes, what: string): asn1js.AsnType[] {
  const asn1 = asn1js.fromBER(der);
  if (asn1.offset === -1 || !(asn1.result instanceof asn1js.Sequence)) throw new PkiError(`${what} is not valid DER`);
  return asn1.result.valueBlock.value;
}

function algorithmIdentifier(node: asn1js.AsnType | undefined, what: string): { oid: string; params?: asn1js.AsnType } {
  if (!(node instanceof asn1js.Sequence)) throw new PkiError(`${what} has no algorithm identifier`);
  const [oid, params] = node.valueBlock.value;
  if (!(oid instanceof asn1js.ObjectIdentifier)) throw new PkiError(`${what} has no algorithm identifier`);
  return params === undefined ? { oid: oid.valueBlock.toString() } : { oid: oid.valueBlock.toString(), params };
}

/** The algorithm of a PKCS#8 PrivateKeyInfo. */
export function privateKeyAlgorithm(pkcs8: Bytes): KeyAlgorithm {
  const [, alg] = sequenceItems(pkcs8, 'private key');
  const { oid, params } = algorithmIdentifier(alg, 'private key');
  return algorithmFrom(oid, params, 'private key');
}

/** The algorithm of a SubjectPublicKeyInfo. */
export function publicKeyAlgorithm(spki: Bytes): KeyAlgorithm {
  const [alg] = sequenceItems(spki, 'public key');
  const { oid, params } = algorithmIdentifier(alg, 'public key');
  return algorithmFrom(oid, params, 'public key');
}

/** Rewraps SEC1 ECPrivateKey as PKCS#8, moving the curve into the AlgorithmIdentifier (RFC 5915 §3). */
function sec1ToPkcs8(sec1: Bytes): Bytes {
  const items = sequenceItems(sec1, 'EC private key');
  const [version, privateKey] = items;
  if (!(version instanceof asn1js.Integer) || !(privateKey instanceof asn1js.OctetString)) {
    throw new PkiError('EC private key is not a SEC1 ECPrivateKey');
  }
  const tagged = (n: number) => items.find((i) => i.idBlock.tagClass === 3 && i.idBlock.tagNumber === n) as asn1js.Constructed | undefined;
  const curve = tagged(0)?.valueBlock.value[0];
  if (!(curve instanceof asn1js.ObjectIdentifier)) throw new PkiError('EC private key does not name its curve');
  const inner: asn1js.AsnType[] = [version, privateKey];
  const pub = tagged(1);
  if (pub) inner.push(pub);
  return toBytes(
    new asn1js.Sequence({
      value: [
        new asn1js.Integer({ value: 0 }),
        new asn1js.Sequence({ value: [new asn1js.ObjectIdentifier({ value: OID_EC_PUBLIC_KEY }), curve] }),
        new asn1js.OctetString({ valueHex: new asn1js.Sequence({ value: inner }).toBER(false) }),
      ],
    }).toBER(false),
  );
}

function pkcs1ToPkcs8(pkcs1: Bytes): Bytes {
  return toBytes(
    new asn1js.Sequence({
      value: [
        new asn1js.Integer({ value: 0 }),
        new asn1js.Sequence({ value: [new asn1js.ObjectIdentifier({ value: OID_RSA_ENCRYPTION }), new asn1js.Null()] }),
        new asn1js.OctetString({ valueHex: pkcs1.buffer }),
      ],
    }).toBER(false),
  );
}

/** PKCS#8 DER of the first private key in a PEM string (PKCS#8, SEC1 or PKCS#1). */
export function privateKeyPkcs8(pem: string): Bytes {
  if (typeof pem !== 'string') throw new PkiError('private key must be a PEM string');
  const blocks = decodePemBlocks(pem);
  if (blocks.some((b) => b.label === 'ENCRYPTED PRIVATE KEY'))
    throw new PkiError('encrypted private keys are not supported; decrypt the key first');
  const block = decodePem(pem, [PEM_PRIVATE_KEY, 'EC PRIVATE KEY', 'RSA PRIVATE KEY']);
  if (block.label === 'EC PRIVATE KEY') return sec1ToPkcs8(block.der);
  if (block.label === 'RSA PRIVATE KEY') return pkcs1ToPkcs8(block.der);
  return block.der;
}

/** Imports a PEM private key for signing. Throws a PkiError when it is not a usable key. */
export async function importPrivateKey(pem: string, options: { extractable?: boolean } = {}): Promise<SigningKey> {
  const pkcs8 = privateKeyPkcs8(pem);
  const algorithm = privateKeyAlgorithm(pkcs8);
  let privateKey: Key;
  try {
    privateKey = await subtle().importKey('pkcs8', pkcs8, algorithm.importParams, options.extractable ?? false, ['sign']);
  } catch (error) {
    throw new PkiError(
      `private key (${algorithm.description}) cannot be imported: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  return { privateKey, algorithm };
}

/**
 * The SubjectPublicKeyInfo of a PEM private key, derived through JWK (the
 * private JWK carries the public members), with the key imported for signing.
 */
export async function importPrivateKeyWithSpki(pem: string): Promise<SigningKey & { spki: Bytes }> {
  const key = await importPrivateKey(pem, { extractable: true });
  const jwk = await subtle().exportKey('jwk', key.privateKey);
  const pub =
    key.algorithm.importParams.name === 'ECDSA' ? { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y } : { kty: jwk.kty, n: jwk.n, e: jwk.e };
  const publicKey = await subtle().importKey('jwk', pub, key.algorithm.importParams, true, ['verify']);
  return { ...key, spki: toBytes(await subtle().exportKey('spki', publicKey)) };
}

/** A new extractable ECDSA P-256 key pair. */
export async function generateKeyPair(): Promise<KeyPair> {
  return (await subtle().generateKey(LEAF_KEY_PARAMS, true, ['sign', 'verify'])) as KeyPair;
}

export async function exportPrivateKeyPem(privateKey: Key): Promise<string> {
  return encodePem(PEM_PRIVATE_KEY, await subtle().exportKey('pkcs8', privateKey));
}

export async function exportSpki(publicKey: Key): Promise<Bytes> {
  return toBytes(await subtle().exportKey('spki', publicKey));
}

/** SubjectPublicKeyInfo DER from a PEM "PUBLIC KEY" block. */
export function spkiFromPem(pem: string): Bytes {
  const der = decodePem(pem, PEM_PUBLIC_KEY).der;
  publicKeyAlgorithm(der);
  return der;
}

export function spkiToPem(spki: Uint8Array): string {
  return encodePem(PEM_PUBLIC_KEY, spki);
}

/** Imports a SubjectPublicKeyInfo for verifying signatures. */
export async function importPublicKey(spki: Bytes): Promise<{ publicKey: Key; algorithm: KeyAlgorithm }> {
  const algorithm = publicKeyAlgorithm(spki);
  try {
    return { publicKey: await subtle().importKey('spki', spki, algorithm.importParams, true, ['verify']), algorithm };
  } catch (error) {
    throw new PkiError(
      `public key (${algorithm.description}) cannot be imported: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}

/** True when the private key is the one whose public half is in the SubjectPublicKeyInfo (sign-then-verify). */
export async function privateKeyMatchesSpki(key: SigningKey, spki: Bytes): Promise<boolean> {
  let pub: Awaited<ReturnType<typeof importPublicKey>>;
  try {
    pub = await importPublicKey(spki);
  } catch {
    return false;
  }
  if (!sameKeyType(pub.algorithm, key.algorithm)) return false;
  const challenge = randomBytes(32);
  const signature = await subtle().sign(key.algorithm.signParams, key.privateKey, challenge);
  return subtle().verify(key.algorithm.signParams, pub.publicKey, signature, challenge);
}

function sameKeyType(a: KeyAlgorithm, b: KeyAlgorithm): boolean {
  return a.description === b.description;
}

/**
 * True when the PEM private key belongs to the PEM certificate. Never throws:
 * a key or certificate that cannot be read gives false (a corrupt Secret).
 */
export async function keyMatchesCertificate(keyPem: string, certPem: string): Promise<boolean> {
  try {
    const key = await importPrivateKey(keyPem);
    const { cert } = readCertificate(certPem);
    return await privateKeyMatchesSpki(key, spkiDer(cert));
  } catch {
    return false;
  }
}
