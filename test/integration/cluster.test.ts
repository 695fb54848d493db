// SpicepodCluster end to end on the real control plane: child sets, per-node
// certificates checked with openssl, scale-up, restart, a corrupted CA.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { stringify } from 'yaml';
import { applyShippedCrds, eventually, freshNamespace, kubectl, kubectlJson, kubectlOk } from '../harness/kube.ts';
import { startOperator, type OperatorProcess } from '../harness/operator.ts';
import { spicedLoadsClusterPki } from '../conformance/spiced-cluster-pki.ts';

const OPERATOR_NS = 'spiceai-operator-system';
const pod = { version: 'v1', kind: 'Spicepod', name: 'q', runtime: { scheduler: { state_location: 'file:///tmp/spice-cluster' } } };
let ns = '';
let operator: OperatorProcess | undefined;
const tmp = mkdtempSync(join(tmpdir(), 'cluster-it-'));
// Steps of a CA move wait for Secrets to reach the pods; kwok's pods read no files, so a few seconds do.
const args = () => [
  '--namespaces',
  ns,
  '--handlers',
  'workloads,cluster,pki',
  '--operator-namespace',
  OPERATOR_NS,
  '--secret-propagation-seconds',
  '3',
];

const secret = (namespace: string, name: string) => kubectlJson(['get', 'secret', name, '-n', namespace]);
const text = (s: any, key: string) => Buffer.from(s.data[key], 'base64').toString('utf8');
const caName = () => `spiceai-ca-${ns}-q`;
function applyCluster(executors: number, name = 'q') {
  kubectlOk(
    ['apply', '--server-side', '-n', ns, '-f', '-'],
    stringify({
      apiVersion: 'spice.ai/v1alpha1',
      kind: 'SpicepodCluster',
      metadata: { name },
      spec: { schedulerSetSpec: { replicas: 1, spicepod: { ...pod, name } }, executorSetSpec: { replicas: executors } },
    }),
  );
}
const cluster = (name = 'q') => kubectlJson(['get', 'spicepodcluster', name, '-n', ns]);
const events = (name: string, reason: string) =>
  kubectlJson(['get', 'events', '-n', ns, '--field-selector', `involvedObject.name=${name},reason=${reason}`]).items;
const condition = (o: any, type: string) => o.status?.conditions?.find((c: any) => c.type === type);

function openssl(args: string[]) {
  const r = spawnSync('openssl', args, { encoding: 'utf8' });
  return { code: r.status, out: r.stdout + r.stderr };
}

test.before(async () => {
  applyShippedCrds();
  kubectl(['create', 'namespace', OPERATOR_NS]);
  ns = freshNamespace('cl');
  operator = await startOperator(args());
});

test('a cluster brings up its CA, node Secrets, child sets, StatefulSets and headless Services', async () => {
  applyCluster(3);
  const ready = await eventually(
    'the cluster to be Ready',
    () => {
      const c = cluster();
      return condition(c, 'Ready')?.status === 'True' && condition(c, 'CertificatesReady')?.status === 'True' ? c : undefined;
    },
    180_000,
    1000,
  );
  assert.is(ready.status.rootCertificateReady, true);
  assert.is(ready.status.rootSecretName, caName());
  assert.ok(Date.parse(ready.status.rootExpiresAt) > Date.now() + 9 * 365 * 24 * 3600 * 1000);
  assert.equal([ready.status.schedulerSpicepodsetName, ready.status.executorSpicepodsetName], ['q-scheduler', 'q-executor']);
  assert.equal([ready.status.schedulerReadyReplicas, ready.status.executorReadyReplicas], [1, 3]);
  // The CA key stays in the operator namespace.
  const ca = secret(OPERATOR_NS, caName());
  assert.ok(text(ca, 'ca.key').includes('PRIVATE KEY'));
  const nodeSecrets = kubectlJson(['get', 'secrets', '-n', ns, '-l', 'spice.ai/cluster=q'])
    .items.map((s: any) => s.metadata.name)
    .sort();
  assert.equal(nodeSecrets, ['q-ca', 'q-executor-0-tls', 'q-executor-1-tls', 'q-executor-2-tls', 'q-scheduler-0-tls']);
  for (const name of nodeSecrets) assert.not.ok(secret(ns, name).data['ca.key'], `${name} holds no CA key`);
  assert.equal(
    kubectlJson(['get', 'statefulsets', '-n', ns, '-l', 'spice.ai/cluster=q'])
      .items.map((s: any) => s.metadata.name)
      .sort(),
    ['q-executor-0', 'q-executor-1', 'q-executor-2', 'q-scheduler-0'],
  );
  for (const svc of ['q-scheduler-headless', 'q-executor-headless']) {
    const ports = kubectlJson(['get', 'service', svc, '-n', ns]).spec.ports.map((p: any) => p.port);
    assert.ok(ports.includes(50052), `${svc} exposes 50052`);
  }
  // The pods run spiced with the cluster flags.
  const exec = kubectlJson(['get', 'pod', 'q-executor-1-0', '-n', ns]);
  const a: string[] = exec.spec.containers[0].args;
  assert.is(a[a.indexOf('--role') + 1], 'executor');
  assert.is(a[a.indexOf('--scheduler-address') + 1], `https://q-scheduler-headless.${ns}.svc.cluster.local:50052`);
  assert.is(a[a.indexOf('--node-mtls-key-file') + 1], '/etc/spice/tls/tls.key');
  assert.ok(exec.spec.volumes.some((v: any) => v.secret?.secretName === 'q-executor-1-tls'));
  assert.equal(exec.metadata.labels['spice.ai/cluster-role'], 'executor');
});

