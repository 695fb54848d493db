// Finds Pods that asked for the Spice sidecar and run without it
// (functions/injection/missed-sidecar.ts decides), by listing the watched
// namespaces' Pods every `intervalMs`: a gauge by namespace
// (spiceai_operator_pods_missing_sidecar) and a Warning Event on each such
// Pod, written by the leader only (the Event recorder counts repeats).
import {
  missedSidecar,
  missedSidecarMessage,
  REASON_SIDECAR_MISSING,
  type InjectionDefaults,
  type PodLike,
} from '../functions/injection/index.ts';
import type { EventRecorder } from './events.ts';
import type { KObject, KubeClient } from './kube/client.ts';
import type { Logger } from './log.ts';
import type { OperatorMetrics } from './metrics.ts';

export interface MissedSidecarScanOptions {
  client: KubeClient;
  events: EventRecorder;
  metrics: OperatorMetrics;
  log: Logger;
  defaults: InjectionDefaults;
  operatorNamespace: string;
  /** Namespaces to scan; all when empty. */
  namespaces: string[];
  intervalMs: number;
  canWrite: () => boolean;
}

export function startMissedSidecarScan(o: MissedSidecarScanOptions): { scan(): Promise<void>; stop(): void } {
  let byNamespace = new Map<string, number>();
  const removeProvider = o.metrics.podsMissingSidecar.provide(() =>
    [...byNamespace].map(([namespace, value]) => ({ labels: { namespace }, value })),
  );
  let running: Promise<void> | undefined;
  const scan = () =>
    (running ??= (async () => {
      try {
        const missed: KObject[] = [];
        for (const namespace of o.namespaces.length ? o.namespaces : [undefined]) {
          const { items } = await o.client.list({ apiVersion: 'v1', kind: 'Pod' }, { namespace, limit: 500 });
          missed.push(...items.filter((pod) => missedSidecar(pod as PodLike, o)));
        }
        const counts = new Map<string, number>();
        for (const pod of missed) counts.set(pod.metadata.namespace ?? '', (counts.get(pod.metadata.namespace ?? '') ?? 0) + 1);
        byNamespace = counts;
        if (missed.length)
          o.log.warn('pods run without the sidecar they asked for', {
            pods: missed.map((p) => `${p.metadata.namespace}/${p.metadata.name}`).slice(0, 20),
            count: missed.length,
          });
        if (!o.canWrite()) return;
        for (const pod of missed)
          o.events.record(pod, { type: 'Warning', reason: REASON_SIDECAR_MISSING, message: missedSidecarMessage(pod as PodLike) });
      } catch (error) {
        o.log.warn('could not look for pods that missed their sidecar', { error });
      } finally {
        running = undefined;
      }
    })());
  const timer = setInterval(() => void scan(), o.intervalMs);
  timer.unref();
  const first = setTimeout(() => void scan(), Math.min(o.intervalMs, 10_000));
  first.unref();
  return {
    scan,
    stop() {
      clearInterval(timer);
      clearTimeout(first);
      removeProvider();
    },
  };
}
