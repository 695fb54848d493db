// The operator's PKI: a self-signed cluster CA and per-node leaf certificates
// for spiced's internal mTLS port, built on Web Crypto (ECDSA P-256) with
// pkijs/asn1js so it runs unchanged on Node, Deno and edge runtimes.
export { PkiError } from './errors.ts';
export {
  createCA,
  generateCAKey,
  loadCA,
  renewCA,
  type CertificateAndKey,
  type CreateCAOptions,
  type LoadedCA,
  type RenewCAOptions,
} from './ca.ts';
export { issueLeaf, type IssueLeafOptions, type IssuedLeaf } from './leaf.ts';
export { createCSR, csrPublicKey, type CreateCSROptions } from './csr.ts';
export { parseCertificate, verifyIssuedBy, type CertificateInfo } from './parse.ts';
export { keyMatchesCertificate } from './keys.ts';
export type { Key } from './engine.ts';
export type { KeyUsage } from './extensions.ts';
export {
  decodePem,
  decodePemBlocks,
  encodePem,
  joinPemCertificates,
  splitPemCertificates,
  PEM_CERTIFICATE,
  PEM_CERTIFICATE_REQUEST,
  PEM_PRIVATE_KEY,
  PEM_PUBLIC_KEY,
  type PemBlock,
} from './pem.ts';
export { normalizeDnsName, normalizeIpAddress, normalizeSans, sansEqual, type SubjectAltNames } from './san.ts';
export { needsRenewal, renewalTime } from './renewal.ts';
export { LEAF_CHECKS, LeafReason, reviewLeaf, UNUSABLE_LEAF_REASONS, type LeafUnderReview, type LeafVerdict } from './leaf-policy.ts';
export {
  createServingMaterial,
  readServingSecret,
  renewedSecretData,
  renewServingMaterial,
  servingSecretData,
  SERVING_SECRET_KEYS,
  type CompleteServingMaterial,
  type ServingIdentity,
  type ServingMaterial,
} from './serving-certificate.ts';
export {
  planServingCertificate,
  SERVING_SECRET_CHECKS,
  ServingSecretReason,
  type ManagedMaterial,
  type ServingCertificatePlan,
  type ServingSecretUnderReview,
  type ServingVerdict,
} from './serving-certificate-policy.ts';
export {
  HOOK_SECRET_CHECKS,
  HOOK_SECRET_KEYS,
  HookSecretReason,
  planHookCertificate,
  type HookCertificatePlan,
  type HookSecretUnderReview,
  type HookSecretVerdict,
} from './hook-certificate-policy.ts';
