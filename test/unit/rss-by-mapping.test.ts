// bench/rss-by-mapping.ts, the breakdown of a settled RSS bench/scale.ts prints: the executable's file
// pages apart from the libraries', malloc's heap apart from the rest of the anonymous memory.
import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { rssByMapping, rssByMappingOf } from '../../bench/rss-by-mapping.ts';

const mapping = (header: string, rssKiB: number, anonymousKiB: number) =>
  `${header}\nSize:               9999 kB\nRss:             ${rssKiB} kB\nPss:             ${rssKiB} kB\nAnonymous:       ${anonymousKiB} kB\nAnonHugePages:         0 kB\nVmFlags: rd mr mw me\n`;
const NODE = '/nodejs/bin/node';
const SMAPS = [
  mapping(`55d0a0000000-55d0a2000000 r--p 00000000 08:01 131 ${NODE}`, 2048, 0),
  mapping(`55d0a2000000-55d0a6000000 r-xp 02000000 08:01 131 ${NODE}`, 40960, 0),
  // The executable's written data: anonymous pages in a file mapping.
  mapping(`55d0a6000000-55d0a6100000 rw-p 06000000 08:01 131 ${NODE}`, 1024, 512),
  mapping('55d0a7000000-55d0a8000000 rw-p 00000000 00:00 0                          [heap]', 10240, 10240),
  mapping('7f0000000000-7f0000040000 rw-p 00000000 00:00 0 ', 256, 256),
  mapping('7f0000100000-7f0000200000 rw-p 00000000 00:00 0', 1024, 1024),
  mapping('7f1000000000-7f1000100000 r-xp 00000000 08:01 77 /usr/lib/x86_64-linux-gnu/libc.so.6', 1536, 0),
  // A library replaced on disk since it was mapped still counts as a file.
  mapping('7f1000200000-7f1000300000 r--p 00000000 08:01 78 /usr/lib/libssl.so.3 (deleted)', 512, 0),
  mapping('7ffc00000000-7ffc00021000 rw-p 00000000 00:00 0                          [stack]', 128, 128),
].join('');

test('file pages: the executable apart from other files; anonymous pages: malloc heap apart from the rest', () => {
  assert.equal(rssByMapping(SMAPS, NODE), {
    executable: (2048 + 40960 + 1024 - 512) / 1024,
    otherFiles: (1536 + 512) / 1024,
    mallocHeap: 10,
    otherAnonymous: (512 + 256 + 1024 + 128) / 1024,
  });
  // Another executable's name: node's pages are another file's.
  assert.is(rssByMapping(SMAPS, '/usr/bin/go-peer').executable, 0);
});

test("a live process: the parts add up to /proc/PID/status' RssAnon and RssFile", () => {
  const status = readFileSync('/proc/self/status', 'utf8');
  const mib = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)![1]) / 1024;
  const parts = rssByMappingOf(process.pid);
  // This test runs under node: its binary's pages are most of the file-backed memory.
  assert.ok(parts.executable > 10, `node's file pages: ${parts.executable} MiB`);
  assert.ok(parts.executable > parts.otherFiles);
  // Read just after status, smaps differs from it by a few KiB here (the memory read between the two);
  // leaving out malloc's heap (3 MiB here) or a file's pages would not.
  assert.ok(
    Math.abs(parts.executable + parts.otherFiles - mib('RssFile')) < 1,
    `file-backed ${JSON.stringify(parts)} against ${mib('RssFile')}`,
  );
  assert.ok(
    Math.abs(parts.mallocHeap + parts.otherAnonymous - mib('RssAnon')) < 1,
    `anonymous ${JSON.stringify(parts)} against ${mib('RssAnon')}`,
  );
});

test.run();
