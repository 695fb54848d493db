// How a long-running subcommand (run, serve) ends: on SIGTERM or SIGINT it
// stops what it started, letting work in flight finish, and returns.
import type { Logger } from '../log.ts';

/**
 * Starts with `start()` and resolves once it has been stopped on a signal. A signal that arrives
 * while starting (a webhook's certificate, the first lists) stops it as soon as it has started.
 */
export async function runUntilSignal(
  start: () => Promise<{ stop(): Promise<void> }>,
  log: Logger,
  stopping = 'stopping: finishing in-flight work',
): Promise<void> {
  let early: string | undefined;
  const onEarly = (signal: string) => () => {
    early ??= signal;
  };
  const earlyTerm = onEarly('SIGTERM');
  const earlyInt = onEarly('SIGINT');
  process.once('SIGTERM', earlyTerm);
  process.once('SIGINT', earlyInt);
  let started: { stop(): Promise<void> };
  try {
    started = await start();
  } finally {
    process.off('SIGTERM', earlyTerm);
    process.off('SIGINT', earlyInt);
  }
  await new Promise<void>((resolve) => {
    const shutdown = (signal: string) => {
      log.info(stopping, { signal });
      void started.stop().then(() => {
        log.info('stopped');
        resolve();
      });
    };
    if (early) return shutdown(early);
    process.once('SIGTERM', () => shutdown('SIGTERM'));
    process.once('SIGINT', () => shutdown('SIGINT'));
  });
}
