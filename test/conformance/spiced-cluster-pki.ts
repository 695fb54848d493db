// spiced's own rules for the cluster mTLS files the operator writes
// (ca.crt, tls.crt, tls.key of every node), so tests judge our Secrets the
// way the runtime that reads them does, not the way OpenSSL or our own code
// would.
//
// Source: spiceai/spiceai, crates/runtime/src/cluster/pki.rs at commit
// 58672454306c35dbc38247ff23ed29a635f4d258 (`ClusterPkiBundle`,
// `parse_and_validate`, `validate_chain`, `build_certified_key`), and
// x509-certificate's `Name::user_friendly_str` and
// `CapturedX509Certificate::{from_pem, verify_signed_by_certificate}`.
//
// What spiced does with the three files, at start and on every change:
//  1. reads all three; a file that cannot be read fails the load;
//  2. `validate_chain`: parses the FIRST PEM block of the CA file and the first
//     of the node certificate file; the node certificate's issuer, rendered by
//     `user_friendly_str` (only CN, OU, O, L, ST, C, in that order), must equal
//     the CA's subject rendered the same way, and the node certificate's
//     signature must verify with the first CA's public key (validity dates are
//     not checked here);
//  3. `build_certified_key`: every CERTIFICATE block of the node file is the
//     chain served; it must not be empty, its first must parse; the first
//     private key of the key file (PKCS#8, SEC1 or PKCS#1) must be a type
//     rustls can sign with. The key is not compared with the certificate
//     (a mismatch fails the handshakes, not the load);
//  4. every CERTIFICATE block of the CA file becomes a trust anchor of rustls'
//     `WebPkiClientVerifier` (inbound client certificates), and the whole CA
//     file is the outbound trust (`ClientTlsConfig::ca_certificate`); at least
//     one is required.
// A load that fails at start stops spiced; a reload that fails keeps the
// previous material ("rotated material failed validation, keeping previous").
//
// Trust between nodes is rustls's: webpki anchors are a subject and a public
// key (no validity, no serial), chains are built by issuer name and verified
// by signature, the end-entity's validity and extended key usage are checked,
// and (outbound only) the server name against its SANs. `peerHandshakes`
// runs real rustls handshakes through Deno (whose TLS is rustls).
import { spawnSync } from 'node:child_process';
import { webcrypto } from 'node:crypto';
import { homedir } from 'node:os';
import { join } from 'node:path';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';

export interface NodeFiles {
  /** ca.crt */
  ca: string;
  /** tls.crt */
  cert: string;
  /** tls.key */
  key: string;
}

export type LoadResult = { ok: true } | { ok: false; error: string };

const BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;

function pemBlocks(text: string): { label: string; der: Uint8Array }[] {
  return [...text.matchAll(BLOCK)].map(([, label, body]) => ({
    label: label!,
    der: Uint8Array.from(atob(body!.replace(/\s+/g, '')), (c) => c.charCodeAt(0)),
  }));
}

function parseCert(der: Uint8Array): pkijs.Certificate {
  const asn1 = asn1js.fromBER(der.slice().buffer);
  if (asn1.offset === -1) throw new Error('not DER');
  return new pkijs.Certificate({ schema: asn1.result });
}

const FRIENDLY = [
  ['2.5.4.3', 'CN'],
  ['2.5.4.11', 'OU'],
  ['2.5.4.10', 'O'],
  ['2.5.4.7', 'L'],
  ['2.5.4.8', 'S'],
  ['2.5.4.6', 'C'],
] as const;

/** x509-certificate's `Name::user_friendly_str`: CNs, then OUs, Os, Ls, STs, Cs, joined by ", ". */
export function userFriendlyName(name: pkijs.RelativeDistinguishedNames): string {
  const fields: string[] = [];
  for (const [oid, short] of FRIENDLY) {
    for (const atv of name.typesAndValues) {
      if (atv.type === oid) fields.push(`${short}=${(atv.value.valueBlock as { value?: string }).value ?? ''}`);
    }
  }
  return fields.join(', ');
}

async function signedBy(cert: pkijs.Certificate, issuer: pkijs.Certificate): Promise<boolean> {
  try {
    const engine = new pkijs.CryptoEngine({
      name: 'conformance',
      crypto: webcrypto as unknown as ConstructorParameters<typeof pkijs.CryptoEngine>[0]['crypto'],
    });
    return await cert.verify(issuer, engine);
  } catch {
    return false;
  }
}

const PRIVATE_KEY_LABELS = new Set(['PRIVATE KEY', 'EC PRIVATE KEY', 'RSA PRIVATE KEY']);

