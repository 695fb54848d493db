// The image `npm run image` assembles, judged by tools that did not build it
// (umoci, which turns it into a runtime bundle by the OCI rules; runc; crane),
// and run as a Pod runs it: the chart's container (its args, env and security
// context) in runc as user 65532 on a read-only root filesystem, with the
// chart's ServiceAccount token, CA and namespace mounted where Kubernetes
// mounts them and KUBERNETES_SERVICE_HOST/PORT pointing at the test API server
// (the host network: the API server, on 127.0.0.1, calls its webhook too).
// It must bring the examples to Ready and answer /ready.
//
// Needs root, runc and umoci (.ci/run installs them: apt-get install runc umoci).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { buildImage, cranePath, pushImage, type BuiltImage } from '../../scripts/image.ts';
import { cacheRoot, hasCommand } from '../../scripts/image/cache.ts';
import { readDockerfile } from '../../scripts/image/dockerfile.ts';
import { readElf } from '../../scripts/image/elf.ts';
import { hostArch } from '../../scripts/image/node-runtime.ts';
import { RUNTIME } from '../../scripts/image/spec.ts';
import { CHART_DIR, OPERATOR_NAMESPACE, RELEASE, chartServiceAccountKubeconfig, helm } from '../harness/chart.ts';
import { eventually, freshNamespace, kubectl, kubectlJson, kubectlOk, testKubeconfig } from '../harness/kube.ts';
import { LOOPBACK_GUARD } from '../harness/operator.ts';

const root = new URL('../../', import.meta.url).pathname;
const tmp = mkdtempSync(join(tmpdir(), 'image-test-'));
const suffix = Math.random().toString(36).slice(2, 7);
const CONTAINER_PREFIX = 'spiceai-image-test-';
const container = `${CONTAINER_PREFIX}${suffix}`;
/** runc's state of this test's containers only, so a run can clean up after a crashed one. */
const runcRoot = join(cacheRoot(), '..', 'runc');
const SA_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';
const GUARD_IN_CONTAINER = '/test/loopback-fetch-guard.mjs';
const dockerfile = readDockerfile();
const log = (line: string) => process.stderr.write(`image: ${line}\n`);
const SIDECAR_SPICEPOD = 'version: v1\nkind: Spicepod\nname: demo\n';

let image: BuiltImage;
let multiArch: BuiltImage;
let ns = '';
let operator: { child: ChildProcess; output: () => string; exited: Promise<number | null> } | undefined;
const ports = { http: 0, metrics: 0, webhook: 0, probes: 0 };
/** The chart's terminationGracePeriodSeconds: how long the kubelet waits after SIGTERM before SIGKILL. */
let graceSeconds = 0;

const runc = (...args: string[]) => spawnSync('runc', ['--root', runcRoot, ...args], { encoding: 'utf8' });

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

/** The image as umoci unpacks it into an OCI runtime bundle (config.json from the image config, rootfs from the layers). */
function unpack(layout: string, tag: string, dir: string): any {
  const r = spawnSync('umoci', ['unpack', '--image', `${layout}:${tag}`, dir], { encoding: 'utf8' });
  assert.is(r.status, 0, r.stderr);
  return JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
}

function blob(layout: string, digest: string): Buffer {
  return readFileSync(join(layout, 'blobs', digest.replace(':', '/')));
}

/** `tar -tv` of a layer blob: [mode owner size path] per entry. */
function layerListing(layout: string, digest: string): string[] {
  const r = spawnSync('tar', ['-tvz', '--numeric-owner', '-f', join(layout, 'blobs', digest.replace(':', '/'))], {
    encoding: 'utf8',
    maxBuffer: 16 * 2 ** 20,
  });
  assert.is(r.status, 0, r.stderr);
  return r.stdout
    .trim()
    .split('\n')
    .map((l) => l.replace(/\s+/g, ' '));
}

