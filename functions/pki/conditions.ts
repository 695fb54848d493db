// The PKI handler's conditions (CertificatesReady, Degraded, Secure) and the
// Events that mark their changes, from one summary of the pass. Every Event is
// tied to a change of condition or to a write this pass makes, so nothing is
// announced twice and nothing is announced that did not happen.
import { findCondition, type ConditionInput } from '../../core/conditions.ts';
import type { RecordedEvent } from '../../core/handler.ts';
import type { SpicepodClusterStatus } from '../../core/spec/spicepodcluster.ts';
import type { CaOrigin } from './ca-secret.ts';
import { PkiReason } from './reasons.ts';

export interface IssuedLeaf {
  pod: string;
  reason: string;
  message: string;
}

export type PkiOutcome =
  | { phase: 'insecure' }
  | { phase: 'creating-ca'; secret: string }
  | { phase: 'ca-unusable'; message: string }
  | { phase: 'renewing-ca'; secret: string; notAfter: Date }
  | {
      phase: 'active';
      secret: string;
      origin: CaOrigin;
      caSubject: string;
      caNotAfter: Date;
      adoptedExpiring: boolean;
      nodes: number;
      issued: IssuedLeaf[];
      /** Nodes whose Secret is missing or will change in a way that matters to trust or identity. */
      pending: number;
      /** A move from other CAs in progress. */
      rotation?: { retiring: string[]; step: 'trusting-both' | 'dropping-old'; until: number };
    };

const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');

const degradedAsExpected: ConditionInput = {
  type: 'Degraded',
  status: 'False',
  reason: PkiReason.AsExpected,
  message: 'the cluster CA is usable',
};

function certificatesReady(o: PkiOutcome): ConditionInput {
  const c = (status: 'True' | 'False', reason: string, message: string): ConditionInput => ({
    type: 'CertificatesReady',
    status,
    reason,
    message,
  });
  switch (o.phase) {
    case 'insecure':
      return c('False', PkiReason.InsecureConnections, 'allowInsecureConnections is true: no node certificates are issued');
    case 'creating-ca':
      return c('False', PkiReason.CreatingCA, `creating the cluster root CA in Secret ${o.secret}`);
    case 'ca-unusable':
      return c('False', PkiReason.CAUnusable, 'no certificates are issued while the CA cannot be used');
    case 'renewing-ca':
      return c('False', PkiReason.Updating, `renewing the cluster root CA in Secret ${o.secret} (same key and subject)`);
    case 'active':
      if (o.rotation) {
        const olds = o.rotation.retiring.length === 1 ? 'the previous CA' : `${o.rotation.retiring.length} previous CAs`;
        return c(
          'False',
          PkiReason.RotatingTrust,
          o.rotation.step === 'trusting-both'
            ? `moving the nodes to the CA "${o.caSubject}": every node trusts it and ${olds}; node certificates from ${olds} are re-issued once every node has loaded that trust (about ${iso(o.rotation.until)})`
            : `every node certificate comes from the CA "${o.caSubject}"; ${olds} stays trusted until every node has loaded its new certificate (about ${iso(o.rotation.until)})`,
        );
      }
      if (o.issued.length)
        return c('False', PkiReason.Issuing, `issuing ${o.issued.length} node certificate${o.issued.length > 1 ? 's' : ''}`);
      if (o.pending) return c('False', PkiReason.Updating, `writing ${o.pending} node Secret${o.pending > 1 ? 's' : ''}`);
      return c('True', PkiReason.Issued, `${o.nodes} node certificates are current`);
  }
}

function degraded(o: PkiOutcome): ConditionInput {
  if (o.phase === 'ca-unusable') return { type: 'Degraded', status: 'True', reason: PkiReason.CACorrupt, message: o.message };
  if (o.phase === 'active' && o.adoptedExpiring) {
    return {
      type: 'Degraded',
      status: 'True',
      reason: PkiReason.AdoptedCAExpiring,
      message: `the CA in Secret ${o.secret} was not created by the operator, which therefore never renews it; it expires at ${iso(o.caNotAfter.getTime())}. Renew it with the same key and subject (every node certificate stays valid), or delete the Secret to have the operator create its own (nodes move to it without downtime)`,
    };
  }
  return degradedAsExpected;
}

function secure(o: PkiOutcome, ready: ConditionInput): ConditionInput {
  if (o.phase === 'insecure') {
    return {
      type: 'Secure',
      status: 'False',
      reason: PkiReason.InsecureConnections,
      message:
        'allowInsecureConnections is true: inter-node traffic on port 50052 is unencrypted and unauthenticated; never use this in production',
    };
  }
  if (ready.status === 'True')
    return {
      type: 'Secure',
      status: 'True',
      reason: PkiReason.MutualTLS,
      message: 'inter-node traffic on port 50052 uses mutual TLS, and every node has current certificates',
    };
  return {
    type: 'Secure',
    status: 'False',
    reason: PkiReason.CertificatesPending,
    message: `not every node has current certificates yet: ${ready.message}`,
  };
}

