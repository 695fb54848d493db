// A real, local Kubernetes control plane for integration tests and developers:
// etcd + kube-apiserver + kube-controller-manager + kube-scheduler, and kwok
// standing in for kubelets. Binaries come from ./build.sh (built once from
// pinned Go modules and cached), so no Docker and no network are needed.
//
//   node --import tsx test/controlplane/cluster.ts up|down|status [--state-dir D] [--nodes N]
//
// Everything listens on 127.0.0.1 on ports picked at start. State (pki, etcd
// data, logs, pids) lives in one directory; `up` on a directory left by a crash
// kills what is still recorded there and starts fresh.
//
// Fake nodes and pods (kwok, stages in ./kwok-stages.yaml, written to
// stateDir/kwok.yaml and passed with --config; kwok has no built-in stages):
// - Nodes kwok-node-0..N-1 (annotation kwok.x-k8s.io/node=fake, label type=kwok)
//   become Ready; leases are renewed, so they stay Ready.
// - Pods scheduled there become Running + Ready with a pod IP from 10.0.0.0/16
//   (images are never pulled; `busybox` is fine). Job pods complete. Deleted
//   pods disappear immediately.
// - Annotation kwok.spiceai.io/ready-delay: "3s" keeps a pod Pending that long
//   before it becomes Running and Ready (to catch a rollout in flight).
// - To make a pod fail on purpose:
//   * label or annotation  kwok.spiceai.io/crashloop: "true"  (ours) ->
//     stays phase Running, never Ready, containers waiting with reason
//     CrashLoopBackOff and restartCount +1 every 2-4 s (annotation
//     kwok.spiceai.io/crashloop-delay: "500ms" changes the interval). This is
//     what a kubelet shows for a crashing Deployment/StatefulSet pod.
//   * label pod-container-running-failed.stage.kwok.x-k8s.io: "true" (kwok's
//     chaos stage) -> after ~1-2 s Running becomes phase Failed, container
//     terminated with exit code 1 (what restartPolicy Never looks like).
//   * label pod-init-container-running-failed.stage.kwok.x-k8s.io: "true" ->
//     Pending becomes phase Failed with a failed init container.
//
// Every component has its own client certificate (all in system:masters), so
// the audit log (ControlPlane.auditLogPath; write verbs only, level Metadata)
// can be filtered by user: "admin" is the kubeconfig handed out to tests and
// developers, system:kube-controller-manager, system:kube-scheduler and
// system:kwok-controller are the control plane's own writes.
//
// Webhooks: the API server can call admission webhooks registered with a
// clientConfig.url on https://127.0.0.1:<port>. Service-based webhook
// references cannot work (there is no service network here).
import { spawn, spawnSync } from 'node:child_process';
import {
  closeSync,
  existsSync,
  linkSync,
  mkdirSync,
  openSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ensurePki, kubeconfigYaml, pkiPaths, type Pki } from './pki.ts';

const HERE = dirname(fileURLToPath(import.meta.url));
const CONTEXT = 'spiceai-dev';
const SERVICE_CIDR = '10.96.0.0/16';
const ISSUER = 'https://kubernetes.default.svc.cluster.local';
const STEP_TIMEOUT_MS = 120_000;
const STOP_GRACE_MS = 10_000;

export interface ControlPlane {
  kubeconfigPath: string;
  /** https://127.0.0.1:<port> */
  server: string;
  stateDir: string;
  binDir: string;
  /** JSON lines, one per completed write request (create/update/patch/delete/deletecollection). */
  auditLogPath: string;
  logsDir: string;
  caCertPath: string;
  /**
   * true when startControlPlane found this state dir already running and
   * healthy (e.g. a developer's `up`) and reused it instead of starting one.
   */
  reused: boolean;
  /**
   * Stops the processes this call started and waits for them to exit. A no-op
   * when reused: whoever started them stops them (stopControlPlane / `down`).
   */
  stop(): Promise<void>;
}

export interface StartOptions {
  stateDir?: string;
  nodes?: number;
  log?: (msg: string) => void;
  extraApiServerFlags?: string[];
  /**
   * Tie the processes to this Node process: they are killed on its exit,
   * SIGINT or SIGTERM, and share its process group (a terminal Ctrl-C or a
   * group kill reaches them too). On Linux with util-linux `setpriv` they also
   * get a parent-death signal, so they die even if this process is SIGKILLed
   * (call startControlPlane from the main thread: the signal fires when the
   * spawning thread exits). Meant for test runners. Without it they are
   * detached and outlive the caller (the CLI `up`).
   */
  attached?: boolean;
}

