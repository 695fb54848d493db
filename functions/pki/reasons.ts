// Every reason the PKI handler puts in a condition or an Event, with what it
// means. Nothing compares free text: decisions compare these constants.

export const PkiReason = {
  // --- the root CA ---
  /** Event: the operator created the cluster's root CA. Condition (CertificatesReady): it is being created. */
  CACreated: 'CACreated',
  CreatingCA: 'CreatingCA',
  /** Event: a CA Secret the operator did not create (no operator labels) is used as it is, never written. */
  CAAdopted: 'CAAdopted',
  /** Event: a CA the operator created for an earlier cluster of the same name is used again. */
  CAReused: 'CAReused',
  /** Event: the CA was re-signed with its own key and subject (every node certificate stays valid). */
  CARenewed: 'CARenewed',
  /** Event and Degraded reason: the CA Secret cannot be used; it is left untouched. */
  CACorrupt: 'CACorrupt',
  /** CertificatesReady reason while the CA cannot be used. */
  CAUnusable: 'CAUnusable',
  /** Degraded reason and Event: an adopted CA is past two thirds of its life; the operator does not renew CAs it did not create. */
  AdoptedCAExpiring: 'AdoptedCAExpiring',
  /** Degraded reason: nothing is wrong with the CA. */
  AsExpected: 'AsExpected',

  // --- node certificates ---
  /** Event: node certificates were issued (the message lists each node and why). Condition: some are being issued. */
  CertificatesIssued: 'CertificatesIssued',
  Issuing: 'Issuing',
  /** CertificatesReady reason: node Secrets are being written (trust bundles, new nodes). */
  Updating: 'Updating',
  /** Event and CertificatesReady reason: every node certificate is current. */
  CertificatesReady: 'CertificatesReady',
  Issued: 'Issued',
  /** Events and CertificatesReady reason: nodes move from another CA to the current one without breaking their peers. */
  TrustRotationStarted: 'TrustRotationStarted',
  RotatingTrust: 'RotatingTrust',
  TrustRotationComplete: 'TrustRotationComplete',

  // --- mTLS as a whole (Secure) ---
  /** Secure reason: every node has current certificates, inter-node traffic uses mutual TLS. */
  MutualTLS: 'MutualTLS',
  /** Secure reason: some node certificates are not in place yet. */
  CertificatesPending: 'CertificatesPending',
  /** Secure and CertificatesReady reason, and a Warning Event: allowInsecureConnections is true. */
  InsecureConnections: 'InsecureConnections',
} as const;
export type PkiReason = (typeof PkiReason)[keyof typeof PkiReason];
