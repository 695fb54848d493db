// Reads a request or response body as text, never more than a bound: a
// declared Content-Length over it is refused before reading, and a body sent
// without one (chunked) is cut off as soon as it passes the bound.

export class BodyTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`body larger than ${limit} bytes`);
  }
}

export async function readBoundedText(message: Request | Response, limit: number): Promise<string> {
  const declared = message.headers.get('content-length');
  if (declared !== null && Number(declared) > limit) {
    await message.body?.cancel().catch(() => {});
    throw new BodyTooLargeError(limit);
  }
  if (!message.body) return '';
  const reader = message.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => {});
      throw new BodyTooLargeError(limit);
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
}
