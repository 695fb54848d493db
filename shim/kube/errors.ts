// One-line descriptions of API failures, for the CLI and the logs.
import { ApiException } from '@kubernetes/client-node';

export function statusCode(error: unknown): number | undefined {
  return error instanceof ApiException ? error.code : undefined;
}

export function describeApiError(error: unknown, server?: string): string {
  if (error instanceof ApiException) {
    let message = '';
    try {
      const body = typeof error.body === 'string' ? JSON.parse(error.body) : error.body;
      message = body?.message ?? '';
    } catch {
      message = String(error.body ?? '').slice(0, 300);
    }
    return `API server answered ${error.code}${message ? `: ${message}` : ''}`;
  }
  const e = error as { code?: string; cause?: { code?: string; message?: string }; message?: string };
  const code = e.code ?? e.cause?.code;
  if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EHOSTUNREACH' || code === 'ETIMEDOUT') {
    return `cannot reach the API server${server ? ` at ${server}` : ''} (${code})`;
  }
  return (e.cause?.message ?? e.message ?? String(error)).split('\n')[0]!;
}
