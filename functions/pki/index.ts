// The PKI handler: for each SpicepodCluster, a root CA kept in a Secret in
// the operator namespace (its key never leaves it), the CA certificate
// published in the cluster's namespace, and one Secret per node (ca.crt,
// tls.crt, tls.key) with the SANs its peers dial.
//
// - The CA is created only when its Secret is absent and never overwritten:
//   a CA Secret that cannot be used is reported (Degraded), not replaced.
// - Leaves are renewed at 2/3 of their life, and at once when their SANs
//   change; nodes whose certificates are fine are left alone.
// - CA renewal overlaps: the new CA joins every node's trust bundle first;
//   leaves are re-issued once the bundles have reached the pods; the old CA
//   leaves the bundles once every leaf comes from the new one.
import { findCondition, setConditions, type ConditionInput } from '../../core/conditions.ts';
import type { Desired, Handler, KubeObject, Observed, RecordedEvent } from '../../core/handler.ts';
import { refOf } from '../../core/handler.ts';
import { LABEL_CLUSTER, LABEL_CLUSTER_ROLE } from '../../core/manifests/names.ts';
import { clusterNames, clusterNodes, type ClusterNode } from '../../core/manifests/spicepodcluster.ts';
import {
  createCA,
  issueLeaf,
  joinPemCertificates,
  keyMatchesCertificate,
  loadCA,
  needsRenewal,
  parseCertificate,
  renewalTime,
  sansEqual,
  verifyIssuedBy,
  type CertificateInfo,
} from '../../core/pki/index.ts';
import { secretData, secretText } from '../../core/secrets.ts';
import { normalizeSpicepodClusterSpec } from '../../core/spec/normalize.ts';
import type { SpicepodClusterStatus } from '../../core/spec/spicepodcluster.ts';

export const LABEL_CLUSTER_NAMESPACE = 'spice.ai/cluster-namespace';
export const ANNOTATION_NOT_AFTER = 'spice.ai/not-after';
export const ANNOTATION_ISSUED_AT = 'spice.ai/issued-at';
export const ANNOTATION_CA_GENERATION = 'spice.ai/ca-generation';
export const ANNOTATION_ROTATED_AT = 'spice.ai/rotated-at';
/** Time for an updated Secret to reach the pods' volumes (kubelet sync) before the next step relies on it. */
export const PROPAGATION_SECONDS = 120;
/** Timers beyond ~24 days overflow; reconcile at least this often. */
const MAX_REQUEUE_SECONDS = 6 * 3600;

const seconds = (ms: number) => Math.floor(ms / 1000);

interface CaState {
  secret: KubeObject;
  certPem: string;
  keyPem: string;
  previousPem?: string;
  info: CertificateInfo;
  generation: number;
}

/** Reads the CA Secret; a reason when it cannot be used. */
async function readCa(secret: KubeObject): Promise<CaState | { problem: string }> {
  const certPem = secretText(secret, 'ca.crt');
  const keyPem = secretText(secret, 'ca.key');
  if (!certPem || !keyPem) return { problem: 'it has no ca.crt or no ca.key' };
  let info: CertificateInfo;
  try {
    info = await parseCertificate(certPem);
  } catch (error) {
    return { problem: `ca.crt is not a certificate (${(error as Error).message})` };
  }
  if (!info.isCA) return { problem: 'ca.crt is not a CA certificate' };
  if (!(await keyMatchesCertificate(keyPem, certPem))) return { problem: 'ca.key does not belong to ca.crt' };
  return {
    secret,
    certPem,
    keyPem,
    previousPem: secretText(secret, 'previous.crt'),
    info,
    generation: Number(secret.metadata.annotations?.[ANNOTATION_CA_GENERATION] ?? '1') || 1,
  };
}

function caSecretObject(o: { operatorNamespace: string; namespace: string; cluster: string; certPem: string; keyPem: string; previousPem?: string; generation: number; now: number; notAfter: Date }): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'Opaque',
    metadata: {
      name: clusterNames.caSecret(o.namespace, o.cluster),
      namespace: o.operatorNamespace,
      labels: { [LABEL_CLUSTER]: o.cluster, [LABEL_CLUSTER_NAMESPACE]: o.namespace },
      annotations: {
        [ANNOTATION_CA_GENERATION]: String(o.generation),
        [ANNOTATION_ROTATED_AT]: new Date(o.now).toISOString(),
        [ANNOTATION_NOT_AFTER]: o.notAfter.toISOString(),
      },
    },
    data: secretData({ 'ca.crt': o.certPem, 'ca.key': o.keyPem, ...(o.previousPem ? { 'previous.crt': o.previousPem } : {}) }),
  };
}

