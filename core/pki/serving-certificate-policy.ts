// What to do with a webhook's serving-certificate Secret: one ordered chain of
// named checks over what the Secret holds (cert-manager's policy chains are the
// model), the first that decides wins:
//
// - no Secret: create a CA and a certificate (create-only: a replica that
//   loses the race uses the winner's);
// - no ca.key: someone else (cert-manager, the user) issues the certificate:
//   served as it is and never written; one that lacks ca.crt, tls.crt or
//   tls.key is reported;
// - a ca.crt/ca.key that cannot sign: reported, never replaced (deleting the
//   Secret is the documented repair);
// - then the CA and the serving certificate are judged each on its own: a CA
//   at two thirds of its life is re-signed with its own key and subject; the
//   certificate by the shared leaf chain (leaf-policy.ts), so it is re-issued
//   for the same reasons, checked in the same order, as a cluster node's.
//
// Pure: the Secret's data, the names wanted and the time in, a plan out.
import { loadCA, type LoadedCA } from './ca.ts';
import { reviewLeaf, type LeafVerdict } from './leaf-policy.ts';
import { needsRenewal } from './renewal.ts';
import type { SubjectAltNames } from './san.ts';
import { readServingSecret, type ServingMaterial } from './serving-certificate.ts';

export const ServingSecretReason = {
  /** The Secret does not exist: a CA and a serving certificate are created. */
  SecretMissing: 'SecretMissing',
  /** The Secret has no ca.key: its certificate is issued elsewhere and served as it is, never written. */
  IssuedElsewhere: 'IssuedElsewhere',
  /** The Secret has no ca.key and lacks ca.crt, tls.crt or tls.key: nothing to serve, and not the operator's to fill. */
  IncompleteSecret: 'IncompleteSecret',
  /** ca.crt/ca.key cannot sign (unreadable, not a pair, not a CA): reported, never replaced. */
  UnusableCA: 'UnusableCA',
  /** Two thirds of the CA's lifetime have passed: it is re-signed with its own key and subject. */
  CADueForRenewal: 'CADueForRenewal',
} as const;
export type ServingSecretReason = (typeof ServingSecretReason)[keyof typeof ServingSecretReason];

export interface ServingVerdict {
  reason: ServingSecretReason;
  message: string;
}

/** A Secret the operator manages (it holds ca.key, and the CA can sign). */
export type ManagedMaterial = ServingMaterial & { caPem: string; caKeyPem: string };

export type ServingCertificatePlan =
  /** No Secret: create one with a new CA and certificate. */
  | ({ action: 'create' } & ServingVerdict)
  /** Someone else's certificate: serve it as it is. */
  | ({ action: 'serve'; material: Required<Pick<ServingMaterial, 'caPem' | 'certPem' | 'keyPem'>> } & ServingVerdict)
  /** The Secret cannot be used and is not the operator's to repair: say why. */
  | ({ action: 'report' } & ServingVerdict)
  /** Everything is current: serve it, write nothing. */
  | { action: 'keep'; material: Required<ServingMaterial> }
  /** Re-sign the CA with its own key, and/or re-issue the certificate, then serve the result. */
  | { action: 'renew'; material: ManagedMaterial; renewCA?: ServingVerdict; reissueLeaf?: LeafVerdict };

export interface ServingSecretUnderReview {
  /** The Secret as read (its `data` holds base64 values); undefined when it does not exist. */
  secret: { data?: Record<string, string> } | undefined;
  /** The names the serving certificate must carry. */
  wanted: SubjectAltNames;
  now: Date;
}

interface Review {
  exists: boolean;
  material: ServingMaterial;
  ca?: LoadedCA;
}

type SecretCheck = (review: Review) => Promise<ServingCertificatePlan | undefined> | ServingCertificatePlan | undefined;

const secretExists: SecretCheck = (r) =>
  r.exists ? undefined : { action: 'create', reason: ServingSecretReason.SecretMissing, message: 'it does not exist' };

const foreignSecretIsComplete: SecretCheck = ({ material: m }) =>
  m.caKeyPem !== undefined || (m.caPem && m.certPem && m.keyPem)
    ? undefined
    : {
        action: 'report',
        reason: ServingSecretReason.IncompleteSecret,
        message: 'has no ca.key and lacks ca.crt, tls.crt or tls.key: add them, or delete the Secret to have the operator create one',
      };

const secretHoldsTheCAKey: SecretCheck = ({ material: m }) =>
  m.caKeyPem !== undefined
    ? undefined
    : {
        action: 'serve',
        reason: ServingSecretReason.IssuedElsewhere,
        message: 'it has no ca.key: its certificate is issued elsewhere and served as it is',
        material: { caPem: m.caPem!, certPem: m.certPem!, keyPem: m.keyPem! },
      };

const caCanSign: SecretCheck = async (r) => {
  try {
    r.ca = await loadCA({ certPem: r.material.caPem ?? '', keyPem: r.material.caKeyPem! });
    return undefined;
  } catch (error) {
    return {
      action: 'report',
      reason: ServingSecretReason.UnusableCA,
      message: `holds no usable CA in ca.crt/ca.key (${(error as Error).message}): the operator never replaces a CA; fix the Secret, or delete it to have a new CA created`,
    };
  }
};

/** The chain over the Secret, in priority order: the first plan returned is the answer. */
export const SERVING_SECRET_CHECKS: ReadonlyArray<readonly [name: string, check: SecretCheck]> = [
  ['secretExists', secretExists],
  ['foreignSecretIsComplete', foreignSecretIsComplete],
  ['secretHoldsTheCAKey', secretHoldsTheCAKey],
  ['caCanSign', caCanSign],
];

/** Judged once the Secret is the operator's and its CA can sign. */
const caIsNotDueForRenewal = (ca: LoadedCA, now: Date): ServingVerdict | undefined =>
  needsRenewal({ notBefore: ca.notBefore, notAfter: ca.notAfter, now })
    ? {
        reason: ServingSecretReason.CADueForRenewal,
        message: `the CA is past two thirds of its lifetime (it expires at ${ca.notAfter.toISOString()}): re-signed with its own key`,
      }
    : undefined;

export async function planServingCertificate(input: ServingSecretUnderReview): Promise<ServingCertificatePlan> {
  const review: Review = { exists: input.secret !== undefined, material: readServingSecret(input.secret?.data) };
  for (const [, check] of SERVING_SECRET_CHECKS) {
    const plan = await check(review);
    if (plan) return plan;
  }
  const material = review.material as ManagedMaterial;
  const renewCA = caIsNotDueForRenewal(review.ca!, input.now);
  const { verdict: reissueLeaf } = await reviewLeaf({
    certPem: material.certPem,
    keyPem: material.keyPem,
    wanted: input.wanted,
    issuerPem: material.caPem,
    now: input.now,
  });
  if (!renewCA && !reissueLeaf) return { action: 'keep', material: material as Required<ServingMaterial> };
  return { action: 'renew', material, ...(renewCA ? { renewCA } : {}), ...(reissueLeaf ? { reissueLeaf } : {}) };
}
