// What the test process's own heap holds, from a V8 heap snapshot (taken after a full GC).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString, writeHeapSnapshot } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** How many strings with exactly this value the process's heap holds. */
export function copiesInHeap(value: string): number {
  const dir = mkdtempSync(join(tmpdir(), 'heap-'));
  try {
    const snapshot = JSON.parse(readFileSync(writeHeapSnapshot(join(dir, 'h.heapsnapshot')), 'utf8'));
    const fields: string[] = snapshot.snapshot.meta.node_fields;
    const nodeTypes: string[] = snapshot.snapshot.meta.node_types[0];
    const [type, name] = [fields.indexOf('type'), fields.indexOf('name')];
    const id = snapshot.strings.indexOf(value);
    let n = 0;
    for (let i = 0; i < snapshot.nodes.length; i += fields.length)
      if (nodeTypes[snapshot.nodes[i + type]] === 'string' && snapshot.nodes[i + name] === id) n++;
    return n;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The process's used V8 heap, in bytes, after a full GC. */
export function heapUsedAfterGc(): number {
  fullGc();
  return process.memoryUsage().heapUsed;
}

let gcFunction: (() => void) | undefined;
function fullGc(): void {
  if (!gcFunction) {
    // gc() as --expose-gc gives it, without the flag on the test's command line: a context created
    // after the flag is set has it.
    setFlagsFromString('--expose-gc');
    gcFunction = runInNewContext('gc') as () => void;
  }
  gcFunction();
}