test.before(async () => {
  if (process.getuid?.() !== 0) throw new Error('the image test runs containers with runc and needs root (as CI runs it)');
  for (const tool of ['runc', 'umoci'])
    if (!hasCommand(tool)) throw new Error(`${tool} is missing: .ci/run installs it (apt-get install -y runc umoci)`);
  mkdirSync(runcRoot, { recursive: true });
  // Containers left by a run of this test that was killed.
  for (const line of runc('list', '-q').stdout.split('\n')) if (line.startsWith(CONTAINER_PREFIX)) runc('delete', '--force', line);
  // The CRDs, as the chart installs them (crds.enabled).
  for (const crd of ['spicepodsets.spice.ai', 'spicepodclusters.spice.ai'])
    kubectlOk(['apply', '--server-side', '-f', join(root, 'crds', `${crd}.yaml`)]);
  image = await buildImage({ out: join(tmp, 'image'), log });
  multiArch = await buildImage({ arches: ['amd64', 'arm64'], out: join(tmp, 'multi'), log });
});

test("the assembled image is the Dockerfile's: entrypoint, command, user, working directory, ports, labels, files", () => {
  const built = image.images[0]!;
  const config = unpack(image.layout, image.tag.split(':')[1]!, join(tmp, 'bundle-inspect'));
  assert.equal(config.process.args, [...dockerfile.entrypoint, ...dockerfile.cmd]);
  const [uid, gid] = dockerfile.user.split(':').map(Number);
  assert.equal(config.process.user, { uid, gid });
  assert.is(config.process.cwd, dockerfile.workdir);
  // umoci read HOME from the image's /etc/passwd: the nonroot user of distroless.
  assert.ok(config.process.env.includes('HOME=/home/nonroot'), config.process.env.join(' '));
  // The malloc settings (scripts/image/spec.ts ENV), which the Dockerfile sets too.
  assert.ok(Object.keys(dockerfile.env).length > 0, 'the Dockerfile sets ENV');
  for (const [key, value] of Object.entries(dockerfile.env)) assert.ok(config.process.env.includes(`${key}=${value}`), key);
  const imageConfig = JSON.parse(blob(image.layout, built.config.digest).toString('utf8'));
  assert.equal(
    Object.keys(imageConfig.config.ExposedPorts),
    dockerfile.exposed.map((p) => `${p}/tcp`),
  );
  assert.equal(Object.keys(imageConfig.config.Labels).sort(), Object.keys(dockerfile.labels).sort());
  for (const [key, value] of Object.entries(dockerfile.labels)) {
    if (key.endsWith('.revision')) assert.match(imageConfig.config.Labels[key], /^[0-9a-f]{40}(-dirty)?$/);
    else assert.is(imageConfig.config.Labels[key], value, key);
  }
  // The app layer holds exactly the files the Dockerfile copies, root-owned and read-only for the user.
  const app = layerListing(image.layout, built.layers[1]!.digest);
  assert.equal(
    app.map((l) => l.split(' ').pop()),
    ['app/', ...dockerfile.files.map((f) => f.replace(/^\//, ''))],
  );
  assert.match(app[1]!, /^-rw-r--r-- 0\/0 /);
  const runtime = layerListing(image.layout, built.layers[0]!.digest);
  assert.ok(
    runtime.some((l) => /^-rwxr-xr-x 0\/0 \d+ .*nodejs\/bin\/node$/.test(l)),
    'node at /nodejs/bin/node as in distroless',
  );
  assert.ok(runtime.some((l) => /^drwx------ 65532\/65532 .* home\/nonroot\/$/.test(l)));
  assert.ok(
    runtime.some((l) => l.endsWith('var/lib/dpkg/status.d/libc6')),
    'scanners see the Debian packages',
  );
});

test("the image's node is the pinned LTS and runs on the image's libraries alone (read-only root, no host mounts)", () => {
  const bundle = join(tmp, 'bundle-node');
  const config = unpack(image.layout, image.tag.split(':')[1]!, bundle);
  config.process.args = ['/nodejs/bin/node', '-p', 'process.version + " " + process.getuid()'];
  config.process.terminal = false;
  config.root.readonly = true;
  writeFileSync(join(bundle, 'config.json'), JSON.stringify(config));
  const r = runc('run', '--bundle', bundle, `${container}-node`);
  assert.is(r.status, 0, r.stderr + r.stdout);
  assert.is(r.stdout.trim(), `v${RUNTIME.node.version} 65532`);
});

test('the image runs as a Pod would: chart container, ServiceAccount token, read-only root; the examples become Ready and /ready answers', async () => {
  ns = freshNamespace('image');
  ports.http = await freePort();
  ports.metrics = await freePort();
  ports.webhook = await freePort();
  ports.probes = await freePort();
  // The chart's container, as a user would install it; extra values only for what this machine needs:
  // loopback ports (host network), the webhook by URL (no service network), names of its own, and
  // the harness's guard against traffic off this machine (test/harness/loopback-fetch-guard.mjs).
  const values = {
    namespaces: [ns, OPERATOR_NAMESPACE],
    extraArgs: [
      `--http-endpoint=127.0.0.1:${ports.http}`,
      `--metrics-endpoint=127.0.0.1:${ports.metrics}`,
      `--webhook-endpoint=127.0.0.1:${ports.webhook}`,
      `--health-probe-bind-address=127.0.0.1:${ports.probes}`,
      `--webhook-url=https://127.0.0.1:${ports.webhook}/mutate`,
      `--webhook-configuration=image-test-${suffix}`,
      `--webhook-secret=image-test-tls-${suffix}`,
      `--lease-name=image-test-${suffix}`,
      // The CRDs' conversion by URL would outlive this test and refuse the next file's CRD apply
      // (a url next to the shipped service): off here, as the harness has it for every operator.
      '--no-crd-webhooks',
    ],
    extraEnv: [{ name: 'NODE_OPTIONS', value: `--import=file://${GUARD_IN_CONTAINER}` }],
  };
  writeFileSync(join(tmp, 'values.yaml'), stringify(values));
  const rendered = helm([
    'template',
    RELEASE,
    CHART_DIR,
    '--namespace',
    OPERATOR_NAMESPACE,
    '-f',
    join(tmp, 'values.yaml'),
    '--show-only',
    'templates/deployment.yaml',
  ]);
  assert.is(rendered.code, 0, rendered.err);
  const pod = parse(rendered.out).spec.template.spec;
  graceSeconds = pod.terminationGracePeriodSeconds;
  const spec = pod.containers[0];

  // What the kubelet would mount: the chart ServiceAccount's token, the cluster CA, the namespace.
  const saKubeconfig = parse(readFileSync(chartServiceAccountKubeconfig(testKubeconfig(), tmp), 'utf8'));
  const admin = parse(readFileSync(testKubeconfig(), 'utf8'));
  const server = new URL(admin.clusters[0].cluster.server);
  const saDir = join(tmp, 'serviceaccount');
  mkdirSync(saDir);
  writeFileSync(join(saDir, 'token'), saKubeconfig.users[0].user.token);
  writeFileSync(join(saDir, 'ca.crt'), Buffer.from(admin.clusters[0].cluster['certificate-authority-data'], 'base64'));
  writeFileSync(join(saDir, 'namespace'), OPERATOR_NAMESPACE);

  const bundle = join(tmp, 'bundle-pod');
  const config = unpack(image.layout, image.tag.split(':')[1]!, bundle);
  const entrypoint: string[] = config.process.args.slice(0, dockerfile.entrypoint.length);
  assert.equal(entrypoint, dockerfile.entrypoint);
  const sc = spec.securityContext;
  config.process = {
    ...config.process,
    terminal: false,
    // A container's args replace the image's CMD and keep its ENTRYPOINT.
    args: [...entrypoint, ...spec.args],
    user: { uid: sc.runAsUser, gid: sc.runAsGroup },
    env: [
      ...config.process.env,
      ...(spec.env ?? []).map((e: { name: string; value: string }) => `${e.name}=${e.value}`),
      `KUBERNETES_SERVICE_HOST=${server.hostname}`,
      `KUBERNETES_SERVICE_PORT=${server.port}`,
    ],
    noNewPrivileges: sc.allowPrivilegeEscalation === false,
    capabilities: sc.capabilities?.drop?.includes('ALL')
      ? { bounding: [], effective: [], inheritable: [], permitted: [], ambient: [] }
      : config.process.capabilities,
  };
  assert.is(sc.readOnlyRootFilesystem, true);
  config.root.readonly = sc.readOnlyRootFilesystem;
  config.mounts.push(
    { destination: SA_DIR, type: 'bind', source: saDir, options: ['rbind', 'ro'] },
    { destination: GUARD_IN_CONTAINER, type: 'bind', source: new URL(LOOPBACK_GUARD).pathname, options: ['bind', 'ro'] },
  );
  // The host network: the API server listens on 127.0.0.1 and must reach the webhook.
  config.linux.namespaces = config.linux.namespaces.filter((n: { type: string }) => n.type !== 'network');
  writeFileSync(join(bundle, 'config.json'), JSON.stringify(config, null, 2));

  let output = '';
  const child = spawn('runc', ['--root', runcRoot, 'run', '--bundle', bundle, container], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  operator = { child, output: () => output, exited };
  const logs = () =>
    output
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l));
  const seen = (msg: string) => logs().some((l) => l.msg === msg);
  await eventually(
    'the operator in the container to serve',
    () => (seen('controller started') && seen('webhook serving')) || (child.exitCode !== null && Promise.reject(new Error(output))),
    120_000,
  );

  // It runs as the image's user, with in-cluster credentials (no kubeconfig anywhere in the container).
  const pid = JSON.parse(runc('state', container).stdout).pid;
  assert.match(readFileSync(`/proc/${pid}/status`, 'utf8'), /^Uid:\s+65532\s+65532\s+65532\s+65532$/m);
  assert.match(readFileSync(`/proc/${pid}/status`, 'utf8'), /^CapEff:\s+0+$/m);

  // The examples, in a namespace of their own.
  for (const example of ['spicepodset-minimal.yaml', 'spicepodcluster.yaml']) {
    const docs = parseAllDocuments(readFileSync(join(root, 'examples', example), 'utf8')).map((d) => d.toJS());
    for (const doc of docs) doc.metadata.namespace = ns;
    kubectlOk(['apply', '--server-side', '-f', '-'], docs.map((d) => JSON.stringify(d)).join('\n'));
  }
  const ready = (kind: string, name: string) =>
    kubectlJson(['get', kind, name, '-n', ns]).status?.conditions?.find((c: { type: string }) => c.type === 'Ready')?.status === 'True';
  await eventually(
    `the examples to become Ready (operator output:\n${output.slice(-2000)})`,
    () => ready('spicepodset', 'my-spicepod') && ready('spicepodcluster', 'my-cluster'),
    240_000,
    1000,
  );

  const get = (port: number, path: string) => fetch(`http://127.0.0.1:${port}${path}`);
  const readyz = await get(ports.http, '/ready');
  assert.is(readyz.status, 200, await readyz.text());
  assert.is((await get(ports.http, '/health')).status, 200);
  // The chart's liveness and readiness probes, on their own port (--health-probe-bind-address).
  for (const probe of [spec.livenessProbe, spec.readinessProbe]) {
    assert.is(probe.httpGet.port, 'probes');
    const answer = await get(ports.probes, probe.httpGet.path);
    assert.is(answer.status, 200, `${probe.httpGet.path}: ${await answer.text()}`);
  }
  const status = await get(ports.http, `/${ns}/my-spicepod`);
  assert.is(status.status, 200);
  const answer = (await status.json()) as { kind: string; name: string; pods: Record<string, unknown>[] };
  assert.is(answer.kind, 'SpicepodSet');
  assert.is(answer.name, 'my-spicepod');
  // kwok's pods have 10.x addresses: the guard in the container kept the status API's probes on this machine.
  assert.match(JSON.stringify(answer.pods), /blocked by the test harness/);
  assert.match(await (await get(ports.metrics, '/metrics')).text(), /^spiceai_operator_/m);

  // Logs are JSON, one line per event (README): nothing else on stdout/stderr, no runtime warnings.
  assert.equal(
    output.split('\n').filter((l) => l && !l.startsWith('{')),
    [],
  );

  // The webhook it serves from the container, called by the real API server, injects a sidecar.
  kubectlOk(['create', 'configmap', 'demo', '-n', ns, `--from-literal=spicepod.yaml=${SIDECAR_SPICEPOD}`]);
  const probe = JSON.stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'probe', namespace: ns, annotations: { 'spice.ai/inject': 'demo' } },
    spec: { containers: [{ name: 'app', image: 'busybox' }] },
  });
  await eventually('the API server to call the webhook in the container', () => {
    const r = kubectl(['create', '--dry-run=server', '-o', 'json', '-f', '-'], probe);
    return r.code === 0 && (JSON.parse(r.out).spec.initContainers ?? []).some((c: { name: string }) => c.name === 'spice-sidecar');
  });
});

