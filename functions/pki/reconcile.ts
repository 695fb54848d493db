// One pass of the PKI handler for a SpicepodCluster: the CA's plan
// (ca-lifecycle.ts), then, with a usable CA, every node's certificate
// (leaf-issuance.ts) and trust bundle (trust.ts), then conditions and Events
// (conditions.ts). Pure: everything read comes in `observed`.
import { setConditions } from '../../core/conditions.ts';
import type { Desired, KubeObject, ObjectRef, Observed } from '../../core/handler.ts';
import { refOf } from '../../core/handler.ts';

import { clusterNames, clusterNodes } from '../../core/manifests/spicepodcluster.ts';
import { joinPemCertificates, renewalTime, splitPemCertificates } from '../../core/pki/index.ts';
import { secretData } from '../../core/secrets.ts';
import { normalizeSpicepodClusterSpec } from '../../core/spec/normalize.ts';
import type { SpicepodClusterStatus } from '../../core/spec/spicepodcluster.ts';
import { newClusterCa, planCa, renewedClusterCa, type UsableCa } from './ca-lifecycle.ts';
import { caSecretName, caSecretObject, findCaSecret, type ClusterRef } from './ca-secret.ts';
import { pkiConditions, pkiEvents, type PkiOutcome } from './conditions.ts';
import { decideLeaf, leafRenewAt, nodeLeaves, nodeSecretObject, type NodeLeaf } from './leaf-issuance.ts';
import {
  bundleFor,
  currentCaTrustedEverywhere,
  observeNode,
  PROPAGATION_SECONDS,
  retiringCas,
  sameTrust,
  trustUpdatedAt,
  type ObservedNode,
} from './trust.ts';
import { LABEL_CLUSTER } from '../../core/labels.ts';
import { ANNOTATION_CREATED_FOR } from '../../core/annotations.ts';

/** Timers beyond ~24 days overflow; reconcile at least this often. */
const MAX_REQUEUE_SECONDS = 6 * 3600;

interface Pass {
  observed: Observed;
  ref: ClusterRef;
  previous: SpicepodClusterStatus;
  now: number;
}

/** The pass's answer: its objects and writes, with the conditions, Events and status fields of its outcome. */
function answer(
  pass: Pass,
  outcome: PkiOutcome,
  desired: Omit<Desired, 'status' | 'events'>,
  fields: Partial<SpicepodClusterStatus>,
): Desired {
  const conditions = pkiConditions(outcome);
  return {
    ...desired,
    status: {
      ...fields,
      conditions: setConditions(pass.previous.conditions, conditions, pass.now, pass.observed.parent.metadata.generation),
    },
    events: pkiEvents(outcome, pass.previous, conditions),
  };
}

/** No CA yet: create one. Leaves wait for the next pass: if another writer created a CA first, ours is dropped and theirs used. */
async function createCaPass(pass: Pass, keepAll: ObjectRef[], secretPath: string): Promise<Desired> {
  const { ref } = pass;
  const ca = await newClusterCa(ref, new Date(pass.now));
  return answer(
    pass,
    { phase: 'creating-ca', secret: secretPath },
    {
      apply: [],
      keep: keepAll,
      write: [
        {
          object: caSecretObject({
            ref,
            certPem: ca.certPem,
            keyPem: ca.keyPem,
            notAfter: ca.info.notAfter,
            annotations: { [ANNOTATION_CREATED_FOR]: ref.uid },
          }),
        },
      ],
      requeueAfterSeconds: 1,
    },
    { rootCertificateReady: false, rootSecretName: caSecretName(ref) },
  );
}

