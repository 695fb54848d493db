// The sidecar injector: a fetch handler for `POST /mutate` that answers an
// admission.k8s.io/v1 AdmissionReview for Pod CREATE with a JSONPatch adding
// spiced as a native sidecar, or with a denial that says what to change.
//
// Pure apart from one injected read, `getConfigMap`, so it runs unchanged
// under the operator's HTTPS server, on any fetch runtime, and in unit tests.
// The decision (admission-decision.ts, with injection-request.ts for the
// annotations and reasons.ts for its reasons) is separate from the
// Request/Response wrapping (handler.ts).
export type { Answer } from './admission.ts';
export * from './annotations.ts';
export * from './injection-request.ts';
export * from './reasons.ts';
export {
  ADMISSION_CHECKS,
  createAdmission,
  type AdmissionOutcome,
  type AdmissionResult,
  type AdmissionVerdict,
  type ConfigMapData,
  type GetConfigMap,
  type InjectionHandlerOptions,
} from './admission-decision.ts';
export { createInjectionHandler, MUTATE_PATH } from './handler.ts';
export { SIDECAR_CONTAINER, SIDECAR_VOLUME, SIDECAR_PORT_NAMES, sidecarContainer, type JsonPatchOp } from './sidecar.ts';
export { missedSidecar, missedSidecarMessage, MISSED_SIDECAR_CHECKS, REASON_SIDECAR_MISSING, type PodLike } from './missed-sidecar.ts';
export {
  webhookConfiguration,
  ALWAYS_EXCLUDED_NAMESPACES,
  WEBHOOK_NAMES,
  WEBHOOK_TIMEOUT_SECONDS,
  type WebhookConfigurationOptions,
} from './configuration.ts';