type Component = 'etcd' | 'kube-apiserver' | 'kube-controller-manager' | 'kube-scheduler' | 'kwok';
const COMPONENTS: Component[] = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kwok'];

interface ProcessRecord {
  name: Component;
  pid: number;
  bin: string;
}
interface State {
  binDir: string;
  server: string;
  nodes: number;
  processes: ProcessRecord[];
}

export function defaultStateDir(): string {
  const cache = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(cache, 'spiceai-operator', 'cluster', 'dev');
}

class ControlPlaneError extends Error {}

// ---------------------------------------------------------------- paths/state

function paths(stateDir: string) {
  return {
    state: join(stateDir, 'state.json'),
    lock: join(stateDir, 'lock'),
    logs: join(stateDir, 'logs'),
    log: (c: string) => join(stateDir, 'logs', `${c}.log`),
    audit: join(stateDir, 'logs', 'audit.log'),
    auditPolicy: join(stateDir, 'audit-policy.yaml'),
    kwokConfig: join(stateDir, 'kwok.yaml'),
    kubeconfig: join(stateDir, 'kubeconfig'),
    componentKubeconfig: (c: string) => join(stateDir, 'pki', `${c}.kubeconfig`),
    etcdData: join(stateDir, 'etcd'),
    run: join(stateDir, 'run'),
    pki: join(stateDir, 'pki'),
  };
}

function readState(stateDir: string): State | undefined {
  try {
    return JSON.parse(readFileSync(paths(stateDir).state, 'utf8')) as State;
  } catch {
    return undefined;
  }
}

function writeState(stateDir: string, state: State): void {
  const file = paths(stateDir).state;
  writeFileSync(`${file}.tmp`, JSON.stringify(state, null, 2));
  renameSync(`${file}.tmp`, file);
}

// A recorded pid only counts as ours while it still runs the binary we
// started; after a reboot or crash the number may belong to someone else.
// Zombies have an empty cmdline, so they count as gone too.
function isOurs(rec: ProcessRecord): boolean {
  try {
    process.kill(rec.pid, 0);
  } catch {
    return false; // gone, or (EPERM) not even our user's
  }
  if (process.platform !== 'linux') return true;
  try {
    // argv[0] once running; an argument of setpriv in the instant before it execs.
    return readFileSync(`/proc/${rec.pid}/cmdline`, 'utf8').split('\0').includes(rec.bin);
  } catch {
    return false;
  }
}

let pdeathsig: boolean | undefined;
function parentDeathSignalWorks(): boolean {
  pdeathsig ??=
    process.platform === 'linux' && spawnSync('setpriv', ['--pdeathsig', 'KILL', '--', 'true'], { stdio: 'ignore' }).status === 0;
  return pdeathsig;
}

// Serialises up/down on one state dir across processes (and within one: a
// second start on the same dir while the first runs is refused too).
async function withLock<T>(stateDir: string, fn: () => Promise<T>): Promise<T> {
  const lock = paths(stateDir).lock;
  mkdirSync(stateDir, { recursive: true });
  // link() publishes a lock file that already holds our pid, so nobody can
  // observe it empty and mistake it for stale.
  const mine = `${lock}.${process.pid}.${Date.now()}`;
  writeFileSync(mine, String(process.pid));
  try {
    for (;;) {
      try {
        linkSync(mine, lock);
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        const holder = Number(readFileSync(lock, 'utf8').trim());
        let alive = false;
        try {
          process.kill(holder, 0);
          alive = true;
        } catch {
          /* gone */
        }
        if (alive) {
          throw new ControlPlaneError(
            `controlplane: ${stateDir} is in use by process ${holder} (another up/down?); remove ${lock} if that is wrong`,
          );
        }
        rmSync(lock, { force: true });
      }
    }
  } finally {
    rmSync(mine, { force: true });
  }
  try {
    return await fn();
  } finally {
    rmSync(lock, { force: true });
  }
}

