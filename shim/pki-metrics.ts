// Certificate expiry gauges, read at scrape time from the caches: the CA's
// from each SpicepodCluster's status (rootExpiresAt, which the PKI handler
// writes from the CA it uses, whoever created it), so a deleted cluster stops
// being exported even though its CA Secret is kept; each node's from its
// Secret's not-after annotation (no certificate parsing).
import { names } from '../core/manifests/names.ts';
import { ANNOTATION_NOT_AFTER } from '../functions/pki/index.ts';
import type { CacheReader } from './cache-reader.ts';
import type { KObject } from './kube/client.ts';
import type { GaugeSample, OperatorMetrics } from './metrics.ts';
import { LABEL_CLUSTER, LABEL_CLUSTER_ROLE } from '../core/labels.ts';

const seconds = (iso: string | undefined) => Date.parse(iso ?? '') / 1000;

export function caExpirySamples(clusters: KObject[]): GaugeSample<'namespace' | 'cluster'>[] {
  return clusters
    .map((c) => ({ c, value: seconds((c.status as { rootExpiresAt?: string } | undefined)?.rootExpiresAt) }))
    .filter(({ c, value }) => Number.isFinite(value) && !c.metadata.deletionTimestamp)
    .map(({ c, value }) => ({ labels: { namespace: c.metadata.namespace ?? '', cluster: c.metadata.name }, value }));
}

export function nodeCertificateSamples(secrets: KObject[]): GaugeSample<'namespace' | 'cluster' | 'node'>[] {
  return secrets
    .map((s) => ({ s, value: seconds(s.metadata.annotations?.[ANNOTATION_NOT_AFTER]) }))
    .filter(({ s, value }) => s.metadata.labels?.[LABEL_CLUSTER] && s.metadata.labels?.[LABEL_CLUSTER_ROLE] && Number.isFinite(value))
    .map(({ s, value }) => ({
      // The node is its pod: the Secret is named after the node's StatefulSet.
      labels: {
        namespace: s.metadata.namespace ?? '',
        cluster: s.metadata.labels![LABEL_CLUSTER]!,
        node: names.statefulSetPod(s.metadata.name.replace(/-tls$/, '')),
      },
      value,
    }));
}

export function provideCertificateMetrics(metrics: OperatorMetrics, reader: CacheReader): void {
  metrics.clusterCaExpiry.provide(() => caExpirySamples(reader.cached({ apiVersion: 'spice.ai/v1alpha1', kind: 'SpicepodCluster' })));
  metrics.nodeCertificateExpiry.provide(() => nodeCertificateSamples(reader.cached({ apiVersion: 'v1', kind: 'Secret' })));
}
