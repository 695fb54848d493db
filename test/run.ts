// `npm test`: unit tests (uvu, one process per file, two at a time), then the
// integration tests against a real control plane started here once for all
// of them. Ends with the line "N passed, N failed" (CI reads it).
//
//   --unit / --integration   run only one half
//   --filter TEXT[,TEXT]     only files whose path contains one of the TEXTs
//   --no-chart-rbac          skip the second pass of scenarios under the chart's RBAC
//   SPICEAI_TEST_KUBECONFIG  use an already running cluster instead of starting one
//   SPICEAI_TEST_AUDIT_LOG   with it: that cluster's API audit log (write verbs), for write counting
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';

const root = new URL('..', import.meta.url).pathname;
const { values } = parseArgs({
  options: {
    unit: { type: 'boolean' },
    integration: { type: 'boolean' },
    filter: { type: 'string' },
    'no-chart-rbac': { type: 'boolean' },
  },
});
/** Scenario files run a second time with the operator under the chart's RBAC. */
const CHART_RBAC_SCENARIOS = ['workloads', 'cluster', 'injection', 'status'];
const wantUnit = values.unit || !values.integration;
const wantIntegration = values.integration || !values.unit;

function testFiles(dir: string): string[] {
  let out: string[] = [];
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) out = out.concat(testFiles(path));
    else if (entry.endsWith('.test.ts') && (!values.filter || values.filter.split(',').some((f) => path.includes(f)))) out.push(path);
  }
  return out.sort();
}

interface Totals {
  passed: number;
  failed: number;
  skipped: number;
}
const totals: Totals = { passed: 0, failed: 0, skipped: 0 };
/** A test file still running after this long has hung: it is stopped and counted as failed. */
const FILE_TIMEOUT_S = Number(process.env.SPICEAI_TEST_FILE_TIMEOUT_S ?? 900);
// Test files run in their own process groups: a Ctrl-C or SIGTERM here stops them too.
const running = new Set<number>();
const killGroup = (pid: number) => {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // already gone
  }
};
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    running.forEach(killGroup);
    process.kill(process.pid, signal);
  });
}

function runFile(file: string, env: NodeJS.ProcessEnv, suffix = ''): Promise<void> {
  return new Promise((resolve) => {
    const started = Date.now();
    // Its own process group, so that a file that hangs is stopped together with the operators it started.
    const child = spawn(process.execPath, ['--import', 'tsx', file], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    running.add(child.pid!);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child.pid!);
    }, FILE_TIMEOUT_S * 1000);
    child.on('close', (code) => {
      running.delete(child.pid!);
      clearTimeout(timer);
      if (timedOut) {
        totals.failed += 1;
        process.stdout.write(
          `\n✘ ${relative(root, file)}${suffix}: still running after ${FILE_TIMEOUT_S}s, stopped (SPICEAI_TEST_FILE_TIMEOUT_S); its output so far:\n${output}\n`,
        );
        resolve();
        return;
      }
      const num = (label: string) => Number(new RegExp(`${label}:\\s+(\\d+)`).exec(output)?.[1] ?? NaN);
      const total = num('Total');
      const passed = num('Passed');
      const skipped = num('Skipped');
      const name = relative(root, file) + suffix;
      const seconds = ((Date.now() - started) / 1000).toFixed(1);
      if (Number.isNaN(total)) {
        totals.failed += 1;
        process.stdout.write(`\n✘ ${name}: exited ${code} without a uvu summary (${seconds}s)\n${output}\n`);
      } else {
        const failed = total - passed - skipped + (code !== 0 && total === passed ? 1 : 0);
        totals.passed += passed;
        totals.failed += failed;
        totals.skipped += skipped;
        const mark = failed ? '✘' : '✔';
        process.stdout.write(`${mark} ${name}: ${passed}/${total} passed${skipped ? `, ${skipped} skipped` : ''} (${seconds}s)\n`);
        if (failed || process.env.VERBOSE_TESTS) process.stdout.write(`${output}\n`);
      }
      resolve();
    });
  });
}

async function runAll(files: string[], env: NodeJS.ProcessEnv, parallel: number, suffix = ''): Promise<void> {
  const queue = [...files];
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      for (let file = queue.shift(); file; file = queue.shift()) await runFile(file, env, suffix);
    }),
  );
}

if (wantUnit) {
  const files = testFiles(join(root, 'test', 'unit'));
  process.stdout.write(`unit tests: ${files.length} files\n`);
  await runAll(files, { ...process.env, SPICEAI_TEST_KIND: 'unit' }, 2);
}

if (wantIntegration) {
  const files = testFiles(join(root, 'test', 'integration'));
  if (files.length) {
    let kubeconfig = process.env.SPICEAI_TEST_KUBECONFIG;
    let auditLog = process.env.SPICEAI_TEST_AUDIT_LOG ?? '';
    let stop = async () => {};
    if (!kubeconfig) {
      const { startControlPlane } = await import('./controlplane/cluster.ts');
      process.stdout.write('integration tests: starting the control plane (kube-apiserver, etcd, controller-manager, scheduler, kwok)\n');
      const started = Date.now();
      const cp = await startControlPlane({
        stateDir: join(root, '.cache', 'test-cluster'),
        attached: true,
        log: (msg: string) => process.stdout.write(`  ${msg}\n`),
      });
      kubeconfig = cp.kubeconfigPath;
      auditLog = cp.auditLogPath;
      stop = () => cp.stop();
      process.stdout.write(`integration tests: control plane up at ${cp.server} in ${((Date.now() - started) / 1000).toFixed(0)}s\n`);
    }
    try {
      const { kubectlPath } = await import('./harness/tools.ts');
      const version = await new Promise<string>((resolve) => {
        const child = spawn(kubectlPath(), ['version', '-o', 'json', '--kubeconfig', kubeconfig!]);
        let out = '';
        child.stdout.on('data', (d) => (out += d));
        child.on('close', () => {
          try {
            resolve(JSON.parse(out).serverVersion.gitVersion);
          } catch {
            resolve('unknown version');
          }
        });
      });
      process.stdout.write(`integration tests: ${files.length} files against a real kube-apiserver ${version}\n`);
      const env = {
        ...process.env,
        SPICEAI_TEST_KIND: 'integration',
        SPICEAI_TEST_KUBECONFIG: kubeconfig,
        SPICEAI_TEST_AUDIT_LOG: auditLog,
      };
      await runAll(files, env, 1);
      // The same scenarios again with the operator holding only what the Helm chart grants it.
      const underChart = files.filter((f) => CHART_RBAC_SCENARIOS.some((name) => f.endsWith(`/${name}.test.ts`)));
      if (underChart.length && !values['no-chart-rbac']) {
        const { chartServiceAccountKubeconfig } = await import('./harness/chart.ts');
        const saKubeconfig = chartServiceAccountKubeconfig(kubeconfig!, mkdtempSync(join(tmpdir(), 'chart-rbac-')));
        process.stdout.write(
          `integration tests: ${underChart.length} files again, the operator running with the chart's ServiceAccount token and RBAC\n`,
        );
        await runAll(underChart, { ...env, SPICEAI_TEST_OPERATOR_KUBECONFIG: saKubeconfig }, 1, ' [chart RBAC]');
      }
    } finally {
      await stop();
    }
  }
}

process.stdout.write(`\n${totals.passed} passed, ${totals.failed} failed${totals.skipped ? `, ${totals.skipped} skipped` : ''}\n`);
process.exitCode = totals.failed || totals.skipped ? 1 : 0;