// ---------------------------------------------------------------- helpers

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function freePorts(n: number): Promise<number[]> {
  // Hold all listeners open until every port is known so the kernel cannot
  // hand out the same port twice.
  const servers = await Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<Server>((res, rej) => {
          const srv = createServer();
          srv.on('error', rej);
          srv.listen(0, '127.0.0.1', () => res(srv));
        }),
    ),
  );
  const ports = servers.map((s) => (s.address() as AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

function tail(file: string, lines = 40): string {
  try {
    const all = readFileSync(file, 'utf8').trimEnd().split('\n');
    return all.slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

function componentError(stateDir: string, component: Component, what: string): ControlPlaneError {
  const log = paths(stateDir).log(component);
  return new ControlPlaneError(
    `controlplane: ${component}: ${what}\n--- last lines of ${log} ---\n${tail(log)}\n--- end of ${component} log ---`,
  );
}

interface HttpResult {
  status: number;
  text: string;
  json: any;
}

function request(url: string, opts: https.RequestOptions & { body?: unknown }): Promise<HttpResult> {
  return new Promise((res, rej) => {
    const body = opts.body === undefined ? undefined : JSON.stringify(opts.body);
    const mod = url.startsWith('https:') ? https : http;
    const req = mod.request(
      url,
      {
        ...opts,
        agent: false,
        timeout: 10_000,
        headers: {
          accept: 'application/json',
          ...(body ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } : {}),
        },
      },
      (resp) => {
        const chunks: Buffer[] = [];
        resp.on('data', (c: Buffer) => chunks.push(c));
        resp.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          res({ status: resp.statusCode ?? 0, text, json });
        });
        resp.on('error', rej);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`timeout: ${url}`)));
    req.on('error', rej);
    req.end(body);
  });
}

/** Minimal admin client: enough for readiness checks without any dependency. */
function kubeClient(server: string, pki: Pki) {
  const tls = {
    ca: readFileSync(pki.caCert),
    cert: readFileSync(pki.client('admin').cert),
    key: readFileSync(pki.client('admin').key),
  };
  return (method: string, path: string, body?: unknown) => request(server + path, { method, body, ...tls });
}
type Kube = ReturnType<typeof kubeClient>;

// ---------------------------------------------------------------- build

async function resolveBinDir(log: (m: string) => void): Promise<string> {
  if (process.env.SPICEAI_CP_BIN_DIR) return process.env.SPICEAI_CP_BIN_DIR;
  const script = join(HERE, 'build.sh');
  return new Promise((res, rej) => {
    const child = spawn('bash', [script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    // Streamed line by line: the first build takes many minutes and the user
    // should see that something is happening.
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
      const lines = err.split('\n');
      err = lines.pop() ?? '';
      for (const l of lines) if (l) log(l);
    });
    child.on('error', rej);
    child.on('close', (code) => {
      if (err) log(err);
      const dir = out.trim().split('\n').pop() ?? '';
      if (code !== 0 || !dir) rej(new ControlPlaneError(`controlplane: ${script} failed (exit ${code})`));
      else res(dir);
    });
  });
}

// ---------------------------------------------------------------- config files

// Only writes, at Metadata level, once per request (ResponseComplete): tests
// count the operator's writes by user from this file.
const AUDIT_POLICY = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: ["RequestReceived"]
rules:
- level: Metadata
  verbs: ["create", "update", "patch", "delete", "deletecollection"]