test("SIGTERM (what the kubelet sends) ends the operator cleanly within the chart's grace period", async () => {
  assert.ok(operator, 'the operator ran');
  assert.ok(graceSeconds > 0);
  assert.is(runc('kill', container, 'TERM').status, 0);
  const code = await Promise.race([
    operator!.exited,
    new Promise((resolve) => setTimeout(() => resolve(`still running after ${graceSeconds}s`), graceSeconds * 1000)),
  ]);
  assert.is(code, 0, operator!.output().slice(-2000));
  assert.match(operator!.output(), /"msg":"stopped"/);
});

test('the docker-load tarball and the multi-arch layout push to a registry (crane, on loopback)', async () => {
  const port = await freePort();
  const registry = spawn(cranePath(), ['registry', 'serve', '--address', `127.0.0.1:${port}`], { stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    await eventually('the registry to listen', async () => (await fetch(`http://127.0.0.1:${port}/v2/`)).status === 200);
    const crane = (...args: string[]) => {
      const r = spawnSync(cranePath(), args, { encoding: 'utf8' });
      assert.is(r.status, 0, r.stderr);
      return r.stdout;
    };
    // The tarball, read the way `docker load` reads it (manifest.json): same config, same layers.
    const built = image.images[0]!;
    crane('push', built.tarball, `127.0.0.1:${port}/spiceai-operator:from-tarball`);
    assert.is(JSON.parse(crane('manifest', `127.0.0.1:${port}/spiceai-operator:from-tarball`)).config.digest, built.config.digest);
    // npm run image -- --push: every architecture as one index.
    const pushed = pushImage(multiArch.layout, `127.0.0.1:${port}/spiceai-operator:${multiArch.tag.split(':')[1]}`);
    assert.ok(pushed.endsWith(`@${multiArch.digest}`), pushed);
    const index = JSON.parse(crane('manifest', `127.0.0.1:${port}/spiceai-operator:${multiArch.tag.split(':')[1]}`));
    assert.equal(index.manifests.map((m: any) => m.platform.architecture).sort(), ['amd64', 'arm64']);
    const armConfig = JSON.parse(
      crane('config', `127.0.0.1:${port}/spiceai-operator@${index.manifests.find((m: any) => m.platform.architecture === 'arm64').digest}`),
    );
    assert.is(armConfig.architecture, 'arm64');
    // Reproducible: the second build's amd64 image (bundle built again, app layer written again) is the first's.
    assert.is(multiArch.images.find((i) => i.arch === 'amd64')!.manifest.digest, image.images[0]!.manifest.digest);
  } finally {
    registry.kill('SIGTERM');
  }
});

test('the arm64 image holds aarch64 node and libraries (assembled here, on amd64)', () => {
  const arm = multiArch.images.find((i) => i.arch === 'arm64')!;
  const dir = join(tmp, 'arm64-rootfs');
  mkdirSync(dir);
  const r = spawnSync('tar', ['-xzf', join(multiArch.layout, 'blobs', arm.layers[0]!.digest.replace(':', '/')), '-C', dir], {
    encoding: 'utf8',
  });
  assert.is(r.status, 0, r.stderr);
  assert.is(readElf(join(dir, 'nodejs/bin/node')).machine, 'aarch64');
  assert.ok(arm.libraries.length >= 6, arm.libraries.join(' '));
  for (const lib of arm.libraries) assert.is(readElf(join(dir, lib)).machine, 'aarch64', lib);
  assert.ok(
    existsSync(join(dir, 'lib/ld-linux-aarch64.so.1')) || arm.libraries.some((l) => l.includes('ld-linux-aarch64')),
    arm.libraries.join(' '),
  );
  assert.is(hostArch() === 'arm64' || image.images[0]!.arch === 'amd64', true);
});

test.after(() => {
  if (operator && operator.child.exitCode === null) runc('kill', container, 'KILL');
  for (const id of [container, `${container}-node`]) runc('delete', '--force', id);
  kubectl(['delete', 'mutatingwebhookconfiguration', `image-test-${suffix}`, '--ignore-not-found']);
  kubectl(['delete', 'secret', `image-test-tls-${suffix}`, '-n', OPERATOR_NAMESPACE, '--ignore-not-found']);
  // One Lease per handler (run --lease-name NAME: NAME-<handler>).
  kubectl([
    'delete',
    'lease',
    ...['workloads', 'network-policy', 'cluster', 'pki', 'pod-monitor', 'sidecar-scan'].map((h) => `image-test-${suffix}-${h}`),
    '-n',
    OPERATOR_NAMESPACE,
    '--ignore-not-found',
  ]);
  if (ns) kubectl(['delete', 'namespace', ns, '--wait=false']);
});

test.run();
