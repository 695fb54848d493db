// Caller authentication for a hook server by a shared token (`serve
// --token-file`, `run --handler-token-file`), for when mutual TLS is not an
// option (a TLS-terminating proxy in between). Checked before the module sees
// the request; compared in constant time.
import { timingSafeEqual, createHash } from 'node:crypto';
import { hookError } from '../core/hook-protocol/reconcile-worker.ts';
import type { FetchHandler } from './http.ts';

export const REASON_UNAUTHORIZED = 'Unauthorized';

const digest = (text: string) => createHash('sha256').update(text).digest();

export function requireBearerToken(handler: FetchHandler, token: string): FetchHandler {
  const want = digest(token);
  return (request) => {
    const given = /^Bearer (.+)$/.exec(request.headers.get('authorization') ?? '')?.[1] ?? '';
    if (!timingSafeEqual(digest(given), want))
      return hookError(401, REASON_UNAUTHORIZED, 'a valid Authorization: Bearer token is required', undefined, {
        'www-authenticate': 'Bearer',
      });
    return handler(request);
  };
}
