// Validating admission of SpicepodSets and SpicepodClusters: ordered rules
// (rules.ts), a policy (policy.ts), the AdmissionReview exchange (review.ts)
// and the configuration that registers it (configuration.ts).
export * from './rules.ts';
export * from './policy.ts';
export * from './review.ts';
export * from './configuration.ts';
export { spicepodFindings, SPICEPOD_RUNTIME_KEYS, SPICEPOD_TOP_LEVEL_KEYS, SPICEPOD_VERSIONS } from './spicepod-rules.ts';
