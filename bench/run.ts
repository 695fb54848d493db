// npm run bench: every benchmark in turn. Each prints ratios measured in the
// same run against a baseline on this machine; none asserts a threshold.
import { spawnSync } from 'node:child_process';

const benches = ['bench/pki.ts', 'bench/client.ts', 'bench/workloads.ts', 'bench/injection.ts', 'bench/crd-webhooks.ts', 'bench/hooks.ts'];
let failed = 0;
for (const bench of benches) {
  console.log(`== ${bench}`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', bench, ...process.argv.slice(2)], { stdio: 'inherit' });
  if (r.status !== 0) failed++;
}
process.exitCode = failed ? 1 : 0;
