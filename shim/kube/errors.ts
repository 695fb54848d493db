// One-line descriptions of API failures, for the CLI and the logs.
import { ApiError } from './client.ts';

export function describeApiError(error: unknown, server?: string): string {
  if (error instanceof ApiError) return `API server answered ${error.status}${error.message ? `: ${error.message}` : ''}`;
  const e = error as { code?: string; cause?: { code?: string; message?: string }; message?: string };
  const code = e.code ?? e.cause?.code;
  if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EHOSTUNREACH' || code === 'ETIMEDOUT' || code === 'ECONNRESET') {
    return `cannot reach the API server${server ? ` at ${server}` : ''} (${code})`;
  }
  return (e.cause?.message ?? e.message ?? String(error)).split('\n')[0]!;
}
