// What `run` serves on --http-endpoint (functions/status) and the metrics it
// derives from the same caches. The status API reads through a CacheReader:
// from the workloads controller's caches when it runs here and watches the
// namespace, from the API server otherwise (e.g. `--handlers` without
// workloads, or a namespace outside `--namespaces`).

import { deadPodObservations, type DeathBaseline } from '../core/pods.ts';
import { createStatusHandler, SPICEPOD_SET } from '../functions/status/index.ts';
import { CacheReader } from './cache-reader.ts';
import type { Controller } from './controller.ts';
import type { FetchHandler } from './http.ts';
import type { KObject, KubeClient } from './kube/client.ts';
import type { GaugeSample, OperatorMetrics } from './metrics.ts';
import { LABEL_APP } from '../core/labels.ts';

const POD = { apiVersion: 'v1', kind: 'Pod' };

export function statusReader(controllers: readonly Controller[], client: KubeClient): CacheReader {
  return new CacheReader(() => controllers.flatMap((c) => c.caches()), client);
}

export function statusHandler(reader: CacheReader, ready: () => boolean, probeTimeoutMs?: number): FetchHandler {
  return createStatusHandler({
    getObject: (type, namespace, name) => reader.get(type, namespace, name),
    listPods: (namespace, labels) => reader.list(POD, namespace, labels),
    ready,
    probeTimeoutMs,
  });
}

/** Dead-pod observations of every cached SpicepodSet, from the cached pods (only where a controller caches both). */
export function deadPodSamples(reader: CacheReader): GaugeSample<'namespace' | 'spicepodset'>[] {
  if (!reader.hasCacheOf(POD)) return [];
  const podsBySet = new Map<string, KObject[]>();
  for (const pod of reader.cached(POD)) {
    const set = pod.metadata.labels?.[LABEL_APP];
    if (!set) continue;
    const key = `${pod.metadata.namespace}/${set}`;
    const pods = podsBySet.get(key);
    if (pods) pods.push(pod);
    else podsBySet.set(key, [pod]);
  }
  return reader.cached(SPICEPOD_SET).map((set) => ({
    labels: { namespace: set.metadata.namespace ?? '', spicepodset: set.metadata.name },
    value: deadPodObservations(
      podsBySet.get(`${set.metadata.namespace}/${set.metadata.name}`) ?? [],
      (set.status as { crashloopBaselines?: DeathBaseline[] } | undefined)?.crashloopBaselines,
      Date.now(),
    ),
  }));
}

export function provideStatusMetrics(metrics: OperatorMetrics, reader: CacheReader): () => void {
  return metrics.deadPodObservations.provide(() => deadPodSamples(reader));
}