test('/metrics exports the CA expiry and each node certificate expiry', async () => {
  const text = await eventually('the expiry gauges', async () => {
    const t = await (await fetch(`http://127.0.0.1:${operator!.metricsPort}/metrics`)).text();
    return t.includes('spiceai_operator_cluster_node_certificate_expiry_timestamp_seconds{') ? t : undefined;
  });
  const ca = new RegExp(`spiceai_operator_cluster_ca_expiry_timestamp_seconds\\{namespace="${ns}",cluster="q"\\} (\\d+)`).exec(text);
  assert.ok(ca, 'CA expiry gauge for the cluster');
  assert.is(Number(ca![1]), Date.parse(cluster().status.rootExpiresAt) / 1000);
  for (const node of ['q-scheduler-0-0', 'q-executor-0-0', 'q-executor-2-0']) {
    const m = new RegExp(
      `spiceai_operator_cluster_node_certificate_expiry_timestamp_seconds\\{namespace="${ns}",cluster="q",node="${node}"\\} (\\d+)`,
    ).exec(text);
    assert.ok(m, `leaf expiry of ${node}`);
    const days = (Number(m![1]) - Date.now() / 1000) / 86400;
    assert.ok(days > 360 && days < 366, `${node}: a one-year leaf (${days.toFixed(1)} days left)`);
  }
});

test('openssl verifies every leaf against the CA and shows the SANs, EKUs and pathLen', () => {
  const caFile = join(tmp, 'ca.crt');
  writeFileSync(caFile, text(secret(OPERATOR_NS, caName()), 'ca.crt'));
  assert.match(openssl(['x509', '-in', caFile, '-noout', '-text']).out, /CA:TRUE, pathlen:0/);
  for (const name of ['q-scheduler-0-tls', 'q-executor-0-tls', 'q-executor-2-tls']) {
    const s = secret(ns, name);
    const leafFile = join(tmp, `${name}.crt`);
    writeFileSync(leafFile, text(s, 'tls.crt'));
    const verify = openssl(['verify', '-CAfile', caFile, leafFile]);
    assert.is(verify.code, 0, verify.out);
    assert.is(text(s, 'ca.crt').trim(), readFileSync(caFile, 'utf8').trim(), 'each node trusts the cluster CA');
    const shown = openssl(['x509', '-in', leafFile, '-noout', '-text']).out;
    assert.match(shown, /TLS Web Server Authentication, TLS Web Client Authentication/);
    const podName = name.replace(/-tls$/, '-0');
    const set = name.startsWith('q-scheduler') ? 'q-scheduler' : 'q-executor';
    assert.match(shown, new RegExp(`DNS:${podName}\\.${set}-headless\\.${ns}\\.svc\\.cluster\\.local`));
    assert.match(shown, new RegExp(`DNS:${set}-headless\\.${ns}\\.svc, `));
    assert.match(shown, /DNS:localhost/);
    assert.match(shown, /IP Address:127\.0\.0\.1/);
  }
});

