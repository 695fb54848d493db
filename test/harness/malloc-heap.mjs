// Preloaded into a node process by tests (--import <this file>): writes, at
// exit, the resident size in KiB of the process's malloc heap (the [heap]
// mapping of /proc/self/smaps, glibc's main arena) to the file
// SPICEAI_TEST_MALLOC_HEAP names. Linux only.
const out = process.env.SPICEAI_TEST_MALLOC_HEAP;
if (!out) throw new Error('malloc-heap.mjs: SPICEAI_TEST_MALLOC_HEAP names no file');
const fs = process.getBuiltinModule('node:fs');
process.on('exit', () => {
  const smaps = fs.readFileSync('/proc/self/smaps', 'utf8');
  const heap = /\[heap\]\n(?:.*\n)*?Rss:\s+(\d+) kB/.exec(smaps);
  fs.writeFileSync(out, heap ? heap[1] : '0');
});
