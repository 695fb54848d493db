// npm run up: a local control plane, the CRDs, the operator, the examples,
// Ready, and the status API's answer. npm run down: stop all of it.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { defaultStateDir, startControlPlane, stopControlPlane } from '../test/controlplane/cluster.ts';
import { LOOPBACK_GUARD } from '../test/harness/operator.ts';
import { kubectlPath } from '../test/harness/tools.ts';

const root = new URL('..', import.meta.url).pathname;
const stateDir = defaultStateDir();
const pidFile = join(stateDir, 'operator.pid');
const say = (line: string) => process.stdout.write(`${line}\n`);

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}

function kubectl(kubeconfig: string, args: string[], input?: string): string {
  const r = spawnSync(kubectlPath(), ['--kubeconfig', kubeconfig, ...args], { encoding: 'utf8', input });
  if (r.status !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr.trim()}`);
  return r.stdout;
}

function stopOperator(): void {
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8'));
  try {
    // Only our operator: the recorded pid must still be running our CLI.
    if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('spiceai-operator')) process.kill(pid, 'SIGTERM');
  } catch {}
  rmSync(pidFile, { force: true });
}

async function up(): Promise<void> {
  say('starting the control plane (the first run builds it from source: about 15 minutes)…');
  const cp = await startControlPlane({ stateDir, log: (m) => say(`  ${m}`) });
  const kubeconfig = cp.kubeconfigPath;
  say('installing the CRDs…');
  const crd = spawnSync(process.execPath, [join(root, 'bin/spiceai-operator.mjs'), 'crd', '--apply', '--kubeconfig', kubeconfig], {
    encoding: 'utf8',
  });
  if (crd.status !== 0) throw new Error(crd.stderr.trim());
  spawnSync(kubectlPath(), ['--kubeconfig', kubeconfig, 'create', 'namespace', 'spiceai-operator-system'], { encoding: 'utf8' });

  stopOperator();
  const [http, metrics, webhook] = [await freePort(), await freePort(), await freePort()];
  mkdirSync(join(stateDir, 'logs'), { recursive: true });
  const log = openSync(join(stateDir, 'logs', 'operator.log'), 'a');
  const operator = spawn(
    process.execPath,
    [
      join(root, 'bin/spiceai-operator.mjs'),
      'run',
      '--kubeconfig',
      kubeconfig,
      '--http-endpoint',
      `127.0.0.1:${http}`,
      '--metrics-endpoint',
      `127.0.0.1:${metrics}`,
      '--webhook-endpoint',
      `127.0.0.1:${webhook}`,
      '--webhook-url',
      `https://127.0.0.1:${webhook}/mutate`,
    ],
    // Pods on kwok's fake nodes have IPs that are not on this machine: the status API may probe loopback only.
    { detached: true, stdio: ['ignore', log, log], env: { ...process.env, NODE_OPTIONS: `--import=${LOOPBACK_GUARD}` } },
  );
  operator.unref();
  writeFileSync(pidFile, String(operator.pid));
  say(`operator started (pid ${operator.pid}; logs: ${join(stateDir, 'logs', 'operator.log')})`);

  say('applying examples/spicepodset-minimal.yaml and examples/spicepodcluster.yaml…');
  for (const example of ['spicepodset-minimal.yaml', 'spicepodcluster.yaml']) {
    kubectl(kubeconfig, ['apply', '--server-side', '-f', join(root, 'examples', example)]);
  }
  const deadline = Date.now() + 180_000;
  for (;;) {
    const ready = (kind: string, name: string) =>
      spawnSync(
        kubectlPath(),
        ['--kubeconfig', kubeconfig, 'get', kind, name, '-n', 'default', '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}'],
        { encoding: 'utf8' },
      ).stdout === 'True';
    if (ready('spicepodset', 'my-spicepod') && ready('spicepodcluster', 'my-cluster')) break;
    if (Date.now() > deadline)
      throw new Error(`the examples did not become Ready in 3 minutes; see ${join(stateDir, 'logs', 'operator.log')}`);
    await new Promise((r) => setTimeout(r, 1000));
  }
  say('both examples are Ready:');
  say(kubectl(kubeconfig, ['get', 'spice', '-n', 'default']).trimEnd());
  const status = await (await fetch(`http://127.0.0.1:${http}/default/my-spicepod`)).json();
  say(`\nstatus API: GET http://127.0.0.1:${http}/default/my-spicepod`);
  say(JSON.stringify(status, null, 2));
  say('(kwok simulates the pods: nothing runs spiced at their IPs, so health and readiness read "unreachable")');
  say(`\nkubectl: ${kubectlPath()}`);
  say('stop everything with: npm run down');
  say(`export KUBECONFIG=${kubeconfig}`);
}

async function down(): Promise<void> {
  stopOperator();
  await stopControlPlane(stateDir);
  say('stopped the operator and the control plane');
}

try {
  await (process.argv[2] === 'down' ? down() : up());
} catch (error) {
  process.stderr.write(`${process.argv[2] === 'down' ? 'down' : 'up'}: ${(error as Error).message}\n`);
  process.exitCode = 1;
}
