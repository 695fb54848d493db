// Secret data as text: base64 through core/base64.ts (Web APIs only).
import { decodeBase64, encodeBase64 } from './base64.ts';
import type { KubeObject } from './handler.ts';

export function secretText(secret: KubeObject | undefined, key: string): string | undefined {
  const value = (secret?.data as Record<string, string> | undefined)?.[key];
  return value === undefined ? undefined : decodeBase64(value);
}

/** Secret `data` from text values (`stringData` would never read back equal, so every pass would write). */
export function secretData(values: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(values).map(([k, v]) => [k, encodeBase64(v)]));
}
