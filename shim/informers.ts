// One Informer per watched thing (kind, namespace, selectors, resync period),
// shared by every controller that watches it, after client-go's
// SharedInformerFactory: the workloads and network-policy handlers both watch
// SpicepodSets, the cluster and pki handlers both watch SpicepodClusters, and
// each object is then listed, watched, decoded and cached once, not once per
// handler. Each user registers its own listener; one that joins a cache that
// already holds objects is told of them as 'add' events (as client-go's
// AddEventHandler does), so it misses nothing. The informer stops when its
// last user releases it.
import { realClock, type Clock } from './clock.ts';
import { Informer, type InformerEventType, type InformerOptions } from './informer.ts';
import type { KObject, KubeClient } from './kube/client.ts';

export interface InformerListener {
  onEvent(type: InformerEventType, obj: KObject, old?: KObject): void;
  /** Failures of list/watch (retried), and of this listener's onEvent. */
  onError(error: unknown, during: 'list' | 'watch' | 'handler'): void;
}

export type SharedInformerOptions = Omit<InformerOptions, 'onEvent' | 'onError'>;

interface Entry {
  informer: Informer;
  listeners: Set<InformerListener>;
}

/** One listener's failure is its own: the others still get the event. */
function deliver(listener: InformerListener, type: InformerEventType, obj: KObject, old?: KObject): void {
  try {
    listener.onEvent(type, obj, old);
  } catch (error) {
    listener.onError(error, 'handler');
  }
}

export class SharedInformers {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly client: KubeClient,
    /** The informers' clock. */
    private readonly clock: Clock = realClock,
  ) {}

  /**
   * The shared informer for these options, with listener added (not started: start() is
   * idempotent). What is watched (kind, namespace, selectors) and the resync period tell
   * informers apart; the other options (backoff, page size, ...) are those of the first user.
   */
  acquire(options: SharedInformerOptions, listener: InformerListener): Informer {
    const key = JSON.stringify([
      options.apiVersion,
      options.kind,
      options.namespace ?? null,
      options.labelSelector ?? '',
      options.fieldSelector ?? '',
      options.resyncMs ?? 0,
    ]);
    let entry = this.entries.get(key);
    if (!entry) {
      const listeners = new Set<InformerListener>();
      const informer = new Informer(this.client, {
        clock: this.clock,
        ...options,
        onEvent: (type, obj, old) => {
          for (const l of listeners) deliver(l, type, obj, old);
        },
        onError: (error, during) => {
          for (const l of listeners) l.onError(error, during);
        },
      });
      entry = { informer, listeners };
      this.entries.set(key, entry);
    }
    // A late joiner learns what the cache already holds.
    for (const obj of entry.informer.list()) deliver(listener, 'add', obj);
    entry.listeners.add(listener);
    return entry.informer;
  }

  /** Removes listener (no event reaches it afterwards); the last one out stops the informer. */
  async release(informer: Informer, listener: InformerListener): Promise<void> {
    for (const [key, entry] of this.entries) {
      if (entry.informer !== informer) continue;
      entry.listeners.delete(listener);
      if (entry.listeners.size === 0) {
        this.entries.delete(key);
        await informer.stop();
      }
      return;
    }
  }

  /** Every informer in use. */
  all(): Informer[] {
    return [...this.entries.values()].map((e) => e.informer);
  }
}