/** The CA is due for renewal: the same key, a new certificate, written only over the Secret it was read from. */
async function renewCaPass(pass: Pass, current: UsableCa, keepAll: ObjectRef[], secretPath: string): Promise<Desired> {
  const { ref } = pass;
  const renewed = await renewedClusterCa(current, new Date(pass.now));
  return answer(
    pass,
    { phase: 'renewing-ca', secret: secretPath, notAfter: renewed.info.notAfter },
    {
      apply: [],
      keep: keepAll,
      write: [
        {
          object: caSecretObject({
            ref,
            certPem: renewed.certPem,
            keyPem: renewed.keyPem,
            notAfter: renewed.info.notAfter,
            annotations: current.secret.metadata.annotations,
          }),
          ifResourceVersion: current.secret.metadata.resourceVersion,
        },
      ],
      requeueAfterSeconds: 1,
    },
    { rootCertificateReady: true, rootSecretName: caSecretName(ref), rootExpiresAt: current.info.notAfter.toISOString() },
  );
}

export async function reconcilePki(observed: Observed): Promise<Desired> {
  const parent = observed.parent;
  const ref: ClusterRef = {
    cluster: parent.metadata.name,
    namespace: parent.metadata.namespace ?? 'default',
    uid: parent.metadata.uid ?? '',
    operatorNamespace: observed.config.operatorNamespace,
  };
  const pass: Pass = { observed, ref, previous: (parent.status ?? {}) as SpicepodClusterStatus, now: observed.now };
  const keepAll = observed.children.map(refOf);
  const normalized = normalizeSpicepodClusterSpec(parent.spec);
  // The cluster handler reports the spec problem; nothing is issued or removed meanwhile.
  if (!normalized.ok) return { apply: [], keep: keepAll };
  const spec = normalized.spec;
  const caSecret = findCaSecret(ref, observed.related.Secret ?? []);
  const secretPath = `${ref.operatorNamespace}/${caSecretName(ref)}`;

  if (spec.allowInsecureConnections) {
    // No certificates; node Secrets go, the CA stays (switching mTLS back on reuses it).
    return answer(
      pass,
      { phase: 'insecure' },
      { apply: [] },
      {
        rootCertificateReady: !!caSecret,
        rootSecretName: caSecret ? caSecretName(ref) : undefined,
        rootExpiresAt: pass.previous.rootExpiresAt,
      },
    );
  }

  const plan = await planCa(ref, caSecret, new Date(pass.now));
  switch (plan.action) {
    case 'create':
      return createCaPass(pass, keepAll, secretPath);
    case 'report': {
      const message = `the CA Secret ${secretPath} cannot be used: ${plan.problem}. It is left untouched; repair it, or delete it to have a new CA created (the nodes then move to it without downtime)`;
      return answer(
        pass,
        { phase: 'ca-unusable', message },
        { apply: [], keep: keepAll },
        { rootCertificateReady: false, rootSecretName: caSecretName(ref) },
      );
    }
    case 'renew':
      return renewCaPass(pass, plan.ca, keepAll, secretPath);
    case 'use':
      return activePass(pass, spec, plan.ca, plan.adoptedExpiring, secretPath);
  }
}

/** Each node's Secret (its leaf and trust bundle), and how many of them change in this pass. */
async function nodeSecrets(ref: ClusterRef, nodes: ObservedNode[], leaves: NodeLeaf[], currentCa: string, retiring: string[], now: number) {
  let pending = 0;
  const secrets: KubeObject[] = [];
  for (const [i, leaf] of leaves.entries()) {
    const o = nodes[i]!;
    const bundle = bundleFor(leaf.issuer, currentCa, retiring);
    if (!o.secret || leaf.issued || !(await sameTrust(o.bundle, bundle))) pending++;
    secrets.push(
      nodeSecretObject({
        cluster: ref.cluster,
        namespace: ref.namespace,
        node: o.node,
        bundle,
        certPem: leaf.certPem,
        keyPem: leaf.keyPem,
        notAfter: leaf.notAfter,
        issuedAt: leaf.issuedAt,
        trustUpdatedAt: trustUpdatedAt(o, bundle, now),
      }),
    );
  }
  return { secrets, pending };
}

