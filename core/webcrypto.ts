// Typed access to Web Crypto (globalThis.crypto), for every module of core/.
// The surface used is typed locally: core/ compiles with lib ES2023 only (no
// DOM), and Node's and Deno's own typings of `crypto` differ, so neither is
// relied on.

/** A Web Crypto CryptoKey (the fields used here). */
export interface Key {
  readonly type: string;
  readonly extractable: boolean;
  readonly algorithm: { readonly name: string };
  readonly usages: readonly string[];
}
export interface KeyPair {
  publicKey: Key;
  privateKey: Key;
}
type Data = ArrayBuffer | ArrayBufferView;
/** A JSON Web Key (the members used here). */
export interface Jwk {
  kty?: string;
  crv?: string;
  x?: string;
  y?: string;
  n?: string;
  e?: string;
  [member: string]: unknown;
}
type Algorithm = { name: string; [param: string]: unknown };

/** The subset of SubtleCrypto this PKI uses. */
export interface Subtle {
  generateKey(algorithm: Algorithm, extractable: boolean, usages: string[]): Promise<unknown>;
  importKey(format: 'pkcs8' | 'spki', keyData: Data, algorithm: Algorithm, extractable: boolean, usages: string[]): Promise<Key>;
  importKey(format: 'jwk', keyData: Jwk, algorithm: Algorithm, extractable: boolean, usages: string[]): Promise<Key>;
  exportKey(format: 'pkcs8' | 'spki', key: Key): Promise<ArrayBuffer>;
  exportKey(format: 'jwk', key: Key): Promise<Jwk>;
  sign(algorithm: Algorithm, key: Key, data: Data): Promise<ArrayBuffer>;
  verify(algorithm: Algorithm, key: Key, signature: Data, data: Data): Promise<boolean>;
  digest(algorithm: string, data: Data): Promise<ArrayBuffer>;
}
export interface WebCrypto {
  subtle: Subtle;
  getRandomValues<T extends ArrayBufferView>(array: T): T;
}

export function webCrypto(): WebCrypto {
  const c = (globalThis as unknown as { crypto?: WebCrypto }).crypto;
  if (!c?.subtle) throw new Error('Web Crypto (globalThis.crypto.subtle) is not available in this runtime');
  return c;
}

export function subtle(): Subtle {
  return webCrypto().subtle;
}

export function randomBytes(n: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(n);
  webCrypto().getRandomValues(out);
  return out;
}