/** Whether spiced would load these files (see the rules above); the error says what spiced would log. */
export async function spicedLoadsClusterPki(files: NodeFiles): Promise<LoadResult> {
  const caBlocks = pemBlocks(files.ca);
  const certBlocks = pemBlocks(files.cert);
  // validate_chain: from_pem takes the first PEM block of each file, whatever its label.
  let ca: pkijs.Certificate;
  let node: pkijs.Certificate;
  try {
    ca = parseCert(caBlocks[0]!.der);
  } catch {
    return { ok: false, error: 'Failed to parse cluster CA certificate' };
  }
  try {
    node = parseCert(certBlocks[0]!.der);
  } catch {
    return { ok: false, error: 'Failed to parse cluster node certificate' };
  }
  const caName = userFriendlyName(ca.subject);
  const nodeIssuer = userFriendlyName(node.issuer);
  if (nodeIssuer !== caName) {
    return {
      ok: false,
      error: `The node certificate was not issued by the provided CA, expected ${caName} but found issuer ${nodeIssuer}`,
    };
  }
  if (!(await signedBy(node, ca))) {
    return {
      ok: false,
      error: `The node certificate was not issued by the provided CA, signature verification failed for issuer ${nodeIssuer}`,
    };
  }
  // build_certified_key
  const chain = certBlocks.filter((b) => b.label === 'CERTIFICATE');
  if (chain.length === 0) return { ok: false, error: 'server cert/key parse failed: empty certificate chain' };
  const key = pemBlocks(files.key).find((b) => PRIVATE_KEY_LABELS.has(b.label));
  if (!key) return { ok: false, error: 'server cert/key parse failed: no private key' };
  if (!(await rustlsCanSignWith(key))) return { ok: false, error: 'server cert/key parse failed: private key not usable' };
  // Trust anchors: every certificate of the CA file.
  const anchors = caBlocks.filter((b) => b.label === 'CERTIFICATE');
  if (anchors.length === 0) return { ok: false, error: 'no CA certificates parsed' };
  for (const anchor of anchors) {
    try {
      parseCert(anchor.der);
    } catch {
      return { ok: false, error: 'rustls rejected CA certificate' };
    }
  }
  return { ok: true };
}

async function rustlsCanSignWith(key: { label: string; der: Uint8Array }): Promise<boolean> {
  if (key.label !== 'PRIVATE KEY') return key.label === 'EC PRIVATE KEY' || key.label === 'RSA PRIVATE KEY';
  for (const params of [
    { name: 'ECDSA', namedCurve: 'P-256' },
    { name: 'ECDSA', namedCurve: 'P-384' },
    { name: 'Ed25519' },
    { name: 'RSA-PSS', hash: 'SHA-256' },
  ]) {
    try {
      await webcrypto.subtle.importKey('pkcs8', key.der, params, false, ['sign']);
      return true;
    } catch {
      // try the next type
    }
  }
  return false;
}

/** The extended key usages of the first certificate of a PEM file, as dotted OIDs. */
export function extKeyUsages(pem: string): string[] {
  const cert = parseCert(pemBlocks(pem)[0]!.der);
  const ext = cert.extensions?.find((e) => e.extnID === '2.5.29.37');
  return ext ? ((ext.parsedValue as pkijs.ExtKeyUsage).keyPurposes ?? []) : [];
}
export const EKU_SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
export const EKU_CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';

export interface Handshake {
  /** The node whose trust decides: its ca.crt. */
  verifier: NodeFiles;
  /** The node presenting its certificate: its tls.crt and tls.key. */
  presenter: NodeFiles;
  /**
   * Outbound: the verifier dials the presenter as a TLS server and checks this
   * name against its SANs (what an executor does with the scheduler address).
   * Absent: the presenter's certificate is judged as a client certificate is
   * (chain and validity, no name).
   */
  serverName?: string;
}

/**
 * Real rustls handshakes, one per entry, through Deno: the presenter serves
 * its tls.crt and tls.key on loopback; the verifier connects trusting exactly
 * its ca.crt (DENO_TLS_CA_STORE is emptied). Deno exposes no server-side
 * client-certificate verification, so the inbound direction (spiced's
 * `WebPkiClientVerifier`) is judged by the same webpki path validation over
 * the same anchors with the name check off, plus the clientAuth key usage
 * checked here. Returns, per entry, null when the handshake completed or the
 * error rustls gave.
 */
export function peerHandshakes(handshakes: Handshake[]): (string | null)[] {
  if (handshakes.length === 0) return [];
  const root = new URL('../../', import.meta.url).pathname;
  const deno = join(root, 'node_modules', '.bin', 'deno');
  const script = join(root, 'test', 'conformance', 'rustls-handshake.deno.ts');
  // Deduplicate: a rotation replay asks the same question many times.
  const keyOf = (h: Handshake) => JSON.stringify([h.verifier.ca, h.presenter.cert, h.presenter.key, h.serverName ?? null]);
  const unique = new Map<string, Handshake>();
  for (const h of handshakes) if (!answered.has(keyOf(h))) unique.set(keyOf(h), h);
  if (unique.size) runInDeno(unique, deno, script);
  return handshakes.map((h) => {
    const error = answered.get(keyOf(h))!;
    if (error) return error;
    if (h.serverName === undefined && !extKeyUsages(h.presenter.cert).includes(EKU_CLIENT_AUTH))
      return 'client certificate lacks the clientAuth extended key usage';
    return null;
  });
}

/** Handshake results by case, for the life of the process (the same files give the same answer). */
const answered = new Map<string, string | null>();

function runInDeno(unique: Map<string, Handshake>, deno: string, script: string): void {
  const cases = [...unique.values()].map((h) => ({
    ca: h.verifier.ca,
    cert: h.presenter.cert,
    key: h.presenter.key,
    serverName: h.serverName ?? null,
  }));
  const env = {
    ...process.env,
    DENO_DIR: join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'spiceai-operator', 'deno'),
    DENO_TLS_CA_STORE: 'system',
    SSL_CERT_FILE: '/dev/null',
    NO_COLOR: '1',
  };
  const r = spawnSync(deno, ['run', '--quiet', '--no-prompt', '--allow-net=127.0.0.1', script], {
    input: JSON.stringify(cases),
    env,
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  if (r.status !== 0) throw new Error(`deno handshake runner failed: ${r.stderr}`);
  const results = JSON.parse(r.stdout) as (string | null)[];
  [...unique.keys()].forEach((k, i) => answered.set(k, results[i] ?? null));
}