test('executors 3 -> 5 issues exactly two new leaves and leaves the others untouched', async () => {
  const before = Object.fromEntries(
    ['q-scheduler-0-tls', 'q-executor-0-tls', 'q-executor-1-tls', 'q-executor-2-tls'].map((n) => [n, secret(ns, n).data['tls.crt']]),
  );
  applyCluster(5);
  await eventually(
    'five executor Secrets',
    () => kubectlJson(['get', 'secrets', '-n', ns, '-l', 'spice.ai/cluster-role=executor']).items.length === 5,
  );
  await eventually('5 executors Ready', () => cluster().status?.executorReadyReplicas === 5, 120_000, 1000);
  for (const [name, crt] of Object.entries(before)) assert.is(secret(ns, name).data['tls.crt'], crt, `${name} unchanged`);
  // Events are written in the background, after the status.
  const issued = () =>
    kubectlJson(['get', 'events', '-n', ns, '--field-selector', 'involvedObject.name=q,reason=CertificatesIssued']).items.map(
      (e: any) => e.message,
    );
  await eventually('the CertificatesIssued Event for the two new nodes', () =>
    issued().some((m: string) => /issued 2 node certificates: q-executor-3-0 \(new node\), q-executor-4-0 \(new node\)/.test(m)),
  );
});

test('the operator restarted keeps the CA Secret (same UID)', async () => {
  const uid = secret(OPERATOR_NS, caName()).metadata.uid;
  await operator!.kill();
  operator = await startOperator(args());
  await operator.waitForLog((l) => l.msg === 'became leader', 60_000);
  await new Promise((r) => setTimeout(r, 5000));
  assert.is(secret(OPERATOR_NS, caName()).metadata.uid, uid);
  assert.is(condition(cluster(), 'CertificatesReady')?.status, 'True');
});

test('a corrupted CA Secret is reported, not replaced', async () => {
  kubectlOk([
    'patch',
    'secret',
    caName(),
    '-n',
    OPERATOR_NS,
    '--type',
    'merge',
    '-p',
    JSON.stringify({ data: { 'ca.crt': Buffer.from('not a certificate').toString('base64') } }),
  ]);
  const corrupted = secret(OPERATOR_NS, caName());
  const degraded = await eventually('Degraded', () => {
    const c = cluster();
    return condition(c, 'Degraded')?.status === 'True' ? c : undefined;
  });
  assert.match(condition(degraded, 'Degraded').message, /cannot be used: ca\.crt is not a certificate/);
  await eventually(
    'a CACorrupt Warning Event',
    () =>
      kubectlJson(['get', 'events', '-n', ns, '--field-selector', 'involvedObject.name=q,reason=CACorrupt,type=Warning']).items.length > 0,
  );
  await new Promise((r) => setTimeout(r, 3000));
  const after = secret(OPERATOR_NS, caName());
  assert.is(after.metadata.uid, corrupted.metadata.uid);
  assert.is(after.metadata.resourceVersion, corrupted.metadata.resourceVersion, 'nothing was written to it');
});

