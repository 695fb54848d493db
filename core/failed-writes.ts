// What the API server's answer to a write means for a handler (the shim
// carries failed writes back in Observed.failedWrites).
import type { FailedWrite } from './handler.ts';

/** An answer that means the write will not succeed as it is: not a conflict, throttling or a server failure. */
export const isRefusal = (f: Pick<FailedWrite, 'code'>) => f.code >= 400 && f.code < 500 && f.code !== 409 && f.code !== 429;
