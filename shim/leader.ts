// Leader election on a coordination.k8s.io/v1 Lease, with client-go's
// defaults (15 s lease, 10 s renew deadline, 2 s retry). Expiry is judged
// by the local clock from when the record was last seen to change, never by
// comparing clocks across machines. Writes go through resourceVersion
// preconditions, so two candidates can never both take the Lease. Time is
// the injected clock's (shim/clock.ts).
import { realClock, type Clock, type Timer } from './clock.ts';
import { isApiError, type KObject, type KubeClient } from './kube/client.ts';
import type { Logger } from './log.ts';

export interface LeaderElectionOptions {
  client: Pick<KubeClient, 'get' | 'create' | 'update'>;
  namespace: string;
  name: string;
  identity: string;
  log: Logger;
  leaseDurationSeconds?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  onStartedLeading?: () => void;
  onStoppedLeading?: () => void;
  /** Default the real clock. */
  clock?: Clock;
  /** Random source in [0, 1) for the retry jitter of a candidate. Default Math.random. */
  random?: () => number;
}

interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

const microTime = (ms: number) => new Date(ms).toISOString().replace('Z', '000Z');

export class LeaderElector {
  private leading = false;
  private stopped = false;
  private timer?: Timer;
  private observedRecord = '';
  private observedAt = 0;
  private lastRenew = 0;
  private readonly duration: number;
  private readonly renewDeadline: number;
  private readonly retry: number;
  private readonly clock: Clock;
  private readonly random: () => number;

  constructor(private readonly o: LeaderElectionOptions) {
    this.clock = o.clock ?? realClock;
    this.random = o.random ?? Math.random;
    this.duration = o.leaseDurationSeconds ?? 15;
    this.renewDeadline = o.renewDeadlineMs ?? 10_000;
    this.retry = o.retryPeriodMs ?? 2_000;
  }

  isLeader(): boolean {
    // Past the renew deadline we may have lost the Lease without knowing: stop acting.
    return this.leading && this.clock.now() - this.lastRenew < this.renewDeadline;
  }

  start(): void {
    void this.tick();
  }

  private schedule(): void {
    if (this.stopped) return;
    const jitter = this.leading ? 0 : this.random() * 0.2 * this.retry;
    this.timer = this.clock.setTimeout(() => void this.tick(), this.retry + jitter);
  }

  private async tick(): Promise<void> {
    try {
      await this.tryAcquireOrRenew();
    } catch (error) {
      this.o.log.warn('leader election request failed', { lease: this.o.name, error });
    }
    if (this.leading && !this.isLeader()) this.setLeading(false);
    this.schedule();
  }

  private setLeading(leading: boolean): void {
    if (this.leading === leading) return;
    this.leading = leading;
    this.o.log.info(leading ? 'became leader' : 'lost leadership', {
      lease: `${this.o.namespace}/${this.o.name}`,
      identity: this.o.identity,
    });
    if (leading) this.o.onStartedLeading?.();
    else this.o.onStoppedLeading?.();
  }

  private async tryAcquireOrRenew(): Promise<void> {
    const now = this.clock.now();
    const { client, namespace, name, identity } = this.o;
    const lease = await client.get('coordination.k8s.io/v1', 'Lease', namespace, name);
    const desired: LeaseSpec = {
      holderIdentity: identity,
      leaseDurationSeconds: this.duration,
      acquireTime: microTime(now),
      renewTime: microTime(now),
      leaseTransitions: 0,
    };
    if (!lease) {
      try {
        await client.create({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name, namespace }, spec: desired });
      } catch (error) {
        if (isApiError(error, 409)) return; // another candidate created it first
        throw error;
      }
      this.lastRenew = now;
      this.setLeading(true);
      return;
    }
    const spec = (lease.spec ?? {}) as LeaseSpec;
    const record = JSON.stringify([spec.holderIdentity, spec.renewTime, spec.acquireTime]);
    if (record !== this.observedRecord) {
      this.observedRecord = record;
      this.observedAt = now;
    }
    const heldByOther = !!spec.holderIdentity && spec.holderIdentity !== identity;
    const expired = this.observedAt + (spec.leaseDurationSeconds ?? this.duration) * 1000 < now;
    if (heldByOther && !expired) {
      this.setLeading(false);
      return;
    }
    const next: LeaseSpec =
      heldByOther || !spec.holderIdentity
        ? { ...desired, leaseTransitions: (spec.leaseTransitions ?? 0) + 1 }
        : { ...desired, acquireTime: spec.acquireTime, leaseTransitions: spec.leaseTransitions ?? 0 };
    try {
      const updated = await client.update({ ...lease, spec: next } as KObject);
      const u = (updated.spec ?? {}) as LeaseSpec;
      this.observedRecord = JSON.stringify([u.holderIdentity, u.renewTime, u.acquireTime]);
      this.observedAt = now;
    } catch (error) {
      if (isApiError(error, 409)) return; // someone else wrote first; re-read next time
      throw error;
    }
    this.lastRenew = now;
    this.setLeading(true);
  }

  /** Stops campaigning; if leading, releases the Lease so a successor need not wait for expiry. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.clock.clearTimeout(this.timer);
    if (!this.leading) return;
    this.setLeading(false);
    try {
      const lease = await this.o.client.get('coordination.k8s.io/v1', 'Lease', this.o.namespace, this.o.name);
      const spec = (lease?.spec ?? {}) as LeaseSpec;
      if (lease && spec.holderIdentity === this.o.identity) {
        await this.o.client.update({
          ...lease,
          spec: { ...spec, holderIdentity: undefined, leaseDurationSeconds: 1, renewTime: microTime(this.clock.now()) },
        } as KObject);
      }
    } catch (error) {
      this.o.log.warn('could not release the Lease', { error });
    }
  }
}
