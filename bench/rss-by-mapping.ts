// Where a process's resident memory is, by what is mapped (/proc/PID/smaps), for the benchmarks' RSS
// figures: the file-backed pages of its executable and of everything else mapped from disk (shared
// libraries), malloc's heap (brk, "[heap]") and the rest of its anonymous memory (V8's heap pages,
// blocks malloc mapped on their own, thread stacks; a Go program's heap arenas). On this machine the
// settled RSS of the Node operator and of the Go peer differ mostly in their executables' file
// pages, which /proc/PID/status alone cannot tell apart from the libraries'.
import { readFileSync, readlinkSync } from 'node:fs';

/** Resident memory by mapping, in MiB. The two file-backed parts add up to RssFile, the two anonymous ones to RssAnon. */
export interface RssByMapping {
  /** File pages of the process's executable (node, or the Go binary). */
  executable: number;
  /** File pages of every other file mapped: shared libraries, and any data file. */
  otherFiles: number;
  /** malloc's brk heap. */
  mallocHeap: number;
  /** Every other anonymous page, including the executable's written data. */
  otherAnonymous: number;
}

const MAPPING = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/;

/** The breakdown of one smaps text; `executable` is the executable's path as the mappings name it. */
export function rssByMapping(smaps: string, executable: string): RssByMapping {
  const kib = { executable: 0, otherFiles: 0, mallocHeap: 0, otherAnonymous: 0 };
  let name: string | undefined;
  let rss = 0;
  let anonymous = 0;
  const close = () => {
    if (name === undefined) return;
    if (name === '[heap]') kib.mallocHeap += anonymous;
    else kib.otherAnonymous += anonymous;
    // Only a file's pages count as file-backed; "[stack]", "[vdso]" and unnamed mappings have none.
    if (name.startsWith('/')) kib[name.replace(/ \(deleted\)$/, '') === executable ? 'executable' : 'otherFiles'] += rss - anonymous;
  };
  for (const line of smaps.split('\n')) {
    const mapping = MAPPING.exec(line);
    if (mapping) {
      close();
      name = mapping[1]!;
      rss = anonymous = 0;
    } else if (line.startsWith('Rss:')) rss = Number(line.split(/\s+/)[1]);
    else if (line.startsWith('Anonymous:')) anonymous = Number(line.split(/\s+/)[1]);
  }
  close();
  return {
    executable: kib.executable / 1024,
    otherFiles: kib.otherFiles / 1024,
    mallocHeap: kib.mallocHeap / 1024,
    otherAnonymous: kib.otherAnonymous / 1024,
  };
}

/** The breakdown of a running process (Linux). */
export function rssByMappingOf(pid: number): RssByMapping {
  return rssByMapping(readFileSync(`/proc/${pid}/smaps`, 'utf8'), readlinkSync(`/proc/${pid}/exe`));
}
