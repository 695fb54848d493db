// What to do with the cluster's root CA this pass: an ordered chain of named
// checks, the first that decides wins.
//
// - No CA Secret: create one (create-only: if another writer got there first,
//   theirs is used next pass).
// - A CA Secret that cannot be used: report it, write nothing (a CA is never
//   replaced silently; deleting the Secret is the documented repair).
// - A CA the operator created, at two thirds of its life (or past it): re-sign
//   it with its own key and subject. Every leaf it issued stays valid under
//   the new certificate, so nothing else changes and no node ever distrusts a
//   peer (spiced compares the issuer with the first CA's subject and checks the
//   signature; rustls anchors on subject and key).
// - A CA someone else created is used as it is and never written; past two
//   thirds of its life that is reported, since only its owner can renew it.
import { createCA, generateCAKey, needsRenewal, parseCertificate, renewCA } from '../../core/pki/index.ts';
import { readCaSecret, type CaReading, type ClusterRef } from './ca-secret.ts';
import type { KubeObject } from '../../core/handler.ts';

export type UsableCa = Extract<CaReading, { state: 'usable' }>;

export type CaPlan =
  | { action: 'create' }
  | { action: 'report'; secret: KubeObject; problem: string }
  | { action: 'renew'; ca: UsableCa }
  | { action: 'use'; ca: UsableCa; adoptedExpiring: boolean };

type CaCheck = (reading: CaReading, now: Date) => CaPlan | undefined;

const caSecretExists: CaCheck = (reading) => (reading.state === 'absent' ? { action: 'create' } : undefined);

const caSecretIsUsable: CaCheck = (reading) =>
  reading.state === 'unusable' ? { action: 'report', secret: reading.secret, problem: reading.problem } : undefined;

const adoptedCaHasNotExpired: CaCheck = (reading, now) => {
  const ca = reading as UsableCa;
  if (ca.origin !== 'foreign' || now < ca.info.notAfter) return undefined;
  return {
    action: 'report',
    secret: ca.secret,
    problem: `ca.crt expired at ${ca.info.notAfter.toISOString()}, and the operator does not renew a CA it did not create`,
  };
};

const ownCaIsNotDueForRenewal: CaCheck = (reading, now) => {
  const ca = reading as UsableCa;
  if (ca.origin === 'foreign') return undefined;
  return needsRenewal({ notBefore: ca.info.notBefore, notAfter: ca.info.notAfter, now }) ? { action: 'renew', ca } : undefined;
};

/** The chain, in priority order. */
export const CA_CHECKS: ReadonlyArray<readonly [name: string, check: CaCheck]> = [
  ['caSecretExists', caSecretExists],
  ['caSecretIsUsable', caSecretIsUsable],
  ['adoptedCaHasNotExpired', adoptedCaHasNotExpired],
  ['ownCaIsNotDueForRenewal', ownCaIsNotDueForRenewal],
];

export async function planCa(ref: ClusterRef, secret: KubeObject | undefined, now: Date): Promise<CaPlan> {
  const reading = await readCaSecret(ref, secret);
  for (const [, check] of CA_CHECKS) {
    const plan = check(reading, now);
    if (plan) return plan;
  }
  const ca = reading as UsableCa;
  return {
    action: 'use',
    ca,
    adoptedExpiring: ca.origin === 'foreign' && needsRenewal({ notBefore: ca.info.notBefore, notAfter: ca.info.notAfter, now }),
  };
}

/**
 * A new root CA for the cluster. It is named after its key, so two CAs with
 * different keys never share a name (verifiers pick anchors by name), and the
 * cluster it serves is in the OU.
 */
export async function newClusterCa(ref: ClusterRef, now: Date) {
  const { keyPem, keyIdHex } = await generateCAKey();
  const ca = await createCA({
    commonName: `spiceai-operator root CA ${keyIdHex.slice(0, 16)}`,
    // X.520 allows 64 characters; a namespace and cluster name can be longer, and the OU only informs.
    organizationalUnit: [...`${ref.namespace}/${ref.cluster}`].slice(0, 64).join(''),
    keyPem,
    now,
  });
  return { ...ca, info: await parseCertificate(ca.certPem) };
}

/** The CA re-signed with its own key and subject, valid from now. */
export async function renewedClusterCa(ca: UsableCa, now: Date) {
  const renewed = await renewCA({ certPem: ca.certPem, keyPem: ca.keyPem }, { now });
  return { ...renewed, info: await parseCertificate(renewed.certPem) };
}
