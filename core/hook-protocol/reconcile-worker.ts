// A handler served over HTTP as a standard fetch module (the module-worker
// shape: `export default { fetch }`), so one file runs unchanged on Node
// (`spiceai-operator serve`), Deno (`deno serve`) and Workers-style runtimes.
//
// A request goes through an ordered list of checks, each with its own reason
// (reasons.ts); the first that fails answers a JSON Error naming what is wrong
// and the handler is not called:
//   route -> method -> media type -> size -> JSON -> apiVersion -> shape -> handler name
// The handler's answer is checked against the schema before it is sent: an
// answer that fails is a 500, never a 200 the operator might act on.
import type { Desired, Observed } from '../handler.ts';
import { BodyTooLargeError, readBoundedText } from './read-body.ts';
import {
  REASON_BODY_TOO_LARGE,
  REASON_HANDLER_FAILED,
  REASON_INVALID_REQUEST,
  REASON_MALFORMED_JSON,
  REASON_METHOD_NOT_ALLOWED,
  REASON_NOT_FOUND,
  REASON_UNSUPPORTED_MEDIA_TYPE,
  REASON_UNSUPPORTED_VERSION,
  REASON_WRONG_HANDLER,
} from './reasons.ts';
import { desiredWireSchema, firstIssue, reconcileRequestSchema, type HookError } from './schemas.ts';
import { reconcileResponse } from './wire.ts';
import {
  DEFAULT_MAX_REQUEST_BYTES,
  HEALTH_PATH,
  HOOK_API_VERSION,
  KIND_ERROR,
  RECONCILE_PATH,
  SUPPORTED_HOOK_API_VERSIONS,
} from './version.ts';

export interface ReconcileFunction {
  name: string;
  reconcile(observed: Observed): Promise<Desired>;
}

export interface ReconcileWorkerOptions {
  /** Default DEFAULT_MAX_REQUEST_BYTES. */
  maxRequestBytes?: number;
}

export interface FetchModule {
  fetch(request: Request): Promise<Response>;
}

const JSON_HEADERS = { 'content-type': 'application/json' };

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { ...JSON_HEADERS, ...headers } });

/** A JSON Error answer. */
export function hookError(code: number, reason: string, message: string, field?: string, headers?: Record<string, string>): Response {
  const body: HookError = {
    apiVersion: HOOK_API_VERSION,
    kind: KIND_ERROR,
    code,
    reason,
    message,
    ...(field !== undefined ? { field } : {}),
  };
  return json(code, body, headers);
}

class Refusal {
  constructor(readonly response: Response) {}
}
const refuse = (...args: Parameters<typeof hookError>) => new Refusal(hookError(...args));

/** The request's JSON, or a refusal (media type, size, syntax). */
async function readJson(request: Request, limit: number): Promise<unknown | Refusal> {
  const type = (request.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/json') {
    return refuse(
      415,
      REASON_UNSUPPORTED_MEDIA_TYPE,
      `expected Content-Type application/json, got ${type ? JSON.stringify(type) : 'none'}`,
    );
  }
  let text: string;
  try {
    text = await readBoundedText(request, limit);
  } catch (error) {
    if (error instanceof BodyTooLargeError) return refuse(413, REASON_BODY_TOO_LARGE, `request body larger than ${limit} bytes`);
    return refuse(400, REASON_MALFORMED_JSON, 'request body is not UTF-8 text');
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    return refuse(400, REASON_MALFORMED_JSON, `request body is not JSON: ${(error as Error).message}`);
  }
}

/** The apiVersion check comes before the shape: another version may have another shape. */
function versionRefusal(body: unknown): Refusal | undefined {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    return refuse(422, REASON_INVALID_REQUEST, 'expected a JSON object (a ReconcileRequest)');
  const version = (body as { apiVersion?: unknown }).apiVersion;
  if (typeof version !== 'string')
    return refuse(422, REASON_INVALID_REQUEST, `apiVersion: expected one of ${SUPPORTED_HOOK_API_VERSIONS.join(', ')}`, 'apiVersion');
  if (!SUPPORTED_HOOK_API_VERSIONS.includes(version)) {
    return refuse(
      400,
      REASON_UNSUPPORTED_VERSION,
      `apiVersion ${JSON.stringify(version)} is not supported; this server speaks ${SUPPORTED_HOOK_API_VERSIONS.join(', ')}`,
      'apiVersion',
    );
  }
  return undefined;
}

export function reconcileWorker(handler: ReconcileFunction, options: ReconcileWorkerOptions = {}): FetchModule {
  const limit = options.maxRequestBytes ?? DEFAULT_MAX_REQUEST_BYTES;
  const health = JSON.stringify({ status: 'ok', handler: handler.name, apiVersions: SUPPORTED_HOOK_API_VERSIONS });

  async function fetch(request: Request): Promise<Response> {
    const path = new URL(request.url).pathname;
    if (path === HEALTH_PATH && (request.method === 'GET' || request.method === 'HEAD'))
      return new Response(request.method === 'GET' ? health : null, { headers: JSON_HEADERS });
    if (path !== RECONCILE_PATH) return hookError(404, REASON_NOT_FOUND, `no route ${path}; POST ${RECONCILE_PATH} or GET ${HEALTH_PATH}`);
    if (request.method !== 'POST')
      return hookError(405, REASON_METHOD_NOT_ALLOWED, `${request.method} ${RECONCILE_PATH}: expected POST`, undefined, { allow: 'POST' });

    const body = await readJson(request, limit);
    if (body instanceof Refusal) return body.response;
    const versionProblem = versionRefusal(body);
    if (versionProblem) return versionProblem.response;
    const parsed = reconcileRequestSchema.safeParse(body);
    if (!parsed.success) {
      const { field, message } = firstIssue(parsed.error);
      return hookError(422, REASON_INVALID_REQUEST, message, field);
    }
    const { handler: name, observed } = body as { handler: string; observed: Observed };
    if (name !== handler.name)
      return hookError(400, REASON_WRONG_HANDLER, `this server runs the ${handler.name} handler, not ${name}`, 'handler');

    let desired: Desired;
    try {
      desired = await handler.reconcile(observed);
    } catch (error) {
      return hookError(
        500,
        REASON_HANDLER_FAILED,
        `the ${handler.name} handler failed: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
    const answer = reconcileResponse(handler.name, desired);
    const checked = desiredWireSchema.safeParse(answer.desired);
    if (!checked.success) {
      const { field, message } = firstIssue(checked.error);
      return hookError(
        500,
        REASON_HANDLER_FAILED,
        `the ${handler.name} handler's answer fails the schema (not sent): ${field ? `desired.${message}` : message}`,
      );
    }
    return json(200, answer);
  }

  return { fetch };
}