/** The cluster's CA bundle Secret: the current CA, then those retiring. */
const caBundleSecret = (ref: ClusterRef, currentCa: string, retiring: string[]): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Secret',
  type: 'Opaque',
  metadata: { name: clusterNames.caBundle(ref.cluster), namespace: ref.namespace, labels: { [LABEL_CLUSTER]: ref.cluster } },
  data: secretData({ 'ca.crt': joinPemCertificates([currentCa, ...retiring]) }),
});

/** The next pass: at once after issuing, else at the first renewal, rotation step or CA renewal due (capped). */
function requeueSeconds(leaves: NodeLeaf[], rotation: { until: number } | undefined, ca: UsableCa, now: number): number {
  if (leaves.some((l) => l.issued)) return 1;
  const wakeUps = [
    ...leaves.map((l) => leafRenewAt(l.notBefore, l.notAfter)),
    ...(rotation ? [rotation.until] : []),
    ...(ca.origin === 'foreign' ? [] : [renewalTime(ca.info.notBefore, ca.info.notAfter).getTime()]),
  ];
  return Math.min(MAX_REQUEUE_SECONDS, ...wakeUps.map((t) => Math.max(1, Math.ceil((t - now) / 1000))));
}

async function activePass(
  pass: Pass,
  spec: Parameters<typeof clusterNodes>[2],
  ca: UsableCa,
  adoptedExpiring: boolean,
  secretPath: string,
): Promise<Desired> {
  const { observed, ref, now } = pass;
  const currentCa = splitPemCertificates(ca.certPem)[0]!;
  const nodes = clusterNodes(ref.cluster, ref.namespace, spec, observed.config.clusterDomain);
  const existing = new Map(observed.children.filter((c) => c.kind === 'Secret').map((s) => [s.metadata.name, s]));
  const observedNodes = await Promise.all(nodes.map((n) => observeNode(n, existing.get(n.secret), currentCa)));
  const retiringFound = await retiringCas(observedNodes, currentCa);
  const propagationMs = (observed.config.secretPropagationSeconds ?? PROPAGATION_SECONDS) * 1000;
  const trust = await currentCaTrustedEverywhere(observedNodes, currentCa, now, propagationMs);
  const actions = await Promise.all(observedNodes.map((o) => decideLeaf(o, currentCa, trust.trusted, now)));
  const leaves = await nodeLeaves(actions, observedNodes, { certPem: currentCa, keyPem: ca.keyPem }, now);

  const holds = actions.filter((a) => a.kind === 'hold').length;
  const issued = leaves.flatMap((l) => (l.issued ? [l.issued] : []));
  const lastIssuedAt = Math.max(0, ...leaves.map((l) => Date.parse(l.issuedAt) || 0));
  // The old CAs leave the bundles once no leaf comes from them and the last new leaf has reached its pod.
  const rotationOver = holds === 0 && issued.length === 0 && now >= lastIssuedAt + propagationMs;
  const retiring = retiringFound.length && !rotationOver ? retiringFound : [];
  const { secrets, pending } = await nodeSecrets(ref, observedNodes, leaves, currentCa, retiring, now);

  const trustLoadedAt = Number.isFinite(trust.at) ? trust.at : now + propagationMs;
  const rotation = retiring.length
    ? {
        retiring,
        step: holds ? ('trusting-both' as const) : ('dropping-old' as const),
        until: holds ? trustLoadedAt : lastIssuedAt + propagationMs,
      }
    : undefined;
  const outcome: PkiOutcome = {
    phase: 'active',
    secret: secretPath,
    origin: ca.origin,
    caSubject: ca.info.subject,
    caNotAfter: ca.info.notAfter,
    adoptedExpiring,
    nodes: nodes.length,
    issued,
    pending,
    rotation,
  };
  const apply = [caBundleSecret(ref, currentCa, retiring), ...secrets];
  return answer(
    pass,
    outcome,
    { apply, requeueAfterSeconds: requeueSeconds(leaves, rotation, ca, now) },
    { rootCertificateReady: true, rootSecretName: caSecretName(ref), rootExpiresAt: ca.info.notAfter.toISOString() },
  );
}