- level: None
`;

// Only Stages: a KwokConfiguration loaded from a file is not defaulted by kwok
// v0.8.0 (e.g. node lease parallelism stays 0 and kwok exits), whereas with no
// such object kwok builds a defaulted one, and the flags below set the rest.
function kwokConfig(): string {
  return readFileSync(join(HERE, 'kwok-stages.yaml'), 'utf8');
}

function nodeObject(i: number) {
  const resources = { cpu: '32', memory: '256Gi', pods: '110' };
  const name = `kwok-node-${i}`;
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      annotations: { 'kwok.x-k8s.io/node': 'fake', 'node.alpha.kubernetes.io/ttl': '0' },
      labels: {
        type: 'kwok',
        'kubernetes.io/hostname': name,
        'kubernetes.io/os': 'linux',
        'kubernetes.io/arch': 'amd64',
      },
    },
    // Nodes are the one kind whose status is accepted on create; kwok's
    // node-initialize stage keeps allocatable/capacity when present.
    status: { allocatable: resources, capacity: resources },
  };
}

// ---------------------------------------------------------------- start

export async function startControlPlane(opts: StartOptions = {}): Promise<ControlPlane> {
  const stateDir = resolve(opts.stateDir ?? defaultStateDir());
  const log = opts.log ?? ((m: string) => process.stderr.write(`controlplane: ${m}\n`));
  const nodes = opts.nodes ?? 2;
  const binDir = await resolveBinDir(log);
  return withLock(stateDir, async () => {
    const existing = await healthy(stateDir);
    if (existing) {
      log(`already running in ${stateDir} (${existing.server})`);
      return handle(stateDir, existing, true);
    }
    if (readState(stateDir)) {
      log(`cleaning up previous run in ${stateDir}`);
      await stopLocked(stateDir);
    }
    const started = Date.now();
    let detachHandlers = () => {};
    try {
      const state = await launch(stateDir, binDir, nodes, opts, log, (h) => {
        detachHandlers = h;
      });
      log(`ready in ${((Date.now() - started) / 1000).toFixed(1)}s: ${state.server}`);
      const cp = handle(stateDir, state, false);
      const stop = cp.stop;
      cp.stop = async () => {
        detachHandlers();
        await stop();
      };
      return cp;
    } catch (err) {
      detachHandlers();
      await stopLocked(stateDir).catch(() => {});
      throw err;
    }
  });
}

function handle(stateDir: string, state: State, reused: boolean): ControlPlane {
  const p = paths(stateDir);
  return {
    kubeconfigPath: p.kubeconfig,
    server: state.server,
    stateDir,
    binDir: state.binDir,
    auditLogPath: p.audit,
    logsDir: p.logs,
    caCertPath: join(p.pki, 'ca.crt'),
    reused,
    stop: reused ? async () => {} : () => stopControlPlane(stateDir),
  };
}

/** The recorded state if every component still runs and the API server is ready. */
async function healthy(stateDir: string): Promise<State | undefined> {
  const state = readState(stateDir);
  if (!state) return undefined;
  const running = new Set(state.processes.filter(isOurs).map((r) => r.name));
  if (!COMPONENTS.every((c) => running.has(c))) return undefined;
  try {
    const kube = kubeClient(state.server, pkiPaths(paths(stateDir).pki));
    const r = await kube('GET', '/readyz');
    return r.status === 200 ? state : undefined;
  } catch {
    return undefined;
  }
}

async function launch(
  stateDir: string,
  binDir: string,
  nodes: number,
  opts: StartOptions,
  log: (m: string) => void,
  setDetach: (h: () => void) => void,
): Promise<State> {
  const p = paths(stateDir);
  // Fresh data and logs on every start: a half-dead previous run must not leak
  // objects or audit entries into this one. The previous logs stay for a post-mortem.
  rmSync(p.etcdData, { recursive: true, force: true });
  rmSync(p.run, { recursive: true, force: true });
  rmSync(`${p.logs}.prev`, { recursive: true, force: true });
  if (existsSync(p.logs)) renameSync(p.logs, `${p.logs}.prev`);
  mkdirSync(p.logs, { recursive: true });
  for (const c of COMPONENTS) mkdirSync(join(p.run, c), { recursive: true });

  const pki = ensurePki(p.pki);
  const [etcdClient, etcdPeer, apiPort, kcmPort, schedPort] = await freePorts(5);
  const server = `https://127.0.0.1:${apiPort}`;
  writeFileSync(p.kubeconfig, kubeconfigYaml({ server, caCert: pki.caCert, ...pki.client('admin'), context: CONTEXT, user: 'admin' }), {
    mode: 0o600,
  });
  for (const c of ['kube-controller-manager', 'kube-scheduler', 'kwok']) {
    writeFileSync(p.componentKubeconfig(c), kubeconfigYaml({ server, caCert: pki.caCert, ...pki.client(c), context: CONTEXT, user: c }), {
      mode: 0o600,
    });
  }
  writeFileSync(p.auditPolicy, AUDIT_POLICY);
  writeFileSync(p.kwokConfig, kwokConfig());

  const state: State = { binDir, server, nodes, processes: [] };
  writeState(stateDir, state);
  const exits = new Map<Component, string>();
  // Once one of several parallel checks fails, the others must stop polling
  // rather than run on against processes that are being torn down.
  let aborted = false;
  const all = (checks: Promise<void>[]) =>
    Promise.all(checks).catch((err: unknown) => {
      aborted = true;
      throw err;
    });

  if (opts.attached) setDetach(attachToProcess(state));

  const deathSignal = opts.attached && parentDeathSignalWorks();
  const start = (name: Component, args: string[], env: NodeJS.ProcessEnv = {}) => {
    const bin = join(binDir, name);
    const fd = openSync(p.log(name), 'a');
    // setpriv execs the binary (same pid) with PR_SET_PDEATHSIG, so the kernel
    // kills it even when this process dies by SIGKILL and no handler runs.
    const [cmd, argv] = deathSignal ? ['setpriv', ['--pdeathsig', 'KILL', '--', bin, ...args]] : [bin, args];
    const child = spawn(cmd, argv, {
      cwd: join(p.run, name),
      env: { ...process.env, ...env },
      stdio: ['ignore', fd, fd],
      detached: !opts.attached,
    });
    closeSync(fd);
    if (child.pid === undefined) throw componentError(stateDir, name, `could not start ${bin}`);
    child.on('exit', (code, sig) => exits.set(name, sig ? `killed by ${sig}` : `exited with code ${code}`));
    child.on('error', (e) => exits.set(name, `failed: ${e.message}`));
    child.unref();
    // Recorded immediately, so a crash of this process mid-start still leaves
    // enough behind for the next up/down to clean up.
    state.processes.push({ name, pid: child.pid, bin });
    writeState(stateDir, state);
  };

  // Polls until check() returns true; fails early if the component exited.
  const waitFor = async (name: Component, what: string, check: () => Promise<boolean>, timeoutMs = STEP_TIMEOUT_MS) => {
    const deadline = Date.now() + timeoutMs;
    let last = '';
    for (;;) {
      if (aborted) throw new ControlPlaneError('aborted');
      const exit = exits.get(name);
      if (exit) throw componentError(stateDir, name, `${exit} while waiting for ${what}`);
      try {
        if (await check()) return;
        last = '';
      } catch (err) {
        last = (err as Error).message;
      }
      if (Date.now() > deadline) {
        throw componentError(
          stateDir,
          name,
          `timed out after ${timeoutMs / 1000}s waiting for ${what}${last ? ` (last error: ${last})` : ''}`,
        );
      }
      await sleep(250);
    }
  };
  const anyExited = () => {
    for (const [name, exit] of exits) throw componentError(stateDir, name, exit);
  };

  log(`starting etcd on 127.0.0.1:${etcdClient}`);
  start('etcd', [
    '--name=controlplane',
    `--data-dir=${p.etcdData}`,
    `--listen-client-urls=http://127.0.0.1:${etcdClient}`,
    `--advertise-client-urls=http://127.0.0.1:${etcdClient}`,
    `--listen-peer-urls=http://127.0.0.1:${etcdPeer}`,
    `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeer}`,
    `--initial-cluster=controlplane=http://127.0.0.1:${etcdPeer}`,
    '--initial-cluster-state=new',
    // The data is thrown away on every start; fsync only costs test time.
    '--unsafe-no-fsync=true',
  ]);
  await waitFor('etcd', 'etcd /health', async () => {
    const r = await request(`http://127.0.0.1:${etcdClient}/health`, { method: 'GET' });
    return r.status === 200 && r.json?.health === 'true';
  });

  log(`starting kube-apiserver on ${server}`);
  start('kube-apiserver', [
    `--etcd-servers=http://127.0.0.1:${etcdClient}`,
    `--secure-port=${apiPort}`,
    '--bind-address=127.0.0.1',
    '--advertise-address=127.0.0.1',
    `--cert-dir=${join(p.run, 'kube-apiserver')}`,
    `--tls-cert-file=${pki.serverCert}`,
    `--tls-private-key-file=${pki.serverKey}`,
    `--client-ca-file=${pki.caCert}`,
    `--service-account-issuer=${ISSUER}`,
    `--service-account-key-file=${pki.saPub}`,
    `--service-account-signing-key-file=${pki.saKey}`,
    `--service-cluster-ip-range=${SERVICE_CIDR}`,
    '--authorization-mode=Node,RBAC',
    // Endpoints may not point at loopback, so reconciling the "kubernetes"
    // Service to 127.0.0.1 fails every 10 s; nothing in-cluster needs it.
    '--endpoint-reconciler-type=none',
    // The same CA, but only the front-proxy-client name may assert identities.
    `--requestheader-client-ca-file=${pki.caCert}`,
    '--requestheader-allowed-names=front-proxy-client',
    '--requestheader-username-headers=X-Remote-User',
    '--requestheader-group-headers=X-Remote-Group',
    '--requestheader-extra-headers-prefix=X-Remote-Extra-',
    `--proxy-client-cert-file=${pki.client('front-proxy-client').cert}`,
    `--proxy-client-key-file=${pki.client('front-proxy-client').key}`,
    '--allow-privileged=true',
    `--audit-policy-file=${p.auditPolicy}`,
    `--audit-log-path=${p.audit}`,
    // No rotation: tests read one file from the start of the run.
    '--audit-log-maxsize=0',
    '--profiling=false',
    ...(opts.extraApiServerFlags ?? []),
  ]);
  const kube = kubeClient(server, pki);
  await waitFor('kube-apiserver', 'GET /readyz = 200', async () => (await kube('GET', '/readyz')).status === 200);

  const kcmKubeconfig = p.componentKubeconfig('kube-controller-manager');
  log('starting kube-controller-manager, kube-scheduler, kwok');
  start('kube-controller-manager', [
    `--kubeconfig=${kcmKubeconfig}`,
    `--authentication-kubeconfig=${kcmKubeconfig}`,
    `--authorization-kubeconfig=${kcmKubeconfig}`,
    `--service-account-private-key-file=${pki.saKey}`,
    `--root-ca-file=${pki.caCert}`,
    `--cluster-signing-cert-file=${pki.caCert}`,
    `--cluster-signing-key-file=${pki.caKey}`,
    '--use-service-account-credentials=false',
    '--leader-elect=false',
    // Nobody allocates pod CIDRs here; kwok hands out pod IPs itself.
    '--controllers=*,-node-ipam-controller',
    `--secure-port=${kcmPort}`,
    '--bind-address=127.0.0.1',
    `--cert-dir=${join(p.run, 'kube-controller-manager')}`,
  ]);
  const schedKubeconfig = p.componentKubeconfig('kube-scheduler');
  start('kube-scheduler', [
    `--kubeconfig=${schedKubeconfig}`,
    `--authentication-kubeconfig=${schedKubeconfig}`,
    `--authorization-kubeconfig=${schedKubeconfig}`,
    '--leader-elect=false',
    `--secure-port=${schedPort}`,
    '--bind-address=127.0.0.1',
    `--cert-dir=${join(p.run, 'kube-scheduler')}`,
    // A pod the scheduler found unschedulable waits for a cluster event (here:
    // its claim bound) to be tried again; when the event is missed, only the
    // periodic flush retries it, after 5 minutes by default. Sig-scheduling
    // keeps that flush because such misses still happen ("we still see some
    // bugs where we fail to move pods due to misconfigured QHints or event
    // handling races", kubernetes/kubernetes#134999). A CI run once waited
    // past a test's 2-minute timeout for a StatefulSet pod whose claim had
    // bound; 30 s bounds that wait without hiding anything of ours.
    '--pod-max-in-unschedulable-pods-duration=30s',
  ]);
  // kwok's HTTP server (logs/exec/port-forward) stays off: it only starts
  // with --server-address or --node-port, and nothing here can reach the fake
  // node IPs anyway.
  start(
    'kwok',
    [
      `--kubeconfig=${p.componentKubeconfig('kwok')}`,
      `--config=${p.kwokConfig}`,
      '--manage-all-nodes=false',
      '--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake',
      '--cidr=10.0.0.1/16',
      '--node-ip=10.0.0.1',
      // Off unless set (kwok's KwokConfiguration has no default for it). With
      // leases the node lifecycle controller sees live nodes from cheap lease
      // renewals, as with a real kubelet, and node-heartbeat-with-lease only
      // rewrites node status every 10 min.
      '--node-lease-duration-seconds=40',
    ],
    {
      // kwok otherwise merges ~/.kwok/kwok.yaml into its config.
      KWOK_WORKDIR: join(p.run, 'kwok'),
    },
  );

  for (let i = 0; i < nodes; i++) {
    const r = await kube('POST', '/api/v1/nodes', nodeObject(i));
    if (r.status !== 201 && r.status !== 409) {
      throw componentError(stateDir, 'kube-apiserver', `creating node kwok-node-${i}: HTTP ${r.status} ${r.text}`);
    }
  }

  const healthz = (port: number) => async () => {
    const r = await request(`https://127.0.0.1:${port}/healthz`, { method: 'GET', rejectUnauthorized: false });
    if (r.status !== 200) throw new Error(`HTTP ${r.status}: ${r.text.slice(0, 200)}`);
    return true;
  };
  await all([
    waitFor('kube-controller-manager', 'GET /healthz = 200', healthz(kcmPort)),
    waitFor('kube-scheduler', 'GET /healthz = 200', healthz(schedPort)),
    waitFor(
      'kube-controller-manager',
      'ServiceAccount default/default (serviceaccount controller)',
      async () => (await kube('GET', '/api/v1/namespaces/default/serviceaccounts/default')).status === 200,
    ),
    waitFor('kwok', `${nodes} Ready node(s) kwok-node-*`, async () => {
      for (let i = 0; i < nodes; i++) {
        const r = await kube('GET', `/api/v1/nodes/kwok-node-${i}`);
        const ready = (r.json?.status?.conditions ?? []).find((c: { type: string }) => c.type === 'Ready');
        if (ready?.status !== 'True') return false;
      }
      return true;
    }),
  ]);
  anyExited();

  log('smoke test: a pod must become Running and Ready');
  await smokeTest(kube, waitFor);
  anyExited();
  return state;
}

