// Base64, the one helper, on Web APIs only (btoa/atob work on Latin-1
// "binary strings"): of bytes (DER in PEM), and of text, encoded as UTF-8
// unless it is ASCII, which is nearly always (PEM in Secrets, caBundles,
// JSON patches).

const ASCII = /^[\x00-\x7f]*$/;

export function bytesToBase64(bytes: Uint8Array): string {
  let binary = '';
  const chunk = 0x8000;
  for (let i = 0; i < bytes.length; i += chunk) binary += String.fromCharCode(...bytes.subarray(i, i + chunk));
  return btoa(binary);
}

/** The bytes, or undefined when the text (whitespace aside) is not base64. */
export function base64ToBytes(text: string): Uint8Array<ArrayBuffer> | undefined {
  const clean = text.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(clean) || clean.length % 4 === 1) return undefined;
  let binary: string;
  try {
    binary = atob(clean);
  } catch {
    return undefined;
  }
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}

export function encodeBase64(text: string): string {
  return ASCII.test(text) ? btoa(text) : bytesToBase64(new TextEncoder().encode(text));
}

/** The text, or undefined when the input is not base64 of UTF-8. */
export function decodeBase64(value: string): string | undefined {
  let binary: string;
  try {
    binary = atob(value);
  } catch {
    return undefined;
  }
  if (ASCII.test(binary)) return binary;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(Uint8Array.from(binary, (c) => c.charCodeAt(0)));
  } catch {
    return undefined;
  }
}
