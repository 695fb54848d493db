// A served certificate kept current while the webhook runs: a timer re-reads
// the store at the renewal time (and at least every check interval, to pick
// up a renewal by another replica or an edit), makes the targets trust a new
// CA before serving from it, and swaps a new certificate into the running
// server. The leaf is renewed at 2/3 of its lifetime; the CA is re-signed
// with its own key, so leaves it issued keep verifying and the caBundle may
// change at any time.
import type { Logger } from '../log.ts';
import type { Clock, Timer } from '../clock.ts';
import type { ServingCertificate } from './serving-certificate-store.ts';

/** How often a replica re-reads the Secret and the configuration (renewals by others, edits). */
export const CHECK_INTERVAL_MS = 10 * 60_000;
/** The first retry after a failed check; it doubles up to the check interval (the certificate still has a third of its life). */
const FIRST_RETRY_MS = 30_000;
/** Never check again sooner than this, even when the renewal time has passed. */
const MIN_DELAY_MS = 1000;

export interface CertificateRotationOptions {
  /** The certificate served at start. */
  first: ServingCertificate;
  /** Reads (and if due renews) the certificate: the store. */
  ensure(): Promise<ServingCertificate>;
  /** Makes the API server trust this CA (the caBundle keeper); also run on every check, to undo edits. */
  trustCA(caPem: string): Promise<void>;
  /** Serves a new certificate from now on (the running server's swap). */
  serve(certificate: ServingCertificate): void;
  /** Called with the certificate in use after every check (metrics). */
  onCurrent?(certificate: ServingCertificate): void;
  clock: Clock;
  checkIntervalMs?: number;
  log: Logger;
}

export interface CertificateRotation {
  certificate(): ServingCertificate;
  /** Re-reads the store and the targets now (what the timer does). */
  check(): Promise<void>;
  stop(): void;
}

export function rotateCertificate(o: CertificateRotationOptions): CertificateRotation {
  const interval = o.checkIntervalMs ?? CHECK_INTERVAL_MS;
  let current = o.first;
  let stopped = false;
  let timer: Timer | undefined;
  let failures = 0;

  const check = async () => {
    const next = await o.ensure();
    if (next.caPem !== current.caPem) await o.trustCA(next.caPem); // trust the new CA before serving from it
    if (next.fingerprint !== current.fingerprint) {
      o.serve(next);
      o.log.info('webhook certificate reloaded', {
        notAfter: next.notAfter.toISOString(),
        renewAt: next.renewAt.toISOString(),
        fingerprint: next.fingerprint.slice(0, 16),
      });
    }
    current = next;
    o.onCurrent?.(current);
    await o.trustCA(current.caPem);
  };

  const nextDelay = () => {
    if (failures) return Math.min(interval, FIRST_RETRY_MS * 2 ** (failures - 1));
    return Math.max(MIN_DELAY_MS, Math.min(interval, current.renewAt.getTime() - o.clock.now()));
  };
  const schedule = () => {
    timer = o.clock.setTimeout(tick, nextDelay());
    timer.unref();
  };
  const tick = async () => {
    try {
      await check();
      failures = 0;
    } catch (error) {
      failures++;
      o.log.error('webhook certificate check failed; retrying', { error, failures });
    }
    if (!stopped) schedule();
  };
  schedule();

  return {
    certificate: () => current,
    check,
    stop() {
      stopped = true;
      o.clock.clearTimeout(timer);
    },
  };
}
