// Each node's certificate: keep it, issue a new one now, or hold a working one
// until the current CA is trusted by every node. The reasons come from the
// shared leaf chain (core/pki/leaf-policy.ts); what is cluster-specific is the
// hold: a leaf that still works but comes from a CA being retired is replaced
// only once its successor would be trusted by every peer.
import type { KubeObject } from '../../core/handler.ts';
import type { IssuedLeaf } from './conditions.ts';

import type { ClusterNode } from '../../core/manifests/spicepodcluster.ts';
import {
  issueLeaf,
  joinPemCertificates,
  LeafReason,
  loadCA,
  parseCertificate,
  renewalTime,
  reviewLeaf,
  UNUSABLE_LEAF_REASONS,
  type LoadedCA,
} from '../../core/pki/index.ts';
import { secretData } from '../../core/secrets.ts';

import type { ObservedNode } from './trust.ts';
import { LABEL_CLUSTER, LABEL_CLUSTER_ROLE } from '../../core/labels.ts';
import { ANNOTATION_ISSUED_AT, ANNOTATION_NOT_AFTER, ANNOTATION_TRUST_UPDATED_AT } from '../../core/annotations.ts';

export type LeafAction =
  /** The leaf stays; issuer is the CA (normalised PEM) that issued it. */
  | { kind: 'keep'; issuer: string; notBefore: Date; notAfter: Date }
  /** A new leaf from the current CA, now. */
  | { kind: 'issue'; reason: LeafReason; message: string }
  /** A working leaf from a retiring CA, replaced once the current CA is trusted everywhere. */
  | { kind: 'hold'; issuer: string; reason: LeafReason; message: string; notBefore: Date; notAfter: Date };

export async function decideLeaf(observed: ObservedNode, currentCa: string, currentCaTrusted: boolean, now: number): Promise<LeafAction> {
  const { verdict, info } = await reviewLeaf({
    certPem: observed.certPem,
    keyPem: observed.keyPem,
    wanted: observed.node,
    issuerPem: currentCa,
    now: new Date(now),
  });
  if (!verdict) return { kind: 'keep', issuer: currentCa, notBefore: info!.notBefore, notAfter: info!.notAfter };
  if (!observed.secret) return { kind: 'issue', reason: verdict.reason, message: 'new node' };
  if (UNUSABLE_LEAF_REASONS.has(verdict.reason)) return { kind: 'issue', ...verdict };
  if (verdict.reason === LeafReason.IssuedByAnotherCA) {
    // Issued by a CA nobody trusts (not even this node): nothing to protect.
    if (!observed.issuer)
      return { kind: 'issue', reason: verdict.reason, message: `${verdict.message}, which not even its own ca.crt trusts` };
    if (currentCaTrusted) return { kind: 'issue', ...verdict };
    return { kind: 'hold', issuer: observed.issuer, ...verdict, notBefore: info!.notBefore, notAfter: info!.notAfter };
  }
  // Names changed or due for renewal, from the current CA: a successor from the same CA is trusted wherever this one is.
  return { kind: 'issue', ...verdict };
}

export interface NodeSecretInput {
  cluster: string;
  namespace: string;
  node: ClusterNode;
  bundle: string[];
  certPem: string;
  keyPem: string;
  notAfter: Date;
  issuedAt: string;
  trustUpdatedAt?: string;
}

export function nodeSecretObject(input: NodeSecretInput): KubeObject {
  const annotations: Record<string, string> = {
    [ANNOTATION_NOT_AFTER]: input.notAfter.toISOString(),
    [ANNOTATION_ISSUED_AT]: input.issuedAt,
  };
  if (input.trustUpdatedAt) annotations[ANNOTATION_TRUST_UPDATED_AT] = input.trustUpdatedAt;
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'kubernetes.io/tls',
    metadata: {
      name: input.node.secret,
      namespace: input.namespace,
      labels: { [LABEL_CLUSTER]: input.cluster, [LABEL_CLUSTER_ROLE]: input.node.role },
      annotations,
    },
    data: secretData({ 'ca.crt': joinPemCertificates(input.bundle), 'tls.crt': input.certPem, 'tls.key': input.keyPem }),
  };
}

/** A new leaf for the node from the loaded current CA. */
export async function issueNodeLeaf(ca: LoadedCA, node: ClusterNode, now: number) {
  const leaf = await issueLeaf({ ca, commonName: node.pod, dnsNames: node.dnsNames, ipAddresses: node.ipAddresses, now: new Date(now) });
  const info = await parseCertificate(leaf.certPem);
  return { certPem: leaf.certPem, keyPem: leaf.keyPem!, notBefore: info.notBefore, notAfter: info.notAfter };
}

/** When a leaf in place is due: renewal at two thirds of its life. */
export const leafRenewAt = (notBefore: Date, notAfter: Date) => renewalTime(notBefore, notAfter).getTime();

/** A node's leaf after the pass: the one in place, or a new one (with what to report about it). */
export interface NodeLeaf {
  certPem: string;
  keyPem: string;
  notBefore: Date;
  notAfter: Date;
  /** The CA (normalised PEM) that issued it. */
  issuer: string;
  issuedAt: string;
  /** Set when issued in this pass. */
  issued?: IssuedLeaf;
}

/** Carries out each node's action: a new leaf from the current CA (loaded once, only if needed), or the one in place. */
export async function nodeLeaves(
  actions: LeafAction[],
  nodes: ObservedNode[],
  ca: { certPem: string; keyPem: string },
  now: number,
): Promise<NodeLeaf[]> {
  const loaded = actions.some((a) => a.kind === 'issue') ? await loadCA(ca) : undefined;
  return Promise.all(
    actions.map(async (action, i) => {
      const o = nodes[i]!;
      if (action.kind === 'issue') {
        const leaf = await issueNodeLeaf(loaded!, o.node, now);
        return {
          ...leaf,
          issuer: ca.certPem,
          issuedAt: new Date(now).toISOString(),
          issued: { pod: o.node.pod, reason: action.reason, message: action.message },
        };
      }
      const issuedAt = o.secret?.metadata.annotations?.[ANNOTATION_ISSUED_AT] ?? action.notBefore.toISOString();
      return {
        certPem: o.certPem!,
        keyPem: o.keyPem!,
        notBefore: action.notBefore,
        notAfter: action.notAfter,
        issuer: action.issuer,
        issuedAt,
      };
    }),
  );
}