async function newCa(namespace: string, cluster: string, generation: number, now: number) {
  const ca = await createCA({
    // A renewed CA gets a new name: verifiers must not confuse two CAs with one name and different keys.
    commonName: `spiceai-operator ${namespace}/${cluster} root CA${generation > 1 ? ` g${generation}` : ''}`,
    organizationalUnit: 'spiceai-operator',
    now: new Date(now),
  });
  return { ...ca, info: await parseCertificate(ca.certPem) };
}

interface LeafDecision {
  node: ClusterNode;
  secret: KubeObject;
  reason?: string;
  notAfter?: Date;
  renewAt?: number;
}

export async function reconcilePki(observed: Observed): Promise<Desired> {
  const parent = observed.parent;
  const cluster = parent.metadata.name;
  const namespace = parent.metadata.namespace ?? 'default';
  const { operatorNamespace, clusterDomain } = observed.config;
  const now = observed.now;
  const previous = (parent.status ?? {}) as SpicepodClusterStatus;
  const generation = parent.metadata.generation;
  const keepAll = observed.children.map(refOf);
  const caName = clusterNames.caSecret(namespace, cluster);
  const events: RecordedEvent[] = [];
  const status = (conditions: ConditionInput[], extra: Partial<SpicepodClusterStatus>) => ({
    ...extra,
    conditions: setConditions(previous.conditions, conditions, now, generation),
  });

  const normalized = normalizeSpicepodClusterSpec(parent.spec);
  // The cluster handler reports the spec problem; nothing is issued or removed meanwhile.
  if (!normalized.ok) return { apply: [], keep: keepAll };
  const spec = normalized.spec;
  const caSecret = (observed.related.Secret ?? []).find((s) => s.metadata.name === caName && s.metadata.namespace === operatorNamespace);
  const notDegraded: ConditionInput = { type: 'Degraded', status: 'False', reason: 'AsExpected', message: 'the cluster CA is usable' };

  if (spec.allowInsecureConnections) {
    // No certificates; node Secrets go, the CA stays (switching mTLS back on reuses it).
    return {
      apply: [],
      status: status(
        [{ type: 'CertificatesReady', status: 'False', reason: 'InsecureConnections', message: 'allowInsecureConnections is true: no node certificates are issued' }, notDegraded],
        { rootCertificateReady: !!caSecret, rootSecretName: caSecret ? caName : undefined, rootExpiresAt: previous.rootExpiresAt },
      ),
    };
  }

  if (!caSecret) {
    const ca = await newCa(namespace, cluster, 1, now);
    events.push({ type: 'Normal', reason: 'CACreated', message: `created the cluster root CA in Secret ${operatorNamespace}/${caName} (valid until ${ca.info.notAfter.toISOString()})` });
    // Leaves wait for the next pass: if another copy of the operator created a CA first, ours is dropped.
    return {
      apply: [],
      keep: keepAll,
      write: [{ object: caSecretObject({ operatorNamespace, namespace, cluster, certPem: ca.certPem, keyPem: ca.keyPem, generation: 1, now, notAfter: ca.info.notAfter }) }],
      status: status(
        [{ type: 'CertificatesReady', status: 'False', reason: 'CreatingCA', message: 'creating the cluster root CA' }, notDegraded],
        { rootCertificateReady: false, rootSecretName: caName },
      ),
      events,
      requeueAfterSeconds: 1,
    };
  }

  const ca = await readCa(caSecret);
  if ('problem' in ca) {
    const message = `the CA Secret ${operatorNamespace}/${caName} cannot be used: ${ca.problem}. It is left untouched; repair it, or delete it to have a new CA created (every node certificate is then re-issued)`;
    const before = findCondition(previous.conditions, 'Degraded');
    if (before?.status !== 'True' || before.message !== message) events.push({ type: 'Warning', reason: 'CACorrupt', message });
    return {
      apply: [],
      keep: keepAll,
      status: status(
        [
          { type: 'CertificatesReady', status: 'False', reason: 'CAUnusable', message: 'no certificates are issued while the CA cannot be used' },
          { type: 'Degraded', status: 'True', reason: 'CACorrupt', message },
        ],
        { rootCertificateReady: false, rootSecretName: caName },
      ),
      events,
    };
  }

  // CA renewal: a new CA (new key, new name) joins the trust bundles; the old one stays as previous.crt.
  const caRenewAt = renewalTime(ca.info.notBefore, ca.info.notAfter).getTime();
  if (!ca.previousPem && now >= caRenewAt) {
    const next = await newCa(namespace, cluster, ca.generation + 1, now);
    events.push({ type: 'Normal', reason: 'CARenewed', message: `renewed the cluster root CA (generation ${ca.generation + 1}); both CAs are trusted until every node certificate is re-issued` });
    return {
      apply: [],
      keep: keepAll,
      write: [
        {
          object: caSecretObject({ operatorNamespace, namespace, cluster, certPem: next.certPem, keyPem: next.keyPem, previousPem: ca.certPem, generation: ca.generation + 1, now, notAfter: next.info.notAfter }),
          ifResourceVersion: caSecret.metadata.resourceVersion,
        },
      ],
      status: status(
        [{ type: 'CertificatesReady', status: 'True', reason: 'RenewingCA', message: 'the root CA is being renewed' }, notDegraded],
        { rootCertificateReady: true, rootSecretName: caName, rootExpiresAt: ca.info.notAfter.toISOString() },
      ),
      events,
      requeueAfterSeconds: 1,
    };
  }

  const bundle = joinPemCertificates([ca.certPem, ...(ca.previousPem ? [ca.previousPem] : [])]);
  const rotatedAt = Date.parse(caSecret.metadata.annotations?.[ANNOTATION_ROTATED_AT] ?? '') || 0;
  const nodes = clusterNodes(cluster, namespace, spec, clusterDomain);
  const existing = new Map(observed.children.filter((c) => c.kind === 'Secret').map((s) => [s.metadata.name, s]));
  // Re-issuing under the new CA waits until every node trusts it (bundles updated and propagated).
  const bundlesPropagated =
    nodes.every((n) => secretText(existing.get(n.secret), 'ca.crt') === bundle) && now >= rotatedAt + PROPAGATION_SECONDS * 1000;
  const loaded = await loadCA({ certPem: ca.certPem, keyPem: ca.keyPem });

  const decisions: LeafDecision[] = [];
  for (const node of nodes) {
    const secret = existing.get(node.secret);
    const certPem = secretText(secret, 'tls.crt');
    const keyPem = secretText(secret, 'tls.key');
    let reason: string | undefined;
    let info: CertificateInfo | undefined;
    if (!certPem || !keyPem) reason = 'new node';
    else {
      try {
        info = await parseCertificate(certPem);
      } catch {
        reason = 'unreadable certificate';
      }
    }
    if (info && !reason) {
      if (!sansEqual(info, node)) reason = 'names changed';
      else if (needsRenewal({ notBefore: info.notBefore, notAfter: info.notAfter, now: new Date(now) })) reason = 'renewal';
      else if (!(await verifyIssuedBy(certPem!, ca.certPem))) {
        reason = ca.previousPem && (await verifyIssuedBy(certPem!, ca.previousPem)) ? 'CA renewed' : 'issued by another CA';
      } else if (!(await keyMatchesCertificate(keyPem!, certPem!))) reason = 'key does not match';
      // While a renewed CA is still reaching the pods, a working leaf waits: peers would not trust its successor yet.
      if ((reason === 'renewal' || reason === 'CA renewed') && ca.previousPem && !bundlesPropagated) reason = undefined;
    }
    let leafCert = certPem;
    let leafKey = keyPem;
    let notAfter = info?.notAfter;
    let issuedAt = secret?.metadata.annotations?.[ANNOTATION_ISSUED_AT];
    if (reason) {
      const leaf = await issueLeaf({ ca: loaded, commonName: node.pod, dnsNames: node.dnsNames, ipAddresses: node.ipAddresses, now: new Date(now) });
      leafCert = leaf.certPem;
      leafKey = leaf.keyPem;
      notAfter = (await parseCertificate(leaf.certPem)).notAfter;
      issuedAt = new Date(now).toISOString();
    }
    const notBefore = reason ? new Date(now) : info!.notBefore;
    decisions.push({
      node,
      reason,
      notAfter,
      renewAt: notAfter ? renewalTime(notBefore, notAfter).getTime() : undefined,
      secret: {
        apiVersion: 'v1',
        kind: 'Secret',
        type: 'kubernetes.io/tls',
        metadata: {
          name: node.secret,
          namespace,
          labels: { [LABEL_CLUSTER]: cluster, [LABEL_CLUSTER_ROLE]: node.role },
          annotations: { [ANNOTATION_NOT_AFTER]: notAfter!.toISOString(), [ANNOTATION_ISSUED_AT]: issuedAt ?? new Date(now).toISOString() },
        },
        data: secretData({ 'ca.crt': bundle, 'tls.crt': leafCert!, 'tls.key': leafKey! }),
      },
    });
  }

  const issued = decisions.filter((d) => d.reason);
  if (issued.length) {
    events.push({
      type: 'Normal',
      reason: 'CertificatesIssued',
      message: `issued ${issued.length} node certificate${issued.length > 1 ? 's' : ''}: ${issued.map((d) => `${d.node.pod} (${d.reason})`).join(', ')}`.slice(0, 1000),
    });
  }

  const write: NonNullable<Desired['write']> = [];
  let requeue = MAX_REQUEUE_SECONDS;
  if (ca.previousPem) {
    // The old CA leaves the bundles once every leaf comes from the new one and has reached the pods.
    const allNew = issued.length === 0 && (await Promise.all(decisions.map((d) => verifyIssuedBy(secretText(d.secret, 'tls.crt')!, ca.certPem)))).every(Boolean);
    const lastIssue = Math.max(0, ...decisions.map((d) => Date.parse(d.secret.metadata.annotations![ANNOTATION_ISSUED_AT]!) || 0));
    if (allNew && now >= lastIssue + PROPAGATION_SECONDS * 1000) {
      write.push({
        object: caSecretObject({ operatorNamespace, namespace, cluster, certPem: ca.certPem, keyPem: ca.keyPem, generation: ca.generation, now: rotatedAt, notAfter: ca.info.notAfter }),
        ifResourceVersion: caSecret.metadata.resourceVersion,
      });
      events.push({ type: 'Normal', reason: 'CARenewalComplete', message: 'every node certificate comes from the renewed CA; the previous CA is no longer trusted' });
    } else {
      requeue = Math.min(requeue, Math.max(1, seconds(Math.max(lastIssue, rotatedAt) + PROPAGATION_SECONDS * 1000 - now)));
    }
  }
  for (const d of decisions) if (d.renewAt) requeue = Math.min(requeue, Math.max(1, seconds(d.renewAt - now)));
  requeue = Math.min(requeue, Math.max(1, seconds(caRenewAt - now)));

  const caBundle: KubeObject = {
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'Opaque',
    metadata: { name: clusterNames.caBundle(cluster), namespace, labels: { [LABEL_CLUSTER]: cluster } },
    data: secretData({ 'ca.crt': bundle }),
  };
  const readyBefore = findCondition(previous.conditions, 'CertificatesReady');
  if (readyBefore?.status !== 'True' && issued.length === 0) {
    events.push({ type: 'Normal', reason: 'CertificatesReady', message: `all ${nodes.length} node certificates are issued` });
  }
  return {
    apply: [caBundle, ...decisions.map((d) => d.secret)],
    write,
    status: status(
      [
        issued.length
          ? { type: 'CertificatesReady', status: 'False', reason: 'Issuing', message: `issuing ${issued.length} node certificates` }
          : { type: 'CertificatesReady', status: 'True', reason: 'Issued', message: `${nodes.length} node certificates are current` },
        notDegraded,
      ],
      { rootCertificateReady: true, rootSecretName: caName, rootExpiresAt: ca.info.notAfter.toISOString() },
    ),
    events,
    requeueAfterSeconds: issued.length ? 1 : requeue,
  };
}

export const pkiHandler: Handler = {
  name: 'pki',
  parent: { apiVersion: 'spice.ai/v1alpha1', kind: 'SpicepodCluster' },
  children: [{ apiVersion: 'v1', kind: 'Secret' }],
  related: [{ apiVersion: 'v1', kind: 'Secret', parentLabel: LABEL_CLUSTER, inOperatorNamespace: { parentNamespaceLabel: LABEL_CLUSTER_NAMESPACE } }],
  conditionTypes: ['CertificatesReady', 'Degraded'],
  reconcile: reconcilePki,
};
