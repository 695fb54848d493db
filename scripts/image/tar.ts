// A deterministic tar writer for image layers: every entry's owner, mode and
// time are given, never taken from the disk, so a layer is the same bytes on
// every machine and for every user that builds it (no root needed for files
// owned by 0 or 65532). ustar format (POSIX.1-1988), which every container
// runtime and `tar` reads.

export interface TarEntry {
  /** Path inside the image, without a leading slash; directories without a trailing one. */
  path: string;
  type: 'file' | 'dir' | 'symlink';
  mode: number;
  uid?: number;
  gid?: number;
  content?: Uint8Array;
  /** Target of a symlink. */
  linkname?: string;
}

const BLOCK = 512;
const encoder = new TextEncoder();

function octal(value: number, width: number): string {
  // width includes the terminating NUL
  const text = value.toString(8);
  if (text.length > width - 1) throw new Error(`tar: ${value} does not fit in ${width - 1} octal digits`);
  return `${text.padStart(width - 1, '0')}\0`;
}

function splitPath(path: string): { name: string; prefix: string } {
  const bytes = encoder.encode(path);
  if (bytes.length <= 100) return { name: path, prefix: '' };
  // ustar: the path is prefix + "/" + name, split at a slash, prefix <= 155 and name <= 100 bytes.
  for (let i = path.lastIndexOf('/'); i > 0; i = path.lastIndexOf('/', i - 1)) {
    const prefix = path.slice(0, i);
    const name = path.slice(i + 1);
    if (encoder.encode(prefix).length <= 155 && encoder.encode(name).length <= 100) return { name, prefix };
  }
  throw new Error(`tar: path too long for ustar: ${path}`);
}

function header(entry: TarEntry, size: number, mtime: number): Uint8Array {
  const block = new Uint8Array(BLOCK);
  const put = (offset: number, text: string) => block.set(encoder.encode(text), offset);
  const { name, prefix } = splitPath(entry.type === 'dir' ? `${entry.path}/` : entry.path);
  put(0, name);
  put(100, octal(entry.mode & 0o7777, 8));
  put(108, octal(entry.uid ?? 0, 8));
  put(116, octal(entry.gid ?? 0, 8));
  put(124, octal(size, 12));
  put(136, octal(mtime, 12));
  put(148, '        '); // checksum field counts as spaces while summing
  put(156, entry.type === 'file' ? '0' : entry.type === 'dir' ? '5' : '2');
  if (entry.linkname) {
    if (encoder.encode(entry.linkname).length > 100) throw new Error(`tar: link target too long: ${entry.linkname}`);
    put(157, entry.linkname);
  }
  put(257, 'ustar\0');
  put(263, '00');
  put(329, octal(0, 8)); // devmajor
  put(337, octal(0, 8)); // devminor
  put(345, prefix);
  let sum = 0;
  for (const byte of block) sum += byte;
  put(148, `${sum.toString(8).padStart(6, '0')}\0 `);
  return block;
}

/**
 * The tar archive of the entries, sorted by path (parents first), each with
 * the given mtime (seconds since the epoch), as the chunks to write in order
 * (file contents are not copied: a layer holds a 120 MB node binary).
 */
export function tarChunks(entries: TarEntry[], mtime: number): Uint8Array[] {
  const sorted = [...entries].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const seen = new Set<string>();
  const parts: Uint8Array[] = [];
  for (const entry of sorted) {
    if (!entry.path || entry.path.startsWith('/') || entry.path.endsWith('/') || entry.path.split('/').includes('..')) {
      throw new Error(`tar: bad path ${JSON.stringify(entry.path)}`);
    }
    if (seen.has(entry.path)) throw new Error(`tar: ${entry.path} twice`);
    seen.add(entry.path);
    const parent = entry.path.includes('/') ? entry.path.slice(0, entry.path.lastIndexOf('/')) : '';
    if (parent && !seen.has(parent)) throw new Error(`tar: ${entry.path} without its directory ${parent}`);
    const content = entry.type === 'file' ? (entry.content ?? new Uint8Array()) : new Uint8Array();
    parts.push(header(entry, content.length, mtime));
    if (content.length) {
      parts.push(content);
      const pad = (BLOCK - (content.length % BLOCK)) % BLOCK;
      if (pad) parts.push(new Uint8Array(pad));
    }
  }
  parts.push(new Uint8Array(2 * BLOCK)); // end of archive
  return parts;
}

/** The whole archive in one buffer (small layers, tests). */
export function tarArchive(entries: TarEntry[], mtime: number): Uint8Array {
  const parts = tarChunks(entries, mtime);
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** Adds the directory entries (root-owned, 0755) that the given entries need and that are missing. */
export function withParents(entries: TarEntry[]): TarEntry[] {
  const have = new Set(entries.map((e) => e.path));
  const out = [...entries];
  for (const entry of entries) {
    const parts = entry.path.split('/');
    for (let i = 1; i < parts.length; i++) {
      const dir = parts.slice(0, i).join('/');
      if (!have.has(dir)) {
        have.add(dir);
        out.push({ path: dir, type: 'dir', mode: 0o755 });
      }
    }
  }
  return out;
}
