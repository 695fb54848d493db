// Runs `spiceai-operator run` as a separate process against the test
// cluster, the way a user runs it, and reads its JSON log lines.
import { spawn, type ChildProcess } from 'node:child_process';
import { testKubeconfig } from './kube.ts';

// SPICEAI_OPERATOR_BIN runs another build, e.g. the bundle (dist/spiceai-operator.mjs);
// SPICEAI_OPERATOR_NODE_FLAGS adds flags to its node command line (e.g. --cpu-prof);
// SPICEAI_OPERATOR_NODE runs it on another Node binary (e.g. the image's Node 24; default this one);
// SPICEAI_OPERATOR_ENV ("NAME=value ...") adds to its environment (e.g. the image's ENV).
export const LOOPBACK_GUARD = new URL('./loopback-fetch-guard.mjs', import.meta.url).href;
// Both are read when an operator starts, so a script may set them after importing this module.
const operatorBin = () => process.env.SPICEAI_OPERATOR_BIN ?? new URL('../../bin/spiceai-operator.mjs', import.meta.url).pathname;

const STOP_TIMEOUT_MS = 60_000;

export interface OperatorProcess {
  child: ChildProcess;
  httpPort: number;
  metricsPort: number;
  /** The --health-probe-bind-address port, when one was given. */
  probePort?: number;
  logs: Record<string, any>[];
  /** SIGTERM and wait for a clean exit; returns the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL: a crash, nothing finishes. */
  kill(): Promise<void>;
  waitForLog(predicate: (line: Record<string, any>) => boolean, timeoutMs?: number): Promise<Record<string, any>>;
}

export async function startOperator(args: string[] = []): Promise<OperatorProcess> {
  const child = spawn(
    process.env.SPICEAI_OPERATOR_NODE || process.execPath,
    [
      ...(process.env.SPICEAI_OPERATOR_NODE_FLAGS?.split(' ').filter(Boolean) ?? []),
      // SPICEAI_TEST_OPERATOR_KUBECONFIG: the operator acts with other credentials (the chart's ServiceAccount).
      operatorBin(),
      'run',
      '--kubeconfig',
      process.env.SPICEAI_TEST_OPERATOR_KUBECONFIG || testKubeconfig(),
      '--http-endpoint',
      '127.0.0.1:0',
      // Loopback, any free port, unless the test names the address (by either spelling).
      ...(args.includes('--metrics-bind-address') ? [] : ['--metrics-endpoint', '127.0.0.1:0']),
      ...(args.includes('--webhook-bind-address') ? [] : ['--webhook-endpoint', '127.0.0.1:0']),
      // The sidecar injector registers a cluster-wide webhook: only the tests that want it turn it on.
      ...(args.includes('--enable-sidecar-injector') ? [] : ['--no-sidecar-injector']),
      // Conversion is registered in the cluster-wide CRDs (a CRD write restarts every watch of it): the same.
      ...(args.includes('--enable-crd-webhooks') ? [] : ['--no-crd-webhooks']),
      ...args,
    ],
    // Every operator a test starts may reach loopback only: kwok pods have 10.0.0.0/16 IPs that are not
    // on this machine, and the status API's probes must not leave it (harness/loopback-fetch-guard.mjs).
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        ...Object.fromEntries(
          (process.env.SPICEAI_OPERATOR_ENV?.split(' ').filter(Boolean) ?? []).map((p) => p.split(/=(.*)/s).slice(0, 2)),
        ),
        NODE_OPTIONS: [process.env.NODE_OPTIONS, `--import=${LOOPBACK_GUARD}`].filter(Boolean).join(' '),
      },
    },
  );
  const logs: Record<string, any>[] = [];
  const waiters: { predicate: (l: Record<string, any>) => boolean; resolve: (l: Record<string, any>) => void }[] = [];
  let buffer = '';
  let stderrText = '';
  child.stderr!.on('data', (chunk) => {
    buffer += chunk;
    stderrText += chunk;
    let nl: number;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      let parsed: Record<string, any>;
      try {
        parsed = JSON.parse(line);
      } catch {
        parsed = { msg: line, raw: true };
      }
      logs.push(parsed);
      for (const w of [...waiters]) {
        if (w.predicate(parsed)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(parsed);
        }
      }
      if (process.env.VERBOSE_TESTS) process.stderr.write(`[operator ${child.pid}] ${line}\n`);
    }
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const waitForLog = (predicate: (l: Record<string, any>) => boolean, timeoutMs = 60_000) => {
    const found = logs.find(predicate);
    if (found) return Promise.resolve(found);
    return new Promise<Record<string, any>>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`operator log line not seen in ${timeoutMs}ms; stderr:\n${stderrText.slice(-3000)}`)),
        timeoutMs,
      );
      waiters.push({ predicate, resolve: (l) => (clearTimeout(timer), resolve(l)) });
      void exited.then((code) => reject(new Error(`operator exited (${code}) before the log line; stderr:\n${stderrText.slice(-3000)}`)));
    });
  };
  const serving = await waitForLog((l) => l.msg === 'serving');
  await waitForLog((l) => l.msg === 'controller started');
  return {
    child,
    httpPort: Number(String(serving.http).split(':').pop()),
    metricsPort: Number(String(serving.metrics).split(':').pop()),
    probePort: serving.probes ? Number(String(serving.probes).split(':').pop()) : undefined,
    logs,
    waitForLog,
    async stop() {
      child.kill('SIGTERM');
      // A graceful stop that hangs is a bug: fail with the operator's last words instead of waiting forever.
      let timer: ReturnType<typeof setTimeout> | undefined;
      const hung = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          child.kill('SIGKILL');
          reject(new Error(`operator did not stop within ${STOP_TIMEOUT_MS / 1000}s of SIGTERM; stderr:\n${stderrText.slice(-3000)}`));
        }, STOP_TIMEOUT_MS);
      });
      try {
        return await Promise.race([exited, hung]);
      } finally {
        clearTimeout(timer);
      }
    },
    async kill() {
      child.kill('SIGKILL');
      await exited;
    },
  };
}