export function pkiConditions(o: PkiOutcome): ConditionInput[] {
  const ready = certificatesReady(o);
  return [ready, degraded(o), secure(o, ready)];
}

/** The Events of this pass, from the outcome and the conditions before it. */
/** The CA is in use: where it came from, said the first time it is. */
function firstUseEvent(
  o: Extract<PkiOutcome, { phase: 'active' }>,
  previous: SpicepodClusterStatus,
  wasReady: ReturnType<typeof findCondition>,
): RecordedEvent | undefined {
  if (previous.rootCertificateReady === true && wasReady?.reason !== PkiReason.CreatingCA) return undefined;
  if (o.origin === 'this-cluster') {
    return {
      type: 'Normal',
      reason: PkiReason.CACreated,
      message: `created the cluster root CA "${o.caSubject}" in Secret ${o.secret} (valid until ${iso(o.caNotAfter.getTime())})`,
    };
  }
  if (o.origin === 'foreign') {
    return {
      type: 'Normal',
      reason: PkiReason.CAAdopted,
      message: `using the CA "${o.caSubject}" in Secret ${o.secret}, which the operator did not create, as it is (valid until ${iso(o.caNotAfter.getTime())}); the operator never writes it`,
    };
  }
  return {
    type: 'Normal',
    reason: PkiReason.CAReused,
    message: `using the cluster root CA "${o.caSubject}" left in Secret ${o.secret} by an earlier cluster of this name`,
  };
}

export function pkiEvents(o: PkiOutcome, previous: SpicepodClusterStatus, conditions: ConditionInput[]): RecordedEvent[] {
  const events: RecordedEvent[] = [];
  const before = (type: string) => findCondition(previous.conditions, type);
  const now = (type: string) => conditions.find((c) => c.type === type)!;
  const changed = (type: string) => before(type)?.reason !== now(type).reason || before(type)?.message !== now(type).message;
  const wasReady = before('CertificatesReady');

  if (o.phase === 'insecure' && before('Secure')?.reason !== PkiReason.InsecureConnections) {
    events.push({ type: 'Warning', reason: PkiReason.InsecureConnections, message: now('Secure').message });
  }
  if (o.phase === 'ca-unusable' && (before('Degraded')?.status !== 'True' || changed('Degraded'))) {
    events.push({ type: 'Warning', reason: PkiReason.CACorrupt, message: o.message });
  }
  if (o.phase === 'renewing-ca') {
    events.push({
      type: 'Normal',
      reason: PkiReason.CARenewed,
      message: `re-signed the cluster root CA in Secret ${o.secret} with its own key and subject, valid until ${iso(o.notAfter.getTime())}; every node certificate stays valid`,
    });
  }
  if (o.phase !== 'active') return events;

  const firstUse = firstUseEvent(o, previous, wasReady);
  if (firstUse) events.push(firstUse);
  if (o.adoptedExpiring && before('Degraded')?.reason !== PkiReason.AdoptedCAExpiring) {
    events.push({ type: 'Warning', reason: PkiReason.AdoptedCAExpiring, message: now('Degraded').message });
  }
  if (o.rotation && wasReady?.reason !== PkiReason.RotatingTrust) {
    events.push({
      type: 'Normal',
      reason: PkiReason.TrustRotationStarted,
      message: `node certificates from another CA found: ${now('CertificatesReady').message}`,
    });
  }
  if (!o.rotation && wasReady?.reason === PkiReason.RotatingTrust) {
    events.push({
      type: 'Normal',
      reason: PkiReason.TrustRotationComplete,
      message: `every node certificate comes from the CA "${o.caSubject}" and the previous CA is no longer trusted`,
    });
  }
  if (o.issued.length) {
    const list = o.issued.map((l) => `${l.pod} (${l.message})`).join(', ');
    events.push({
      type: 'Normal',
      reason: PkiReason.CertificatesIssued,
      message: `issued ${o.issued.length} node certificate${o.issued.length > 1 ? 's' : ''}: ${list}`.slice(0, 1000),
    });
  }
  if (now('CertificatesReady').status === 'True' && wasReady?.status !== 'True') {
    events.push({ type: 'Normal', reason: PkiReason.CertificatesReady, message: `all ${o.nodes} node certificates are current` });
  }
  return events;
}
