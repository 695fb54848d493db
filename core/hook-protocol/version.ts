// The hook protocol's version, as it travels in every request and answer
// (`apiVersion`). A server answers only the versions it knows and says which
// those are; a new incompatible wire shape gets a new version, never a change
// to this one.
export const HOOK_API_VERSION = 'hooks.spice.ai/v1';
export const SUPPORTED_HOOK_API_VERSIONS: readonly string[] = [HOOK_API_VERSION];

export const RECONCILE_PATH = '/reconcile';
export const HEALTH_PATH = '/healthz';

export const KIND_REQUEST = 'ReconcileRequest';
export const KIND_RESPONSE = 'ReconcileResponse';
export const KIND_ERROR = 'Error';

/**
 * Largest request body a hook server reads (16 MiB). A workloads parent with a thousand pods
 * is a few MiB; the API server itself caps one object at ~1.5 MiB.
 */
export const DEFAULT_MAX_REQUEST_BYTES = 16 * 1024 * 1024;
/** Largest answer the operator reads from a hook (same bound, the other way). */
export const DEFAULT_MAX_RESPONSE_BYTES = 16 * 1024 * 1024;
