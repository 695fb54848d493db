// Status fields renamed or retyped in v2 (facts §1.14, §2.5): RFC 3339 times
// and the root certificate's names. The operator alone writes status, in the
// storage version, so these translate exactly: whole epoch seconds to and
// from RFC 3339 without fractions.
import type { FieldRule, Json } from './kept-fields.ts';

/** Epoch seconds as RFC 3339 in UTC, without fractional seconds. */
export function rfc3339(seconds: number): string {
  return new Date(seconds * 1000).toISOString().replace(/\.000Z$/, 'Z');
}

export function epochSeconds(time: string): number | undefined {
  const ms = Date.parse(time);
  return Number.isNaN(ms) ? undefined : Math.floor(ms / 1000);
}

const standbyExpiresAt: FieldRule = {
  name: 'standbyExpiresAt',
  older: ['standbyExpiresAt'],
  newer: ['standbyExpiresAt'],
  up: (a) => (typeof a.standbyExpiresAt === 'number' ? { standbyExpiresAt: rfc3339(a.standbyExpiresAt) } : {}),
  down: (b) => {
    const seconds = typeof b.standbyExpiresAt === 'string' ? epochSeconds(b.standbyExpiresAt) : undefined;
    return seconds === undefined ? {} : { standbyExpiresAt: seconds };
  },
};

const rename = (older: string, newer: string): FieldRule => ({
  name: newer,
  older: [older],
  newer: [newer],
  up: (a) => (a[older] === undefined ? {} : ({ [newer]: a[older] } as Json)),
  down: (b) => (b[newer] === undefined ? {} : ({ [older]: b[newer] } as Json)),
});

export const SET_STATUS_RULES: readonly FieldRule[] = [standbyExpiresAt];
export const CLUSTER_STATUS_RULES: readonly FieldRule[] = [
  rename('rootSecretName', 'rootCertificateSecretName'),
  rename('rootExpiresAt', 'rootCertificateExpiresAt'),
];
