// Every annotation key the operator reads or writes: the one home for them
// (labels: core/labels.ts).

// --- on pod templates and children ---
/** The pod template's revision hash: a new one rolls the pods. */
export const ANNOTATION_REVISION = 'spice.ai/revision';
/** Hash of the Spicepod mounted, on the pod template. */
export const ANNOTATION_SPICEPOD_CHECKSUM = 'spice.ai/spicepod-checksum';
/** Hash of what a handler last applied to a child (the shim's no-op check). */
export const ANNOTATION_APPLIED = 'spice.ai/applied-hash';

// --- user requests on a SpicepodSet ---
/** "true": switch back to the BlueGreen standby; the operator clears it. */
export const ANNOTATION_ROLLBACK = 'spice.ai/rollback';
/** Resumes a set paused by crashloop protection; the operator removes it once acted on. */
export const ANNOTATION_RESUME = 'spice.ai/resume';

// --- cluster PKI Secrets ---
/** The certificate's notAfter (metrics read it without parsing). */
export const ANNOTATION_NOT_AFTER = 'spice.ai/not-after';
/** On node Secrets: when the leaf was issued. */
export const ANNOTATION_ISSUED_AT = 'spice.ai/issued-at';
/** On node Secrets: when ca.crt last changed (trust changes need time to reach the pods). */
export const ANNOTATION_TRUST_UPDATED_AT = 'spice.ai/trust-updated-at';
/** On the CA Secret: the uid of the cluster it was created for. */
export const ANNOTATION_CREATED_FOR = 'spice.ai/created-for';

// --- sidecar injection (on Pods) ---
export const ANNOTATION_INJECT = 'spice.ai/inject';
export const ANNOTATION_CONFIGMAP = 'spice.ai/spicepod-configmap';
export const ANNOTATION_INJECT_CONFIG = 'spice.ai/inject-config';
export const ANNOTATION_KEY = 'spice.ai/spicepod-key';
export const ANNOTATION_INJECT_CONFIG_KEY = 'spice.ai/inject-config-key';
export const ANNOTATION_IMAGE = 'spice.ai/image';
export const ANNOTATION_IMAGE_PULL_POLICY = 'spice.ai/image-pull-policy';
export const ANNOTATION_HTTP_PORT = 'spice.ai/http-port';
export const ANNOTATION_FLIGHT_PORT = 'spice.ai/flight-port';
export const ANNOTATION_METRICS_PORT = 'spice.ai/metrics-port';
export const ANNOTATION_CPU_REQUEST = 'spice.ai/sidecar-cpu-request';
export const ANNOTATION_MEMORY_REQUEST = 'spice.ai/sidecar-memory-request';
export const ANNOTATION_CPU_LIMIT = 'spice.ai/sidecar-cpu-limit';
export const ANNOTATION_MEMORY_LIMIT = 'spice.ai/sidecar-memory-limit';
/** Stamped on every Pod the webhook injected (a reserved key). */
export const ANNOTATION_SIDECAR_INJECTED = 'spice.ai/sidecar-injected';
