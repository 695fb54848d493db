// The Web Crypto engine pkijs signs and verifies with. It is passed explicitly
// to every pkijs call, so nothing depends on how pkijs guessed its global
// engine at import time; a global engine is installed only if pkijs found none
// (a few pkijs helpers always read the global one).
import * as pkijs from 'pkijs';
import { webCrypto } from '../webcrypto.ts';

export { randomBytes, subtle, type Jwk, type Key, type KeyPair, type Subtle } from '../webcrypto.ts';

let engine: pkijs.CryptoEngine | undefined;

export function cryptoEngine(): pkijs.CryptoEngine {
  if (engine) return engine;
  const crypto = webCrypto() as unknown as ConstructorParameters<typeof pkijs.CryptoEngine>[0]['crypto'];
  engine = new pkijs.CryptoEngine({ name: 'webcrypto', crypto });
  let global: unknown;
  try {
    global = pkijs.getCrypto(false);
  } catch {
    global = undefined;
  }
  if (!global) pkijs.setEngine('webcrypto', engine);
  return engine;
}
