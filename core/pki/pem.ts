// PEM armour (RFC 7468): encode, decode, and split bundles. Decoding is
// tolerant: CRLF line ends, indentation, and text around the blocks (as in
// `openssl x509 -text` output) are accepted.
import { base64ToBytes, bytesToBase64 } from '../base64.ts';
import type { Bytes } from './bytes.ts';
import { PkiError } from './errors.ts';

export const PEM_CERTIFICATE = 'CERTIFICATE';
export const PEM_PRIVATE_KEY = 'PRIVATE KEY';
export const PEM_CERTIFICATE_REQUEST = 'CERTIFICATE REQUEST';
export const PEM_PUBLIC_KEY = 'PUBLIC KEY';

export interface PemBlock {
  /** The label between BEGIN and END, e.g. "CERTIFICATE". */
  label: string;
  der: Bytes;
}

export function base64Encode(bytes: Uint8Array): string {
  return bytesToBase64(bytes);
}

export function base64Decode(text: string): Bytes {
  const bytes = base64ToBytes(text);
  if (!bytes) throw new PkiError('PEM body is not valid base64');
  return bytes;
}

/** Wraps DER in PEM armour with 64-character lines and a trailing newline. */
export function encodePem(label: string, der: Uint8Array | ArrayBuffer): string {
  const b64 = base64Encode(der instanceof Uint8Array ? der : new Uint8Array(der));
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

const BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END ([A-Z0-9 ]+)-----/g;

/** Every PEM block in the text, in order. Throws on a block whose END label does not match or whose body is not base64. */
export function decodePemBlocks(text: string): PemBlock[] {
  if (typeof text !== 'string') throw new PkiError('PEM input must be a string');
  const blocks: PemBlock[] = [];
  for (const m of text.matchAll(BLOCK)) {
    const [, begin, body = '', end] = m;
    if (begin !== end) throw new PkiError(`PEM block BEGIN ${begin} ends with END ${end}`);
    if (/^\s*[A-Za-z-]+:/m.test(body)) {
      throw new PkiError(`PEM block ${begin} has headers (e.g. Proc-Type); encrypted PEM is not supported`);
    }
    const der = base64Decode(body);
    if (der.length === 0) throw new PkiError(`PEM block ${begin} is empty`);
    blocks.push({ label: begin!, der });
  }
  return blocks;
}

/**
 * The DER of the first block with one of the given labels. Throws a PkiError
 * naming what was expected when there is none.
 */
export function decodePem(text: string, label: string | readonly string[]): PemBlock {
  const labels = typeof label === 'string' ? [label] : label;
  const blocks = decodePemBlocks(text);
  const block = blocks.find((b) => labels.includes(b.label));
  if (!block) {
    const found = blocks.length ? `found ${blocks.map((b) => b.label).join(', ')}` : 'found no PEM block';
    throw new PkiError(`expected a PEM ${labels.join(' or ')} block, ${found}`);
  }
  return block;
}

/** Splits a CA bundle into one normalised PEM string per certificate (other blocks are ignored). */
export function splitPemCertificates(text: string): string[] {
  return decodePemBlocks(text)
    .filter((b) => b.label === PEM_CERTIFICATE)
    .map((b) => encodePem(PEM_CERTIFICATE, b.der));
}

/** Joins certificates into one bundle (as stored in ca.crt), normalising each. */
export function joinPemCertificates(pems: readonly string[]): string {
  return pems.flatMap(splitPemCertificates).join('');
}
