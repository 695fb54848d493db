// Leader election as `run` does it: one Lease per handler the process runs
// (<lease-name>-<handler>), and one for the missed-sidecar scan, so a process
// leads only what it runs and copies with different --handlers all work.
import type { Clock } from './clock.ts';
import type { KubeClient } from './kube/client.ts';
import { LeaderElector } from './leader.ts';
import type { Logger } from './log.ts';
import type { OperatorMetrics } from './metrics.ts';

/** The Lease a handler's leader holds: `run --lease-name` and the handler's name. */
export const handlerLeaseName = (leaseName: string, handler: string) => `${leaseName}-${handler}`;

/** The Lease the missed-sidecar scan's leader holds (it writes Events, so one copy scans). */
export const SIDECAR_SCAN_LEASE = 'sidecar-scan';

export interface LeasesOptions {
  client: KubeClient;
  namespace: string;
  leaseName: string;
  identity: string;
  log: Logger;
  clock: Clock;
  metrics: OperatorMetrics;
  /** Called when this process starts leading a part (what changed meanwhile was observed, not acted on). */
  onStartedLeading(part: string): void;
}

export interface Leases {
  /** Whether this process may write for a part; always true without leader election. */
  canWriteFor(part: string): () => boolean;
  start(): void;
  stop(): Promise<void>;
}

/** No leader election: every part may write (only when exactly one copy runs). */
export const NO_LEASES: Leases = { canWriteFor: () => () => true, start() {}, async stop() {} };

/** One elector per part, each reporting leader_election_master_status{name}. */
export function leasesFor(parts: string[], o: LeasesOptions): Leases {
  const electors = new Map<string, LeaderElector>();
  for (const part of parts) {
    const name = handlerLeaseName(o.leaseName, part);
    o.metrics.onLeading(name, false);
    electors.set(
      part,
      new LeaderElector({
        client: o.client,
        namespace: o.namespace,
        name,
        identity: o.identity,
        log: o.log,
        clock: o.clock,
        onStartedLeading: () => {
          o.metrics.onLeading(name, true);
          o.onStartedLeading(part);
        },
        onStoppedLeading: () => o.metrics.onLeading(name, false),
      }),
    );
  }
  return {
    canWriteFor: (part) => () => electors.get(part)?.isLeader() ?? true,
    start: () => electors.forEach((e) => e.start()),
    stop: async () => {
      await Promise.all([...electors.values()].map((e) => e.stop()));
    },
  };
}
