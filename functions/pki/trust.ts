// What each node trusts, and how the cluster moves from one CA to another
// without two nodes ever refusing each other.
//
// spiced's rules (crates/runtime/src/cluster/pki.rs): the CA that issued a
// node's own certificate must be the FIRST certificate of its ca.crt (else the
// node does not start, or keeps its old files on reload); every certificate of
// ca.crt is trusted for peers. And a Secret change reaches a pod's files only
// after the kubelet's next sync, so at any moment a node may still hold the
// files written before the last change.
//
// A move to a new CA (the CA Secret was deleted and re-created, or replaced by
// another CA) therefore goes in steps, each written only once the previous one
// has reached every pod (PROPAGATION_SECONDS):
//  1. every node trusts both: its bundle is [its leaf's CA, the new CA, ...];
//  2. leaves are re-issued by the new CA, bundles [new CA, old CA];
//  3. the old CA leaves the bundles: [new CA].
// Nothing of this is stored apart from the node Secrets themselves: the old
// CA is found as the issuer of leaves in place (in their own ca.crt), and the
// times in their annotations say when each step may follow.
import type { KubeObject } from '../../core/handler.ts';
import type { ClusterNode } from '../../core/manifests/spicepodcluster.ts';
import { parseCertificate, splitPemCertificates, verifyIssuedBy } from '../../core/pki/index.ts';
import { secretText } from '../../core/secrets.ts';
import { ANNOTATION_ISSUED_AT, ANNOTATION_TRUST_UPDATED_AT } from '../../core/annotations.ts';

/** Time for an updated Secret to reach the pods' volumes (kubelet sync) before the next step relies on it (HandlerConfig.secretPropagationSeconds). */
export const PROPAGATION_SECONDS = 120;

export interface ObservedNode {
  node: ClusterNode;
  secret?: KubeObject;
  certPem?: string;
  keyPem?: string;
  /** The certificates of its ca.crt, in order, each as normalised PEM. */
  bundle: string[];
  /** When its ca.crt last changed (ms; 0 when unknown, i.e. long ago). */
  trustUpdatedAt: number;
  /** When its leaf was issued (ms; 0 when unknown). */
  issuedAt: number;
  /** The CA (normalised PEM) that issued its leaf: the current CA or one of its own bundle; undefined when none did. */
  issuer?: string;
}

const time = (value: string | undefined) => Date.parse(value ?? '') || 0;

/** A CA's identity as rustls and spiced see it: subject and public key (serial and validity do not matter). */
async function identity(pem: string): Promise<string> {
  const info = await parseCertificate(pem);
  return `${info.subject}\n${info.publicKeyPem}`;
}

export async function sameIdentity(a: string, b: string): Promise<boolean> {
  try {
    return (await identity(a)) === (await identity(b));
  } catch {
    return false;
  }
}

export async function observeNode(node: ClusterNode, secret: KubeObject | undefined, currentCa: string): Promise<ObservedNode> {
  const certPem = secretText(secret, 'tls.crt');
  let bundle: string[] = [];
  try {
    bundle = splitPemCertificates(secretText(secret, 'ca.crt') ?? '');
  } catch {
    // an unreadable bundle trusts nothing
  }
  let issuer: string | undefined;
  if (certPem) {
    try {
      if (await verifyIssuedBy(certPem, currentCa)) issuer = currentCa;
      else for (const ca of bundle) if (!issuer && (await verifyIssuedBy(certPem, ca))) issuer = ca;
    } catch {
      // an unreadable leaf has no issuer
    }
  }
  return {
    node,
    secret,
    certPem,
    keyPem: secretText(secret, 'tls.key'),
    bundle,
    trustUpdatedAt: time(secret?.metadata.annotations?.[ANNOTATION_TRUST_UPDATED_AT]),
    issuedAt: time(secret?.metadata.annotations?.[ANNOTATION_ISSUED_AT]),
    issuer,
  };
}

/** CAs other than the current one that nodes still use or trust: issuers of leaves in place, and the rest of the bundles. */
export async function retiringCas(nodes: ObservedNode[], currentCa: string): Promise<string[]> {
  const found = new Map<string, string>();
  for (const n of nodes) {
    for (const ca of [...(n.issuer ? [n.issuer] : []), ...n.bundle]) {
      if (found.has(ca) || ca === currentCa) continue;
      // A copy of the current CA (re-signed with the same key and subject) is the current CA to every verifier.
      if (await sameIdentity(ca, currentCa)) continue;
      found.set(ca, (await parseCertificate(ca)).fingerprintSha256);
    }
  }
  return [...found.entries()].sort((a, b) => a[1].localeCompare(b[1])).map(([pem]) => pem);
}

/** Whether every node with files already trusts the current CA, and has had time to load that trust. */
export async function currentCaTrustedEverywhere(
  nodes: ObservedNode[],
  currentCa: string,
  now: number,
  propagationMs: number,
): Promise<{ trusted: boolean; at: number }> {
  let at = 0;
  for (const n of nodes) {
    if (!n.secret) continue;
    let trusts = false;
    for (const ca of n.bundle) if (!trusts && (await sameIdentity(ca, currentCa))) trusts = true;
    if (!trusts) return { trusted: false, at: Number.POSITIVE_INFINITY };
    at = Math.max(at, n.trustUpdatedAt + propagationMs);
  }
  return { trusted: now >= at, at };
}

/** A node's ca.crt: the CA of its own leaf first (spiced's rule), then the current CA, then the CAs being retired. */
export function bundleFor(leafIssuer: string, currentCa: string, retiring: string[]): string[] {
  return [leafIssuer, ...[currentCa, ...retiring].filter((ca) => ca !== leafIssuer)];
}

/** The trust annotation: moved to now when the bundle changes, kept otherwise (absent stays absent). */
export function trustUpdatedAt(observed: ObservedNode, bundle: string[], now: number): string | undefined {
  const same = observed.bundle.length === bundle.length && observed.bundle.every((ca, i) => ca === bundle[i]);
  if (!same) return new Date(now).toISOString();
  return observed.secret?.metadata.annotations?.[ANNOTATION_TRUST_UPDATED_AT];
}

/** Whether two bundles trust the same CAs (by identity: a CA re-signed with its key and subject is the same CA). */
export async function sameTrust(a: string[], b: string[]): Promise<boolean> {
  const ids = async (bundle: string[]) => {
    const out = new Set<string>();
    for (const ca of bundle) {
      try {
        out.add(await identity(ca));
      } catch {
        out.add(`unreadable:${ca}`);
      }
    }
    return out;
  };
  const [x, y] = [await ids(a), await ids(b)];
  return x.size === y.size && [...x].every((id) => y.has(id));
}
