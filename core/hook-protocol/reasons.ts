// Reasons a hook server gives when it refuses a request (the `reason` of its
// JSON error), and reasons the operator gives when a hook call fails (the
// condition it writes on the parent). Users see both: they are constants.

/** The body's apiVersion is not one this server speaks. */
export const REASON_UNSUPPORTED_VERSION = 'UnsupportedVersion';
/** The body is not JSON. */
export const REASON_MALFORMED_JSON = 'MalformedJSON';
/** The body is JSON but not a ReconcileRequest (a field is missing or of the wrong type). */
export const REASON_INVALID_REQUEST = 'InvalidRequest';
/** The body is larger than the server reads. */
export const REASON_BODY_TOO_LARGE = 'BodyTooLarge';
/** The request names another handler than the one served here. */
export const REASON_WRONG_HANDLER = 'WrongHandler';
/** Not application/json. */
export const REASON_UNSUPPORTED_MEDIA_TYPE = 'UnsupportedMediaType';
export const REASON_NOT_FOUND = 'NotFound';
export const REASON_METHOD_NOT_ALLOWED = 'MethodNotAllowed';
/** The handler threw, or its answer failed the schema (the server never sends such an answer). */
export const REASON_HANDLER_FAILED = 'HandlerFailed';

// What the operator says on the parent when a hook call fails.
/** Condition reason: the hook could not be reached or did not answer in time. */
export const REASON_HOOK_UNREACHABLE = 'HookUnreachable';
/** Condition reason: the call took longer than its deadline. */
export const REASON_HOOK_TIMEOUT = 'HookTimeout';
/** Condition reason: the hook answered with an HTTP error. */
export const REASON_HOOK_ERROR = 'HookError';
/** Condition reason: the hook's answer is not a valid ReconcileResponse (it was not acted on). */
export const REASON_HOOK_INVALID_ANSWER = 'HookInvalidAnswer';
