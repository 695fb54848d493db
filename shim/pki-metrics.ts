// Certificate expiry gauges, read at scrape time from the Secrets the PKI
// handler's caches hold (its not-after annotation; no certificate parsing).
import { LABEL_CLUSTER, LABEL_CLUSTER_ROLE, names } from '../core/manifests/names.ts';
import { ANNOTATION_NOT_AFTER, LABEL_CLUSTER_NAMESPACE } from '../functions/pki/index.ts';
import type { CacheReader } from './cache-reader.ts';
import type { KObject } from './kube/client.ts';
import type { GaugeSample, OperatorMetrics } from './metrics.ts';

const expiry = (s: KObject) => Date.parse(s.metadata.annotations?.[ANNOTATION_NOT_AFTER] ?? '') / 1000;

export function caExpirySamples(secrets: KObject[]): GaugeSample<'namespace' | 'cluster'>[] {
  return secrets
    .filter((s) => s.metadata.labels?.[LABEL_CLUSTER] && s.metadata.labels?.[LABEL_CLUSTER_NAMESPACE] && Number.isFinite(expiry(s)))
    .map((s) => ({ labels: { namespace: s.metadata.labels![LABEL_CLUSTER_NAMESPACE]!, cluster: s.metadata.labels![LABEL_CLUSTER]! }, value: expiry(s) }));
}

export function nodeCertificateSamples(secrets: KObject[]): GaugeSample<'namespace' | 'cluster' | 'node'>[] {
  return secrets
    .filter((s) => s.metadata.labels?.[LABEL_CLUSTER] && s.metadata.labels?.[LABEL_CLUSTER_ROLE] && Number.isFinite(expiry(s)))
    .map((s) => ({
      // The node is its pod: the Secret is named after the node's StatefulSet.
      labels: { namespace: s.metadata.namespace ?? '', cluster: s.metadata.labels![LABEL_CLUSTER]!, node: names.statefulSetPod(s.metadata.name.replace(/-tls$/, '')) },
      value: expiry(s),
    }));
}

export function provideCertificateMetrics(metrics: OperatorMetrics, reader: CacheReader): void {
  const secrets = () => reader.cached({ apiVersion: 'v1', kind: 'Secret' });
  metrics.clusterCaExpiry.provide(() => caExpirySamples(secrets()));
  metrics.nodeCertificateExpiry.provide(() => nodeCertificateSamples(secrets()));
}
