// Where the time and memory go, from the profiles bench/scale.ts --profile writes (prints text):
//  - a V8 CPU profile (*.cpuprofile, ours): self time by function and by source area
//    (shim, functions, core, each npm package, node internals, GC);
//  - a V8 heap snapshot (*.heapsnapshot, ours): live memory by object type (constructor name),
//    self size and count;
//  - Go pprof profiles (*.cpu.pprof, *.heap.pprof, the peer): `go tool pprof -top`.
//
//   node --import tsx bench/profile-summary.ts FILE... [--top 25]
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

const { values, positionals } = parseArgs({ options: { top: { type: 'string', default: '25' } }, allowPositionals: true });
const TOP = Number(values.top);
const pct = (x: number, total: number) => `${((100 * x) / total).toFixed(1).padStart(5)}%`;

interface CpuNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

/** The source area a frame's URL belongs to: the bundle's modules are named in its source map comments only, so by function name for the bundle. */
function area(url: string, name: string): string {
  if (name === '(garbage collector)') return 'GC';
  if (name === '(program)' || name === '(idle)') return name;
  if (!url) return '(native/builtin)';
  if (url.startsWith('node:')) return 'node internals';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return `npm ${pkg[1]}`;
  const src = /\/(shim|functions|core|bench|test)\//.exec(url);
  return src ? src[1]! : url.split('/').pop()!;
}

function cpuProfile(file: string) {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as { nodes: CpuNode[]; samples: number[]; timeDeltas: number[] };
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  const areas = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const node = byId.get(id)!;
    const dt = profile.timeDeltas[i] ?? 0;
    total += dt;
    const { functionName, url, lineNumber } = node.callFrame;
    const key = `${functionName || '(anonymous)'} ${url ? `${url.split('/').slice(-2).join('/')}:${lineNumber + 1}` : ''}`;
    self.set(key, (self.get(key) ?? 0) + dt);
    const a = area(url, functionName);
    areas.set(a, (areas.get(a) ?? 0) + dt);
  });
  const busy = total - (areas.get('(idle)') ?? 0);
  console.log(`${file}: ${(total / 1e6).toFixed(1)} s sampled, ${(busy / 1e6).toFixed(1)} s not idle`);
  console.log('  by area (self time, share of non-idle):');
  for (const [a, t] of [...areas]
    .filter(([a]) => a !== '(idle)')
    .sort((x, y) => y[1] - x[1])
    .slice(0, TOP))
    console.log(`    ${pct(t, busy)} ${(t / 1e6).toFixed(2).padStart(7)} s  ${a}`);
  console.log('  by function (self time):');
  for (const [k, t] of [...self]
    .filter(([k]) => !k.startsWith('(idle)'))
    .sort((x, y) => y[1] - x[1])
    .slice(0, TOP))
    console.log(`    ${pct(t, busy)} ${(t / 1e6).toFixed(2).padStart(7)} s  ${k}`);
}

function heapSnapshot(file: string) {
  const snapshot = JSON.parse(readFileSync(file, 'utf8')) as {
    snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
    nodes: number[];
    strings: string[];
  };
  const fields = snapshot.snapshot.meta.node_fields;
  const types = snapshot.snapshot.meta.node_types[0];
  const [typeAt, nameAt, sizeAt] = ['type', 'name', 'self_size'].map((f) => fields.indexOf(f)) as [number, number, number];
  const stride = fields.length;
  const groups = new Map<string, { size: number; count: number }>();
  let total = 0;
  for (let i = 0; i < snapshot.nodes.length; i += stride) {
    const type = types[snapshot.nodes[i + typeAt]!]!;
    const name = snapshot.strings[snapshot.nodes[i + nameAt]!]!;
    const size = snapshot.nodes[i + sizeAt]!;
    total += size;
    // Objects by constructor; strings, code, arrays and the rest by their type.
    const key = type === 'object' ? `${name}` : type === 'closure' ? '(closure)' : `(${type})`;
    const g = groups.get(key) ?? { size: 0, count: 0 };
    g.size += size;
    g.count++;
    groups.set(key, g);
  }
  console.log(
    `${file}: ${(total / 2 ** 20).toFixed(1)} MiB in ${(snapshot.nodes.length / stride).toLocaleString()} heap objects (self sizes; the V8 heap only, not RSS)`,
  );
  for (const [k, g] of [...groups].sort((a, b) => b[1].size - a[1].size).slice(0, TOP)) {
    console.log(`    ${pct(g.size, total)} ${(g.size / 2 ** 20).toFixed(2).padStart(8)} MiB ${String(g.count).padStart(9)} x  ${k}`);
  }
}

function goProfile(file: string) {
  const heap = file.includes('.heap.');
  const args = ['tool', 'pprof', '-top', `-nodecount=${TOP}`, ...(heap ? ['-sample_index=inuse_space'] : []), file];
  console.log(`${file}:`);
  console.log(execFileSync('go', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).replace(/^/gm, '    '));
}

for (const file of positionals) {
  if (file.endsWith('.cpuprofile')) cpuProfile(file);
  else if (file.endsWith('.heapsnapshot')) heapSnapshot(file);
  else if (file.endsWith('.pprof')) goProfile(file);
  else console.log(`${file}: not a profile this script reads`);
}
