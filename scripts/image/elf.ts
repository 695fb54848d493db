// Just enough ELF to know what a binary needs at run time: its program
// interpreter (PT_INTERP) and the libraries it links (DT_NEEDED). 64-bit
// little-endian only (x86-64 and aarch64 Linux).
import { closeSync, openSync, readSync } from 'node:fs';

export interface ElfInfo {
  machine: 'x86-64' | 'aarch64' | `unknown (${number})`;
  interpreter?: string;
  needed: string[];
}

const PT_LOAD = 1;
const PT_DYNAMIC = 2;
const PT_INTERP = 3;
const DT_NEEDED = 1n;
const DT_STRTAB = 5n;

function readAt(fd: number, offset: number, length: number): Buffer {
  const buf = Buffer.alloc(length);
  const n = readSync(fd, buf, 0, length, offset);
  return buf.subarray(0, n);
}

export function readElf(path: string): ElfInfo {
  const fd = openSync(path, 'r');
  try {
    const h = readAt(fd, 0, 64);
    if (h.length < 64 || h.readUInt32BE(0) !== 0x7f454c46) throw new Error(`${path} is not an ELF file`);
    if (h[4] !== 2 || h[5] !== 1) throw new Error(`${path}: only 64-bit little-endian ELF is read`);
    const code = h.readUInt16LE(18);
    const machine = code === 62 ? 'x86-64' : code === 183 ? 'aarch64' : (`unknown (${code})` as const);
    const phoff = Number(h.readBigUInt64LE(32));
    const phentsize = h.readUInt16LE(54);
    const phnum = h.readUInt16LE(56);
    const segments = Array.from({ length: phnum }, (_, i) => {
      const p = readAt(fd, phoff + i * phentsize, phentsize);
      return {
        type: p.readUInt32LE(0),
        offset: Number(p.readBigUInt64LE(8)),
        vaddr: Number(p.readBigUInt64LE(16)),
        filesz: Number(p.readBigUInt64LE(32)),
      };
    });
    const toOffset = (vaddr: number) => {
      const load = segments.find((s) => s.type === PT_LOAD && vaddr >= s.vaddr && vaddr < s.vaddr + s.filesz);
      if (!load) throw new Error(`${path}: address ${vaddr} is in no loaded segment`);
      return vaddr - load.vaddr + load.offset;
    };
    const cString = (offset: number) => {
      const chunk = readAt(fd, offset, 4096);
      return chunk.subarray(0, chunk.indexOf(0)).toString('utf8');
    };
    const interp = segments.find((s) => s.type === PT_INTERP);
    const dynamic = segments.find((s) => s.type === PT_DYNAMIC);
    const needed: string[] = [];
    if (dynamic) {
      const d = readAt(fd, dynamic.offset, dynamic.filesz);
      const entries: [bigint, bigint][] = [];
      for (let o = 0; o + 16 <= d.length; o += 16) {
        const tag = d.readBigInt64LE(o);
        if (tag === 0n) break;
        entries.push([tag, d.readBigUInt64LE(o + 8)]);
      }
      const strtab = entries.find(([t]) => t === DT_STRTAB)?.[1];
      if (strtab !== undefined) {
        const base = toOffset(Number(strtab));
        for (const [tag, value] of entries) if (tag === DT_NEEDED) needed.push(cString(base + Number(value)));
      }
    }
    return { machine, ...(interp ? { interpreter: cString(interp.offset) } : {}), needed };
  } finally {
    closeSync(fd);
  }
}