async function smokeTest(
  kube: Kube,
  waitFor: (name: Component, what: string, check: () => Promise<boolean>, timeoutMs?: number) => Promise<void>,
): Promise<void> {
  const ns = `controlplane-smoke-${Date.now().toString(36)}`;
  const created = await kube('POST', '/api/v1/namespaces', { metadata: { name: ns } });
  if (created.status !== 201)
    throw new ControlPlaneError(`controlplane: smoke test: creating namespace ${ns}: HTTP ${created.status} ${created.text}`);
  const pod = {
    metadata: { name: 'smoke' },
    spec: {
      containers: [{ name: 'smoke', image: 'busybox', command: ['sleep', '3600'] }],
      // Non-zero so that the pod lingers with a deletionTimestamp and kwok's
      // pod-delete stage is exercised too.
      terminationGracePeriodSeconds: 1,
    },
  };
  // The ServiceAccount admission plugin rejects pods until the namespace's
  // "default" ServiceAccount exists, which the controller manager adds shortly
  // after the namespace appears.
  await waitFor('kube-controller-manager', `ServiceAccount ${ns}/default and pod creation`, async () => {
    const r = await kube('POST', `/api/v1/namespaces/${ns}/pods`, pod);
    if (r.status === 201 || r.status === 409) return true;
    throw new Error(`HTTP ${r.status}: ${r.json?.message ?? r.text.slice(0, 200)}`);
  });
  const fetchPod = async () => (await kube('GET', `/api/v1/namespaces/${ns}/pods/smoke`)).json;
  await waitFor('kube-scheduler', `pod ${ns}/smoke to be scheduled`, async () => Boolean((await fetchPod())?.spec?.nodeName));
  await waitFor('kwok', `pod ${ns}/smoke to be Running and Ready with a pod IP`, async () => {
    const s = (await fetchPod())?.status;
    const ready = (s?.conditions ?? []).find((c: { type: string }) => c.type === 'Ready');
    return s?.phase === 'Running' && Boolean(s.podIP) && ready?.status === 'True';
  });
  await kube('DELETE', `/api/v1/namespaces/${ns}/pods/smoke`);
  await waitFor(
    'kwok',
    `deleted pod ${ns}/smoke to disappear`,
    async () => (await kube('GET', `/api/v1/namespaces/${ns}/pods/smoke`)).status === 404,
  );
  // Namespace deletion finishes in the background (namespace controller).
  await kube('DELETE', `/api/v1/namespaces/${ns}`);
}