test('deleting the CA Secret is the repair: a new CA, and the nodes move to it in steps spiced accepts at every step', async () => {
  const nodes = ['q-scheduler-0-tls', 'q-executor-0-tls', 'q-executor-4-tls'];
  const oldCa = secret(OPERATOR_NS, caName());
  const deletedAt = Math.floor(Date.now() / 1000) * 1000;
  kubectlOk(['delete', 'secret', caName(), '-n', OPERATOR_NS]);
  // Every version of the node Secrets the operator writes during the move is what some pod may load.
  const seen = new Map<string, { ca: string; cert: string; key: string }>();
  const done = await eventually(
    'the move to the new CA to complete',
    () => {
      for (const name of nodes) {
        const s = secret(ns, name);
        seen.set(`${name}@${s.metadata.resourceVersion}`, { ca: text(s, 'ca.crt'), cert: text(s, 'tls.crt'), key: text(s, 'tls.key') });
      }
      const c = cluster();
      const ca = kubectl(['get', 'secret', caName(), '-n', OPERATOR_NS, '-o', 'json']);
      if (ca.code !== 0 || JSON.parse(ca.out).metadata.uid === oldCa.metadata.uid) return undefined;
      const single = nodes.every((n) => text(secret(ns, n), 'ca.crt').match(/BEGIN CERTIFICATE/g)?.length === 1);
      return condition(c, 'CertificatesReady')?.status === 'True' && single ? JSON.parse(ca.out) : undefined;
    },
    120_000,
    200,
  );
  assert.ok(seen.size > nodes.length, `the Secrets went through steps (${seen.size} versions seen)`);
  for (const [version, files] of seen) {
    const loaded = await spicedLoadsClusterPki(files);
    assert.ok(loaded.ok, `${version}: ${JSON.stringify(loaded)}`);
  }
  const caFile = join(tmp, 'new-ca.crt');
  writeFileSync(caFile, text(done, 'ca.crt'));
  for (const name of nodes) {
    const leafFile = join(tmp, `${name}-new.crt`);
    writeFileSync(leafFile, text(secret(ns, name), 'tls.crt'));
    assert.is(openssl(['verify', '-CAfile', caFile, leafFile]).code, 0, `${name} comes from the new CA`);
  }
  for (const reason of ['TrustRotationStarted', 'TrustRotationComplete']) {
    await eventually(`a ${reason} Event`, () => events('q', reason).length === 1);
  }
  assert.is(condition(cluster(), 'Secure')?.status, 'True');
  assert.is(condition(cluster(), 'Degraded')?.status, 'False');
  assert.ok(Date.parse(cluster().status.lastUpdated) >= deletedAt, 'LAST UPDATED shows the certificate writes');
});

