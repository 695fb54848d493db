// When must a leaf certificate be issued again? One ordered chain of named
// checks (cert-manager's policy chains are the model): the first check that
// fails gives the reason, so the order is the rule's priority. A leaf that
// cannot be used at all says so before one that merely could be better.
import type { CertificateInfo } from './parse.ts';
import { parseCertificate, verifyIssuedBy } from './parse.ts';
import { keyMatchesCertificate } from './keys.ts';
import { needsRenewal } from './renewal.ts';
import { sansEqual, type SubjectAltNames } from './san.ts';

export const LeafReason = {
  /** There is no certificate or no private key. */
  Missing: 'MissingCertificate',
  /** The certificate cannot be parsed. */
  Unreadable: 'UnreadableCertificate',
  /** The private key is not the certificate's. */
  KeyMismatch: 'KeyMismatch',
  /** The certificate's validity has ended. */
  Expired: 'Expired',
  /** The issuing CA is not the current one (the CA was replaced, or another CA wrote it). */
  IssuedByAnotherCA: 'IssuedByAnotherCA',
  /** The DNS names or IP addresses wanted differ from the certificate's. */
  NamesChanged: 'NamesChanged',
  /** Two thirds of its lifetime have passed. */
  DueForRenewal: 'DueForRenewal',
} as const;
export type LeafReason = (typeof LeafReason)[keyof typeof LeafReason];

/** Reasons after which the leaf in place cannot serve at all (the others describe a working leaf). */
export const UNUSABLE_LEAF_REASONS: ReadonlySet<LeafReason> = new Set([
  LeafReason.Missing,
  LeafReason.Unreadable,
  LeafReason.KeyMismatch,
  LeafReason.Expired,
]);

export interface LeafUnderReview {
  certPem?: string;
  keyPem?: string;
  /** The names the certificate should carry. */
  wanted: SubjectAltNames;
  /** The CA that should have issued it. */
  issuerPem: string;
  now: Date;
}

export interface LeafVerdict {
  reason: LeafReason;
  message: string;
}

interface Review extends LeafUnderReview {
  info?: CertificateInfo;
}

type LeafCheck = (leaf: Review) => Promise<LeafVerdict | undefined> | LeafVerdict | undefined;

const hasCertificateAndKey: LeafCheck = (leaf) =>
  leaf.certPem && leaf.keyPem ? undefined : { reason: LeafReason.Missing, message: 'no certificate or key yet' };

const certificateIsReadable: LeafCheck = async (leaf) => {
  try {
    leaf.info = await parseCertificate(leaf.certPem!);
    return undefined;
  } catch (error) {
    return { reason: LeafReason.Unreadable, message: `the certificate cannot be read (${(error as Error).message})` };
  }
};

const keyBelongsToCertificate: LeafCheck = async (leaf) =>
  (await keyMatchesCertificate(leaf.keyPem!, leaf.certPem!))
    ? undefined
    : { reason: LeafReason.KeyMismatch, message: 'the key does not belong to the certificate' };

const isNotExpired: LeafCheck = (leaf) =>
  leaf.now.getTime() < leaf.info!.notAfter.getTime()
    ? undefined
    : { reason: LeafReason.Expired, message: `it expired at ${leaf.info!.notAfter.toISOString()}` };

const isIssuedByTheCurrentCA: LeafCheck = async (leaf) =>
  (await verifyIssuedBy(leaf.certPem!, leaf.issuerPem))
    ? undefined
    : { reason: LeafReason.IssuedByAnotherCA, message: `it was issued by ${leaf.info!.issuer}, not the current CA` };

const carriesTheWantedNames: LeafCheck = (leaf) =>
  sansEqual(leaf.info!, leaf.wanted) ? undefined : { reason: LeafReason.NamesChanged, message: 'names changed' };

const isNotDueForRenewal: LeafCheck = (leaf) =>
  needsRenewal({ notBefore: leaf.info!.notBefore, notAfter: leaf.info!.notAfter, now: leaf.now })
    ? {
        reason: LeafReason.DueForRenewal,
        message: `renewal: two thirds of its lifetime have passed (it expires at ${leaf.info!.notAfter.toISOString()})`,
      }
    : undefined;

/** The chain, in priority order. */
export const LEAF_CHECKS: ReadonlyArray<readonly [name: string, check: LeafCheck]> = [
  ['hasCertificateAndKey', hasCertificateAndKey],
  ['certificateIsReadable', certificateIsReadable],
  ['keyBelongsToCertificate', keyBelongsToCertificate],
  ['isNotExpired', isNotExpired],
  ['isIssuedByTheCurrentCA', isIssuedByTheCurrentCA],
  ['carriesTheWantedNames', carriesTheWantedNames],
  ['isNotDueForRenewal', isNotDueForRenewal],
];

/** Runs the chain: the first failing check's verdict (undefined when the leaf is fine), and the parsed certificate when it could be read. */
export async function reviewLeaf(leaf: LeafUnderReview): Promise<{ verdict?: LeafVerdict; info?: CertificateInfo }> {
  const review: Review = { ...leaf };
  for (const [, check] of LEAF_CHECKS) {
    const verdict = await check(review);
    if (verdict) return { verdict, info: review.info };
  }
  return { info: review.info };
}
