// Secret data is base64; the PEM text stored in it is ASCII, so btoa/atob (Web APIs) suffice.
import type { KubeObject } from './handler.ts';

export function secretText(secret: KubeObject | undefined, key: string): string | undefined {
  const value = (secret?.data as Record<string, string> | undefined)?.[key];
  if (value === undefined) return undefined;
  try {
    return atob(value);
  } catch {
    return undefined;
  }
}

/** Secret `data` from ASCII text values (`stringData` would never read back equal, so every pass would write). */
export function secretData(values: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(values).map(([k, v]) => [k, btoa(v)]));
}
