// A webhook's serving certificate kept in one Secret (a CA and a certificate
// from core/pki): read, created when missing, renewed as core/pki's plan
// says (core/pki/serving-certificate-policy.ts), and written back with the
// resourceVersion read. Generic: any webhook the operator serves (the sidecar
// injector today) keeps its certificate here.
//
// - The Secret is created only when missing and never blindly overwritten:
//   an unusable CA is reported, not replaced; a Secret without ca.key holds
//   a certificate someone else manages (e.g. cert-manager) and is only read.
// - Any replica may renew: an update with a resourceVersion precondition, so
//   two replicas cannot both win; the loser re-reads and serves the winner's.
// - Logs carry names and reasons, never PEM or Secret data.
import {
  createServingMaterial,
  parseCertificate,
  planServingCertificate,
  renewalTime,
  renewedSecretData,
  renewServingMaterial,
  servingSecretData,
} from '../../core/pki/index.ts';
import { type KubeClient, type KObject, written } from '../kube/client.ts';
import type { Logger } from '../log.ts';
import { realClock, type Clock } from '../clock.ts';

/** Attempts when the Secret changes between our read and our write. */
const WRITE_ATTEMPTS = 5;

type SecretClient = Pick<KubeClient, 'get' | 'create' | 'update'>;

export interface ServingCertificate {
  caPem: string;
  certPem: string;
  keyPem: string;
  notBefore: Date;
  notAfter: Date;
  renewAt: Date;
  fingerprint: string;
  /** false when the Secret has no ca.key: someone else issues and renews it. */
  managed: boolean;
}

export interface CertificateStoreOptions {
  client: SecretClient;
  namespace: string;
  secretName: string;
  commonName: string;
  dnsNames: string[];
  ipAddresses: string[];
  log: Logger;
  /** Labels of a Secret the store creates. */
  labels?: Record<string, string>;
  /** Default the real clock. */
  clock?: Clock;
  /** Default 365. */
  leafValidityDays?: number;
  /** Default 3650. */
  caValidityDays?: number;
}

/**
 * Reads the webhook's Secret and makes it hold a usable, current serving
 * certificate for the given names, as core/pki's plan says
 * (serving-certificate-policy.ts): creates it when missing, re-issues the
 * certificate for the reasons a cluster node's is, re-signs a CA that is due
 * with its own key, never replaces a CA, and never writes a Secret without
 * ca.key. Writes carry the resourceVersion read, so of two replicas one wins
 * and the other re-reads.
 */
export async function ensureServingCertificate(o: CertificateStoreOptions): Promise<ServingCertificate> {
  const now = new Date((o.clock ?? realClock).now());
  const where = `Secret ${o.namespace}/${o.secretName}`;
  const wanted = { dnsNames: o.dnsNames, ipAddresses: o.ipAddresses };
  const identity = { commonName: o.commonName, wanted, now, leafValidityDays: o.leafValidityDays, caValidityDays: o.caValidityDays };

  for (let attempt = 0; attempt < WRITE_ATTEMPTS; attempt++) {
    const secret = (await o.client.get('v1', 'Secret', o.namespace, o.secretName)) as
      | (KObject & { data?: Record<string, string> })
      | undefined;
    const plan = await planServingCertificate({ secret, wanted, now });
    switch (plan.action) {
      case 'report':
        throw new Error(`${where} ${plan.message}`);
      case 'serve':
        return describe(plan.material, false);
      case 'keep':
        return describe(plan.material, true);
      case 'create': {
        const material = await createServingMaterial(identity);
        const created = {
          apiVersion: 'v1',
          kind: 'Secret',
          metadata: { name: o.secretName, namespace: o.namespace, ...(o.labels ? { labels: o.labels } : {}) },
          type: 'kubernetes.io/tls',
          data: servingSecretData(material),
        } as KObject;
        if (!(await written(() => o.client.create(created)))) continue; // another replica created it first: use theirs
        o.log.info('webhook certificate created', { secret: where });
        return describe(material, true);
      }
      case 'renew': {
        const material = await renewServingMaterial(plan.material, { renewCA: !!plan.renewCA, reissueLeaf: !!plan.reissueLeaf }, identity);
        // resourceVersion from the read: a concurrent renewal wins, we re-read
        if (!(await written(() => o.client.update({ ...secret!, data: renewedSecretData(secret!.data, material) })))) continue;
        const reasons = [plan.renewCA, plan.reissueLeaf].filter((v) => v !== undefined).map((v) => `${v.reason}: ${v.message}`);
        o.log.info('webhook certificate renewed', { secret: where, reasons });
        return describe(material, true);
      }
    }
  }
  throw new Error(`${where} kept changing while the operator was updating it; giving up for now`);
}

async function describe(
  { caPem, certPem, keyPem }: { caPem: string; certPem: string; keyPem: string },
  managed: boolean,
): Promise<ServingCertificate> {
  const leaf = await parseCertificate(certPem);
  return {
    caPem,
    certPem,
    keyPem,
    notBefore: leaf.notBefore,
    notAfter: leaf.notAfter,
    renewAt: renewalTime(leaf.notBefore, leaf.notAfter),
    fingerprint: leaf.fingerprintSha256,
    managed,
  };
}