test('a CA Secret the operator did not write (made with openssl, no labels) is used as it is, announced once, never written', async () => {
  const dir = mkdtempSync(join(tmp, 'corp-'));
  const made = openssl([
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    join(dir, 'ca.key'),
    '-out',
    join(dir, 'ca.crt'),
    '-subj',
    '/CN=corp root CA/OU=platform',
    '-days',
    '365',
    '-addext',
    'basicConstraints=critical,CA:TRUE,pathlen:0',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  assert.is(made.code, 0, made.out);
  kubectlOk([
    'create',
    'secret',
    'generic',
    `spiceai-ca-${ns}-corp`,
    '-n',
    OPERATOR_NS,
    `--from-file=ca.crt=${join(dir, 'ca.crt')}`,
    `--from-file=ca.key=${join(dir, 'ca.key')}`,
  ]);
  const rv = secret(OPERATOR_NS, `spiceai-ca-${ns}-corp`).metadata.resourceVersion;
  applyCluster(1, 'corp');
  await eventually(
    "the corp cluster's certificates",
    () => condition(cluster('corp'), 'CertificatesReady')?.status === 'True',
    120_000,
    500,
  );
  for (const name of ['corp-scheduler-0-tls', 'corp-executor-0-tls']) {
    const leafFile = join(dir, `${name}.crt`);
    writeFileSync(leafFile, text(secret(ns, name), 'tls.crt'));
    assert.is(openssl(['verify', '-CAfile', join(dir, 'ca.crt'), leafFile]).code, 0, `${name} is issued by the user's CA`);
  }
  await eventually('a CAAdopted Event', () => events('corp', 'CAAdopted').length === 1);
  await new Promise((r) => setTimeout(r, 3000));
  assert.equal(events('corp', 'CACreated'), [], 'nothing was created');
  assert.is(events('corp', 'CAAdopted')[0].count ?? 1, 1, 'announced once');
  assert.is(secret(OPERATOR_NS, `spiceai-ca-${ns}-corp`).metadata.resourceVersion, rv, 'never written');
  assert.equal(cluster('corp').status.rootSecretName, `spiceai-ca-${ns}-corp`);
});

test('a deleted cluster keeps its CA Secret (README) and stops exporting its CA expiry', async () => {
  const series = async () =>
    (await (await fetch(`http://127.0.0.1:${operator!.metricsPort}/metrics`)).text()).includes(
      `spiceai_operator_cluster_ca_expiry_timestamp_seconds{namespace="${ns}",cluster="corp"}`,
    );
  await eventually('the corp CA expiry series', series);
  kubectlOk(['delete', 'spicepodcluster', 'corp', '-n', ns]);
  await eventually('the series to go', async () => !(await series()));
  assert.ok(secret(OPERATOR_NS, `spiceai-ca-${ns}-corp`).metadata.uid, 'the CA Secret is kept');
});

test('kubectl get spicepodcluster shows LAST UPDATED', () => {
  assert.ok(Date.parse(cluster().status.lastUpdated) > 0);
  assert.match(kubectlOk(['get', 'spicepodcluster', 'q', '-n', ns]).split('\n')[0]!, /LAST UPDATED/);
});

test('executors that keep crashing: the cluster is Paused with the command that resumes them, and status.error says so; the command works', async () => {
  kubectlOk(
    ['apply', '--server-side', '-n', ns, '-f', '-'],
    stringify({
      apiVersion: 'spice.ai/v1alpha1',
      kind: 'SpicepodCluster',
      metadata: { name: 'crashy' },
      spec: {
        allowInsecureConnections: true,
        schedulerSetSpec: { replicas: 1, spicepod: pod },
        executorSetSpec: { replicas: 2, labels: { 'kwok.spiceai.io/crashloop': 'true' } },
      },
    }),
  );
  const paused = await eventually(
    'the cluster Paused',
    () => {
      const c = kubectlJson(['get', 'spicepodcluster', 'crashy', '-n', ns]);
      return condition(c, 'Paused')?.status === 'True' ? c : undefined;
    },
    180_000,
    1000,
  );
  const message = condition(paused, 'Paused').message;
  assert.is(condition(paused, 'Paused').reason, 'CrashLooping');
  assert.match(message, /the executor set crashy-executor is paused \(CrashLooping\)/);
  assert.match(paused.status.error, /crashy-executor is paused after repeated pod failures/);
  const command = /resume with: (kubectl annotate spicepodset crashy-executor .*?spice\.ai\/resume=true)/.exec(message)![1]!.split(' ');
  kubectlOk(command.slice(1));
  await eventually(
    'the executors resumed',
    () => kubectlJson(['get', 'spicepodset', 'crashy-executor', '-n', ns]).status?.pauseReason === undefined,
    60_000,
    500,
  );
  await eventually(
    'the cluster no longer paused',
    () => condition(kubectlJson(['get', 'spicepodcluster', 'crashy', '-n', ns]), 'Paused')?.status === 'False',
    60_000,
    500,
  );
  kubectlOk(['delete', 'spicepodcluster', 'crashy', '-n', ns]);
});

test('a node spec the API server would refuse is InvalidSpec on the cluster, naming the field under executorSetSpec', async () => {
  kubectlOk(
    ['apply', '--server-side', '-n', ns, '-f', '-'],
    stringify({
      apiVersion: 'spice.ai/v1alpha1',
      kind: 'SpicepodCluster',
      metadata: { name: 'badenv' },
      spec: {
        allowInsecureConnections: true,
        schedulerSetSpec: { replicas: 1, spicepod: pod },
        executorSetSpec: { replicas: 1, env: [{ name: 'A=B', value: 'x' }] },
      },
    }),
  );
  const c = await eventually('InvalidSpec', () => {
    const o = kubectlJson(['get', 'spicepodcluster', 'badenv', '-n', ns]);
    return condition(o, 'Ready')?.reason === 'InvalidSpec' ? o : undefined;
  });
  assert.match(condition(c, 'Ready').message, /^spec\.executorSetSpec\.env\.0\.name "A=B" is not a valid environment variable name/);
  assert.is(c.status.error, condition(c, 'Ready').message);
  assert.is(kubectl(['get', 'spicepodset', 'badenv-executor', '-n', ns]).code, 1, 'no child set was written');
});

test.after(async () => {
  await operator?.stop();
  if (ns) {
    kubectl(['delete', 'namespace', ns, '--wait=false']);
    kubectl(['delete', 'secret', '-n', OPERATOR_NS, caName(), `spiceai-ca-${ns}-corp`, '--ignore-not-found']);
  }
});

test.run();
