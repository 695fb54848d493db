// The PKI handler: for each SpicepodCluster, a root CA kept in a Secret in
// the operator namespace (its key never leaves it), the CA certificate
// published in the cluster's namespace, and one Secret per node (ca.crt,
// tls.crt, tls.key) with the names its peers dial, in the order spiced
// requires. Where each rule lives:
//   ca-lifecycle.ts   create, report, renew (same key and subject) or use the CA
//   ca-secret.ts      the CA Secret: found by name, read, written
//   leaf-issuance.ts  keep, issue or hold each node's certificate
//   trust.ts          what each node trusts; moving to a new CA in steps
//   conditions.ts     CertificatesReady, Degraded, Secure and their Events
//   reasons.ts        every reason a user can see
import type { Handler } from '../../core/handler.ts';

import { clusterNames } from '../../core/manifests/spicepodcluster.ts';

import { reconcilePki } from './reconcile.ts';
import { LABEL_CLUSTER, LABEL_CLUSTER_NAMESPACE } from '../../core/labels.ts';
export { ANNOTATION_ISSUED_AT, ANNOTATION_NOT_AFTER, ANNOTATION_TRUST_UPDATED_AT } from '../../core/annotations.ts';
export { LABEL_CLUSTER_NAMESPACE } from '../../core/labels.ts';

export { reconcilePki } from './reconcile.ts';

export { PROPAGATION_SECONDS } from './trust.ts';
export { PkiReason } from './reasons.ts';

export const pkiHandler: Handler = {
  name: 'pki',
  parent: { apiVersion: 'spice.ai/v1alpha1', kind: 'SpicepodCluster' },
  children: [{ apiVersion: 'v1', kind: 'Secret' }],
  related: [
    {
      apiVersion: 'v1',
      kind: 'Secret',
      parentLabel: LABEL_CLUSTER,
      inOperatorNamespace: {
        parentNamespaceLabel: LABEL_CLUSTER_NAMESPACE,
        nameOf: (parent) => clusterNames.caSecret(parent.namespace, parent.name),
      },
    },
  ],
  conditionTypes: ['CertificatesReady', 'Degraded', 'Secure'],
  // Certificate writes are changes the cluster's LAST UPDATED column shows too.
  lastUpdatedField: 'lastUpdated',
  reconcile: reconcilePki,
};