// ---------------------------------------------------------------- stop

function attachToProcess(state: State): () => void {
  // Synchronous by necessity ('exit' handlers cannot wait), hence SIGKILL: the
  // state is disposable and nothing must survive the runner.
  const killAll = () => {
    for (const rec of [...state.processes].reverse()) {
      if (isOurs(rec)) {
        try {
          process.kill(rec.pid, 'SIGKILL');
        } catch {
          /* already gone */
        }
      }
    }
  };
  const onSignal = (sig: NodeJS.Signals) => {
    killAll();
    detach();
    // Keep the default meaning of the signal unless someone else handles it.
    if (process.listenerCount(sig) === 0) process.kill(process.pid, sig);
  };
  const detach = () => {
    process.off('exit', killAll);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
  process.on('exit', killAll);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return detach;
}

/**
 * Stops the processes recorded in stateDir: SIGTERM in reverse start order
 * (kwok ... etcd), SIGKILL after 10 s. Pids that no longer run the recorded
 * binary are left alone.
 */
export async function stopControlPlane(stateDir: string): Promise<void> {
  stateDir = resolve(stateDir);
  await withLock(stateDir, () => stopLocked(stateDir));
}

async function stopLocked(stateDir: string): Promise<void> {
  const state = readState(stateDir);
  if (!state) return;
  const ours = [...state.processes].reverse().filter(isOurs);
  // Clients first so they do not spend the grace period retrying a dead
  // API server; etcd last so the API server can shut down cleanly.
  const waves = [ours.filter((r) => r.name !== 'etcd'), ours.filter((r) => r.name === 'etcd')];
  for (const wave of waves) {
    for (const rec of wave) {
      try {
        process.kill(rec.pid, 'SIGTERM');
      } catch {
        /* already gone */
      }
    }
    const deadline = Date.now() + STOP_GRACE_MS;
    while (wave.some(isOurs) && Date.now() < deadline) await sleep(100);
    for (const rec of wave.filter(isOurs)) {
      try {
        process.kill(rec.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
    const killDeadline = Date.now() + 5_000;
    while (wave.some(isOurs) && Date.now() < killDeadline) await sleep(100);
  }
  const left = ours.filter(isOurs);
  if (left.length) {
    throw new ControlPlaneError(`controlplane: could not stop ${left.map((r) => `${r.name} (pid ${r.pid})`).join(', ')}`);
  }
  rmSync(paths(stateDir).state, { force: true });
}

// ---------------------------------------------------------------- CLI

async function status(stateDir: string): Promise<number> {
  const state = readState(stateDir);
  if (!state) {
    console.log(`not running (no state in ${stateDir})`);
    return 1;
  }
  for (const rec of state.processes)
    console.log(`${rec.name.padEnd(24)} pid ${String(rec.pid).padEnd(8)} ${isOurs(rec) ? 'running' : 'NOT RUNNING'}`);
  const ok = await healthy(stateDir);
  console.log(ok ? `healthy: ${state.server}` : 'not healthy');
  if (ok) console.log(`export KUBECONFIG=${paths(stateDir).kubeconfig}`);
  return ok ? 0 : 1;
}

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  let stateDir = defaultStateDir();
  let nodes: number | undefined;
  for (let i = 0; i < rest.length; i++) {
    const [flag, inline] = rest[i].split('=', 2) as [string, string | undefined];
    const value = () => inline ?? rest[++i];
    if (flag === '--state-dir') stateDir = value();
    else if (flag === '--nodes') nodes = Number(value());
    else throw new ControlPlaneError(`unknown argument ${rest[i]}`);
  }
  stateDir = resolve(stateDir);
  switch (cmd) {
    case 'up': {
      const cp = await startControlPlane({ stateDir, nodes });
      if (cp.reused) console.error(`controlplane: already running (${cp.server}); logs in ${cp.logsDir}`);
      else
        console.error(
          `controlplane: running (${cp.server}); logs in ${cp.logsDir}; stop with: node --import tsx ${join(HERE, 'cluster.ts')} down${stateDir === defaultStateDir() ? '' : ` --state-dir ${stateDir}`}`,
        );
      console.log(`export KUBECONFIG=${cp.kubeconfigPath}`);
      return 0;
    }
    case 'down': {
      const had = readState(stateDir);
      await stopControlPlane(stateDir);
      console.error(had ? `controlplane: stopped (${stateDir})` : `controlplane: not running (${stateDir})`);
      return 0;
    }
    case 'status':
      return status(stateDir);
    default:
      console.error('usage: node --import tsx test/controlplane/cluster.ts up|down|status [--state-dir DIR] [--nodes N]');
      return 2;
  }
}

function isMain(): boolean {
  if (!process.argv[1]) return false;
  try {
    return pathToFileURL(realpathSync(process.argv[1])).href === pathToFileURL(realpathSync(fileURLToPath(import.meta.url))).href;
  } catch {
    return false;
  }
}

if (isMain()) {
  main(process.argv.slice(2)).then(
    // Explicit exit: the detached children must not keep this process around.
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(err instanceof ControlPlaneError ? err.message : err);
      process.exit(1);
    },
  );
}
