// npm run crds: regenerate crds/ from core/spec. npm run crds:check: fail if stale.
import { readFileSync, writeFileSync } from 'node:fs';
import { stringify } from 'yaml';
import { allCrds } from '../core/spec/crds.ts';

const HEADER = '# Generated from core/spec by `npm run crds`. Do not edit.\n';

export function expectedCrdFiles(): Map<string, string> {
  const files = new Map<string, string>();
  for (const crd of allCrds()) {
    const name = (crd.metadata as { name: string }).name;
    files.set(`crds/${name}.yaml`, HEADER + stringify(crd, { lineWidth: 0 }));
    // The chart installs the same CRDs (installCRDs).
    files.set(`chart/files/crds/${name}.yaml`, HEADER + stringify(crd, { lineWidth: 0 }));
  }
  return files;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const mode = process.argv[2];
  const root = new URL('..', import.meta.url).pathname;
  let stale = 0;
  for (const [path, text] of expectedCrdFiles()) {
    let current = '';
    try {
      current = readFileSync(root + path, 'utf8');
    } catch {}
    if (current === text) continue;
    if (mode === 'write') {
      writeFileSync(root + path, text);
      console.log(`wrote ${path}`);
    } else {
      console.error(`${path} is stale: run npm run crds`);
      stale++;
    }
  }
  process.exitCode = stale ? 1 : 0;
}
