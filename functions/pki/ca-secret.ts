// The cluster's root CA Secret in the operator namespace: how it is named,
// labelled and read. It is found by name, whatever its labels, so a CA the
// user brought, restored from a backup, or left by an earlier cluster of the
// same name is used rather than ignored.
import type { KubeObject } from '../../core/handler.ts';

import { clusterNames } from '../../core/manifests/spicepodcluster.ts';
import { keyMatchesCertificate, parseCertificate, type CertificateInfo } from '../../core/pki/index.ts';
import { secretData, secretText } from '../../core/secrets.ts';
import { LABEL_CLUSTER } from '../../core/labels.ts';
import { LABEL_CLUSTER_NAMESPACE } from '../../core/labels.ts';
import { ANNOTATION_NOT_AFTER } from '../../core/annotations.ts';
import { ANNOTATION_CREATED_FOR } from '../../core/annotations.ts';

/** Who the CA Secret comes from. */
export type CaOrigin = 'this-cluster' | 'earlier-cluster' | 'foreign';

export type CaReading =
  | { state: 'absent' }
  | { state: 'unusable'; secret: KubeObject; problem: string }
  | { state: 'usable'; secret: KubeObject; certPem: string; keyPem: string; info: CertificateInfo; origin: CaOrigin };

export interface ClusterRef {
  cluster: string;
  namespace: string;
  uid: string;
  operatorNamespace: string;
}

export const caSecretName = (ref: ClusterRef) => clusterNames.caSecret(ref.namespace, ref.cluster);

/** The CA Secret among the related Secrets (the shim finds it by name as well as by label). */
export function findCaSecret(ref: ClusterRef, secrets: KubeObject[]): KubeObject | undefined {
  return secrets.find((s) => s.metadata.name === caSecretName(ref) && s.metadata.namespace === ref.operatorNamespace);
}

function originOf(ref: ClusterRef, secret: KubeObject): CaOrigin {
  const labels = secret.metadata.labels ?? {};
  if (labels[LABEL_CLUSTER] !== ref.cluster || labels[LABEL_CLUSTER_NAMESPACE] !== ref.namespace) return 'foreign';
  return secret.metadata.annotations?.[ANNOTATION_CREATED_FOR] === ref.uid ? 'this-cluster' : 'earlier-cluster';
}

/** Reads the CA Secret; a problem when it cannot be used to sign node certificates. */
export async function readCaSecret(ref: ClusterRef, secret: KubeObject | undefined): Promise<CaReading> {
  if (!secret) return { state: 'absent' };
  const origin = originOf(ref, secret);
  const certPem = secretText(secret, 'ca.crt');
  const keyPem = secretText(secret, 'ca.key');
  const unusable = (problem: string): CaReading => ({ state: 'unusable', secret, problem });
  if (!certPem) return unusable('it has no ca.crt');
  if (!keyPem) return unusable('it has no ca.key (the operator signs node certificates with it)');
  let info: CertificateInfo;
  try {
    info = await parseCertificate(certPem);
  } catch (error) {
    return unusable(`ca.crt is not a certificate (${(error as Error).message})`);
  }
  if (!info.isCA) return unusable('ca.crt is not a CA certificate');
  if (!info.keyUsages.includes('keyCertSign') && info.keyUsages.length > 0)
    return unusable('ca.crt may not sign certificates (keyUsage lacks keyCertSign)');
  if (!(await keyMatchesCertificate(keyPem, certPem))) return unusable('ca.key does not belong to ca.crt');
  return { state: 'usable', secret, certPem, keyPem, info, origin };
}

export interface CaSecretInput {
  ref: ClusterRef;
  certPem: string;
  keyPem: string;
  notAfter: Date;
  /** Annotations to keep (a renewal keeps the Secret's own). */
  annotations?: Record<string, string>;
}

/** The CA Secret as the operator writes it: only ca.crt and ca.key. */
export function caSecretObject({ ref, certPem, keyPem, notAfter, annotations }: CaSecretInput): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'Opaque',
    metadata: {
      name: caSecretName(ref),
      namespace: ref.operatorNamespace,
      labels: { [LABEL_CLUSTER]: ref.cluster, [LABEL_CLUSTER_NAMESPACE]: ref.namespace },
      annotations: { ...annotations, [ANNOTATION_NOT_AFTER]: notAfter.toISOString() },
    },
    data: secretData({ 'ca.crt': certPem, 'ca.key': keyPem }),
  };
}
