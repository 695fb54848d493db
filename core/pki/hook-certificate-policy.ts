// What to do with a hook server's certificate Secret (`run --handler-service`):
// the hook's serving certificate (tls.crt/tls.key) issued by the operator's
// own CA, and that CA (ca.crt), which `serve --client-ca` trusts for the
// operator's client certificate. One ordered chain of named checks
// (cert-manager's policy chains are the model), the first that decides wins:
//
// - no Secret: create one (create-only: a replica that loses the race uses
//   the winner's);
// - a Secret the operator did not create (no managed-by label of ours):
//   reported, never written (the user's, or another release's);
// - then the certificate by the shared leaf chain (leaf-policy.ts), against
//   the operator's current CA, so it is re-issued for the same reasons, in the
//   same order, as the webhook's serving certificate and a cluster node's;
// - a ca.crt that is not the operator's current CA (the CA was re-signed):
//   rewritten, so the hook keeps trusting the operator's client certificate.
//
// The Secret never holds the CA's key: hook pods mount it.
//
// Pure: the Secret as read, the CA, the names wanted and the time in, a plan out.
import { decodeBase64 } from '../base64.ts';
import { reviewLeaf, type LeafVerdict } from './leaf-policy.ts';
import type { SubjectAltNames } from './san.ts';

export const HookSecretReason = {
  /** The Secret does not exist: a serving certificate is issued into a new one. */
  SecretMissing: 'SecretMissing',
  /** The Secret exists without the operator's managed-by label: not the operator's to write. */
  NotManaged: 'NotManaged',
  /** ca.crt is not the operator's current CA (it was re-signed, or edited): rewritten. */
  TrustChanged: 'TrustChanged',
} as const;
export type HookSecretReason = (typeof HookSecretReason)[keyof typeof HookSecretReason];

/** The Secret's data keys (a kubernetes.io/tls Secret plus ca.crt, as cert-manager writes). */
export const HOOK_SECRET_KEYS = { certPem: 'tls.crt', keyPem: 'tls.key', caPem: 'ca.crt' } as const;

export interface HookSecretVerdict {
  reason: HookSecretReason;
  message: string;
}

export type HookCertificatePlan =
  | ({ action: 'create' } & HookSecretVerdict)
  | ({ action: 'report' } & HookSecretVerdict)
  /** Everything is current: write nothing. */
  | { action: 'keep'; certPem: string }
  /** Re-issue the certificate and/or rewrite ca.crt; what is current is kept. */
  | { action: 'renew'; reissueLeaf?: LeafVerdict; trust?: HookSecretVerdict };

export interface HookSecretUnderReview {
  /** The Secret as read (base64 `data`); undefined when it does not exist. */
  secret: { metadata?: { labels?: Record<string, string> }; data?: Record<string, string> } | undefined;
  /** The label (key and value) a Secret the operator created carries. */
  managedBy: readonly [key: string, value: string];
  /** The operator's current CA certificate (PEM). */
  caPem: string;
  wanted: SubjectAltNames;
  now: Date;
}

type SecretCheck = (r: HookSecretUnderReview) => HookCertificatePlan | undefined;

const secretExists: SecretCheck = (r) =>
  r.secret ? undefined : { action: 'create', reason: HookSecretReason.SecretMissing, message: 'it does not exist' };

const secretIsManaged: SecretCheck = (r) =>
  r.secret?.metadata?.labels?.[r.managedBy[0]] === r.managedBy[1]
    ? undefined
    : {
        action: 'report',
        reason: HookSecretReason.NotManaged,
        message: `exists without the label ${r.managedBy[0]}=${r.managedBy[1]}: the operator does not write a Secret it did not create; delete it to have the operator issue the hook's certificate, or drop --handler-service and give --handler-ca and a client certificate`,
      };

/** The chain over the Secret, in priority order: the first plan returned is the answer. */
export const HOOK_SECRET_CHECKS: ReadonlyArray<readonly [name: string, check: SecretCheck]> = [
  ['secretExists', secretExists],
  ['secretIsManaged', secretIsManaged],
];

const text = (data: Record<string, string> | undefined, key: string) => (data?.[key] === undefined ? undefined : decodeBase64(data[key]!));

export async function planHookCertificate(r: HookSecretUnderReview): Promise<HookCertificatePlan> {
  for (const [, check] of HOOK_SECRET_CHECKS) {
    const plan = check(r);
    if (plan) return plan;
  }
  const data = r.secret!.data;
  const certPem = text(data, HOOK_SECRET_KEYS.certPem);
  const { verdict: reissueLeaf } = await reviewLeaf({
    certPem,
    keyPem: text(data, HOOK_SECRET_KEYS.keyPem),
    wanted: r.wanted,
    issuerPem: r.caPem,
    now: r.now,
  });
  const trust: HookSecretVerdict | undefined =
    text(data, HOOK_SECRET_KEYS.caPem)?.trim() === r.caPem.trim()
      ? undefined
      : { reason: HookSecretReason.TrustChanged, message: "ca.crt is not the operator's current CA" };
  if (!reissueLeaf && !trust) return { action: 'keep', certPem: certPem! };
  return { action: 'renew', ...(reissueLeaf ? { reissueLeaf } : {}), ...(trust ? { trust } : {}) };
}
