// The PKI handler's decisions, with plain objects carried out by the test
// kit's carrier, and what it writes judged by spiced's own rules
// (test/conformance): every node's files load, and every pair of nodes
// completes a mutual-TLS handshake with rustls, at every moment of a CA
// renewal, of the repair (CA Secret deleted), and of a move to a CA the user
// brings, whatever mix of old and new files the pods still hold.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { HandlerConfig } from '../../core/handler.ts';
import { createCA, issueLeaf, joinPemCertificates, parseCertificate, splitPemCertificates, verifyIssuedBy } from '../../core/pki/index.ts';
import { secretData, secretText } from '../../core/secrets.ts';
import { pkiHandler, PkiReason, PROPAGATION_SECONDS } from '../../functions/pki/index.ts';
import { spicedLoadsClusterPki } from '../conformance/spiced-cluster-pki.ts';
import { Carrier } from '../kit/carrier.ts';
import { spicedProblems } from '../kit/spiced-files.ts';

const config: HandlerConfig = {
  operatorNamespace: 'op',
  clusterDomain: 'cluster.local',
  pauseCrashloopingPodsThreshold: 10,
  telemetryProperties: {},
};
const YEAR = 365 * 24 * 3600 * 1000;
const P = PROPAGATION_SECONDS * 1000;
const pod = { version: 'v1', kind: 'Spicepod', name: 's', runtime: { scheduler: { state_location: 'file:///tmp/spice-cluster' } } };
const spec = (executors = 2) => ({ schedulerSetSpec: { replicas: 1, spicepod: pod }, executorSetSpec: { replicas: executors } });
const CA_REF = { apiVersion: 'v1', kind: 'Secret', namespace: 'op', name: 'spiceai-ca-ns-c' };

// rustls judges handshakes at the real time, so carriers start now and move by minutes; certificates
// are aged by creating them in the past, never by running the handler years ahead.
function world(s: Record<string, unknown> = spec(), now = Date.now()) {
  return new Carrier(
    pkiHandler,
    { apiVersion: 'spice.ai/v1alpha1', kind: 'SpicepodCluster', metadata: { name: 'c', namespace: 'ns', uid: 'cluster-uid' }, spec: s },
    config,
    now,
  );
}
const ca = (w: Carrier) => w.related.get('v1/Secret/op/spiceai-ca-ns-c');
const node = (w: Carrier, name: string) => w.children.get(`v1/Secret/ns/${name}`);
const leaf = (w: Carrier, name: string) => secretText(node(w, name), 'tls.crt')!;
const bundle = (w: Carrier, name: string) => splitPemCertificates(secretText(node(w, name), 'ca.crt')!);
const reasons = (w: Carrier) => w.events.map((e) => e.reason);
const NODES = ['c-scheduler-0-tls', 'c-executor-0-tls', 'c-executor-1-tls'];

/** Passes at the times the handler asks for, judging the files at every step, until it is settled or `until` says stop. */
async function replay(w: Carrier, until: (w: Carrier) => boolean, max = 40): Promise<void> {
  for (let i = 0; i < max; i++) {
    const d = await w.pass();
    const problems = await spicedProblems(w, config, P);
    assert.equal(problems, [], `at ${new Date(w.now).toISOString()} (pass ${i}, ${w.condition('CertificatesReady')?.message})`);
    if (until(w)) return;
    w.now += Math.max(1, d.requeueAfterSeconds ?? 60) * 1000;
  }
  assert.unreachable(`not settled after ${max} passes: ${JSON.stringify(w.condition('CertificatesReady'))}`);
}
const ready = (w: Carrier) => w.condition('CertificatesReady')?.status === 'True';

test('the first pass creates the CA (create-only, in the operator namespace, named after its key), no leaves yet and no claim yet', async () => {
  const w = world();
  const d = await w.pass();
  assert.is(d.apply.length, 0);
  assert.is(d.write?.length, 1);
  const write = d.write![0]!;
  assert.is(write.ifResourceVersion, undefined, 'created only if absent');
  assert.equal([write.object.metadata.namespace, write.object.metadata.name], ['op', 'spiceai-ca-ns-c']);
  assert.ok(secretText(write.object, 'ca.key')?.includes('PRIVATE KEY'));
  assert.equal(Object.keys(write.object.data as object).sort(), ['ca.crt', 'ca.key']);
  assert.is(write.object.metadata.annotations?.['spice.ai/created-for'], 'cluster-uid');
  assert.match(
    (await parseCertificate(secretText(write.object, 'ca.crt')!)).subject,
    /^CN=spiceai-operator root CA [0-9a-f]{16}, OU=ns\/c$/,
  );
  assert.is((w.parent.status as any).rootCertificateReady, false);
  assert.is(w.condition('CertificatesReady')?.reason, PkiReason.CreatingCA);
  assert.not.ok(reasons(w).includes(PkiReason.CACreated), 'the creation is announced once it has happened');
});

test('then every node gets ca.crt, tls.crt and tls.key that spiced loads, with the names its peers dial; the CA key stays home', async () => {
  const w = world();
  await replay(w, ready);
  assert.equal([...w.children.values()].map((s) => s.metadata.name).sort(), ['c-ca', ...NODES].sort());
  for (const s of w.children.values()) assert.not.ok(secretText(s, 'ca.key'), `${s.metadata.name} must not hold the CA key`);
  const info = await parseCertificate(leaf(w, 'c-scheduler-0-tls'));
  assert.equal(
    info.dnsNames.sort(),
    [
      'c-scheduler-0-0.c-scheduler-headless.ns.svc.cluster.local',
      'c-scheduler-headless',
      'c-scheduler-headless.ns',
      'c-scheduler-headless.ns.svc',
      'c-scheduler-headless.ns.svc.cluster.local',
      'localhost',
    ].sort(),
  );
  assert.equal(info.ipAddresses, ['127.0.0.1']);
  assert.is(node(w, 'c-executor-1-tls')!.type, 'kubernetes.io/tls');
  const status = w.parent.status as any;
  assert.equal([status.rootCertificateReady, status.rootSecretName], [true, 'spiceai-ca-ns-c']);
  assert.ok(
    Math.abs(Date.parse(status.rootExpiresAt) - w.now - 10 * YEAR) < 5 * 24 * 3600 * 1000,
    `CA valid for 10 years, got ${status.rootExpiresAt}`,
  );
  assert.is(w.condition('Secure')?.status, 'True');
  assert.equal(reasons(w).filter((r) => r === PkiReason.CACreated).length, 1);
  assert.equal(reasons(w).filter((r) => r === PkiReason.CertificatesReady).length, 1);
});

test('a pass with nothing to do writes nothing and records nothing', async () => {
  const w = world();
  await replay(w, ready);
  const content = () => JSON.stringify([...w.children.values(), ca(w)!].map((o) => [o.metadata.name, o.metadata.annotations, o.data]));
  const before = content();
  const events = w.events.length;
  w.now += 3600_000;
  const d = await w.pass();
  assert.is(content(), before);
  assert.equal(d.write ?? [], []);
  assert.is(w.events.length, events);
});

test('scaling executors 2 -> 4 issues only the two new leaves; Secure is true again only once they exist', async () => {
  const w = world(spec(2));
  await replay(w, ready);
  const old = NODES.map((n) => leaf(w, n));
  w.setSpec(spec(4));
  await w.pass();
  assert.match(w.events.at(-1)!.message, /issued 2 node certificates: c-executor-2-0 \(new node\), c-executor-3-0 \(new node\)/);
  assert.equal(
    NODES.map((n) => leaf(w, n)),
    old,
  );
  assert.is(w.condition('Secure')?.reason, PkiReason.CertificatesPending);
  await replay(w, ready);
  assert.is(w.condition('Secure')?.status, 'True');
});

test('a leaf is renewed at two thirds of its life, not before', async () => {
  const w = world(spec(1));
  await replay(w, ready);
  const old = leaf(w, 'c-executor-0-tls');
  w.now += 0.6 * YEAR;
  await w.pass();
  assert.is(leaf(w, 'c-executor-0-tls'), old);
  assert.ok(w.last!.requeueAfterSeconds! > 0, 'asks to be called back for the renewal');
  w.now += 0.1 * YEAR;
  await w.pass();
  assert.is.not(leaf(w, 'c-executor-0-tls'), old);
  assert.match(w.events.at(-1)!.message, /c-executor-0-0 \(renewal/);
});

test('a change of the wanted names re-issues the affected leaves at once', async () => {
  const w = world(spec(1));
  await replay(w, ready);
  const before = NODES.slice(0, 2).map((n) => leaf(w, n));
  const d = await pkiHandler.reconcile({
    parent: w.parent,
    children: [...w.children.values()],
    related: { Secret: [ca(w)!] },
    now: w.now,
    config: { ...config, clusterDomain: 'corp.example' },
  });
  const issued = d.apply.filter((s) => s.metadata.name.endsWith('-tls'));
  assert.ok(issued.every((s) => !before.includes(secretText(s, 'tls.crt')!)));
  assert.match(d.events!.find((e) => e.reason === PkiReason.CertificatesIssued)!.message, /names changed/);
});

test('a CA Secret that cannot be used is reported once and never overwritten', async () => {
  const w = world(spec(1));
  await replay(w, ready);
  const children = JSON.stringify([...w.children.values()]);
  w.putRelated({ ...ca(w)!, data: { ...(ca(w)!.data as object), 'ca.crt': btoa('garbage') } });
  const corrupt = JSON.stringify(ca(w));
  const d = await w.pass();
  assert.equal(d.write ?? [], []);
  assert.is(JSON.stringify(ca(w)), corrupt, 'the Secret is left as found');
  assert.is(JSON.stringify([...w.children.values()]), children, 'node Secrets are kept');
  assert.equal([w.condition('Degraded')?.status, w.condition('Degraded')?.reason], ['True', PkiReason.CACorrupt]);
  assert.match(w.condition('Degraded')!.message, /ca\.crt is not a certificate.*left untouched/);
  assert.is(w.condition('Secure')?.status, 'False');
  assert.equal(reasons(w).filter((r) => r === PkiReason.CACorrupt).length, 1);
  await w.pass();
  assert.equal(reasons(w).filter((r) => r === PkiReason.CACorrupt).length, 1, 'reported once');
  const other = await createCA({ commonName: 'other' });
  w.putRelated({ ...ca(w)!, data: { ...(ca(w)!.data as object), 'ca.crt': btoa(other.certPem) } });
  await w.pass();
  assert.match(w.condition('Degraded')!.message, /ca\.key does not belong to ca\.crt/);
});

test('CA renewal re-signs with the same key and subject: no leaf is re-issued, and spiced accepts every moment of it', async () => {
  const w = world(spec(2));
  // The operator's own CA, made 2/3 of ten years ago less a minute: due for renewal a minute from now.
  const old = await createCA({
    commonName: 'spiceai-operator root CA 0123456789abcdef',
    organizationalUnit: 'ns/c',
    now: new Date(w.now - (2 / 3) * 3650 * 24 * 3600 * 1000 + 60_000),
  });
  w.putRelated({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name: 'spiceai-ca-ns-c',
      namespace: 'op',
      labels: { 'spice.ai/cluster': 'c', 'spice.ai/cluster-namespace': 'ns' },
      annotations: { 'spice.ai/created-for': 'cluster-uid' },
    },
    data: secretData({ 'ca.crt': old.certPem, 'ca.key': old.keyPem }),
  });
  await replay(w, ready);
  const leavesBefore = NODES.map((n) => leaf(w, n));
  w.now += 60_000;
  await replay(w, (x) => secretText(ca(x), 'ca.crt') !== old.certPem && ready(x));
  const renewed = secretText(ca(w), 'ca.crt')!;
  assert.is(secretText(ca(w), 'ca.key'), old.keyPem, 'same key');
  const [a, b] = [await parseCertificate(old.certPem), await parseCertificate(renewed)];
  assert.is(b.subject, a.subject, 'same subject');
  assert.ok(b.notAfter.getTime() - a.notAfter.getTime() > 6 * YEAR);
  assert.equal(reasons(w).filter((r) => r === PkiReason.CARenewed).length, 1);
  assert.equal(
    NODES.map((n) => leaf(w, n)),
    leavesBefore,
    'no leaf re-issued',
  );
  for (const n of NODES) {
    assert.ok(await verifyIssuedBy(leaf(w, n), renewed), `${n} verifies against the renewed CA`);
    assert.equal(bundle(w, n), splitPemCertificates(renewed), `${n} trusts the renewed CA alone`);
  }
});

test('the repair (CA Secret deleted): a new CA, and the nodes move to it in steps that spiced accepts at every moment', async () => {
  const w = world(spec(2));
  await replay(w, ready);
  const oldCa = secretText(ca(w), 'ca.crt')!;
  w.deleteRelated(CA_REF);
  await replay(w, (x) => ready(x) && !!ca(x) && secretText(ca(x), 'ca.crt') !== oldCa);
  const newCa = secretText(ca(w), 'ca.crt')!;
  assert.is.not((await parseCertificate(newCa)).subject, (await parseCertificate(oldCa)).subject, 'a new key gets a new name');
  for (const n of NODES) {
    assert.ok(await verifyIssuedBy(leaf(w, n), newCa));
    assert.equal(bundle(w, n), splitPemCertificates(newCa), `${n} trusts only the new CA in the end`);
  }
  const order = reasons(w).filter((r) =>
    [PkiReason.CACreated, PkiReason.TrustRotationStarted, PkiReason.CertificatesIssued, PkiReason.TrustRotationComplete].includes(
      r as never,
    ),
  );
  assert.equal(order.slice(-4), [
    PkiReason.CACreated,
    PkiReason.TrustRotationStarted,
    PkiReason.CertificatesIssued,
    PkiReason.TrustRotationComplete,
  ]);
});

test('the steps of a move wait for the propagation window; the steps are: trust both, re-issue, drop the old CA', async () => {
  const w = world(spec(1));
  await replay(w, ready);
  const oldCa = splitPemCertificates(secretText(ca(w), 'ca.crt')!)[0]!;
  w.deleteRelated(CA_REF);
  await w.pass(); // creates the CA
  w.now += 1000;
  await w.pass();
  const newCa = splitPemCertificates(secretText(ca(w), 'ca.crt')!)[0]!;
  assert.equal(bundle(w, 'c-executor-0-tls'), [oldCa, newCa], "the leaf's own CA first, then the new one");
  assert.is(w.condition('CertificatesReady')?.reason, PkiReason.RotatingTrust);
  w.now += P - 2000;
  await w.pass();
  assert.ok(await verifyIssuedBy(leaf(w, 'c-executor-0-tls'), oldCa), 'no re-issue before every node can have loaded the new trust');
  w.now += 2000;
  await w.pass();
  assert.ok(await verifyIssuedBy(leaf(w, 'c-executor-0-tls'), newCa));
  assert.equal(bundle(w, 'c-executor-0-tls'), [newCa, oldCa]);
  w.now += P - 2000;
  await w.pass();
  assert.equal(bundle(w, 'c-executor-0-tls'), [newCa, oldCa], 'the old CA stays while a peer may still present its leaf');
  w.now += 2000;
  await w.pass();
  assert.equal(bundle(w, 'c-executor-0-tls'), [newCa]);
  await w.pass();
  assert.is(w.condition('CertificatesReady')?.status, 'True');
});

test('the files the previous operator wrote mid-renewal (new CA first, leaves from the old) are refused by spiced, and repaired first', async () => {
  const w = world(spec(1));
  await replay(w, ready);
  const oldCa = secretText(ca(w), 'ca.crt')!;
  const next = await createCA({ commonName: 'spiceai-operator ns/c root CA g2', now: new Date(w.now) });
  // What the old rotation wrote: CA Secret with previous.crt, every bundle [NEW, OLD], leaves still from OLD.
  w.putRelated({ ...ca(w)!, data: secretData({ 'ca.crt': next.certPem, 'ca.key': next.keyPem, 'previous.crt': oldCa }) });
  for (const name of NODES.slice(0, 2)) {
    const s = node(w, name)!;
    w.children.set(`v1/Secret/ns/${name}`, {
      ...s,
      data: { ...(s.data as object), 'ca.crt': btoa(joinPemCertificates([next.certPem, oldCa])) },
    });
  }
  const before = {
    ca: secretText(node(w, 'c-executor-0-tls'), 'ca.crt')!,
    cert: leaf(w, 'c-executor-0-tls'),
    key: secretText(node(w, 'c-executor-0-tls'), 'tls.key')!,
  };
  const refused = await spicedLoadsClusterPki(before);
  assert.equal(refused.ok, false, 'the kit refuses the old rotation order');
  assert.match((refused as { error: string }).error, /was not issued by the provided CA/);
  await w.pass();
  assert.equal(
    bundle(w, 'c-executor-0-tls'),
    [...splitPemCertificates(oldCa), ...splitPemCertificates(next.certPem)],
    "the leaf's own CA goes first at once",
  );
  await replay(w, ready);
  assert.ok(await verifyIssuedBy(leaf(w, 'c-executor-0-tls'), next.certPem));
});

test('a CA Secret the operator did not write is used as it is, announced once, and never written', async () => {
  const w = world(spec(1));
  const own = await createCA({ commonName: 'corp root CA', organizationalUnit: 'platform' });
  w.putRelated({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'spiceai-ca-ns-c', namespace: 'op' },
    type: 'Opaque',
    data: secretData({ 'ca.crt': own.certPem, 'ca.key': own.keyPem }),
  });
  const rv = ca(w)!.metadata.resourceVersion;
  await replay(w, ready);
  assert.is(ca(w)!.metadata.resourceVersion, rv, 'never written');
  assert.ok(await verifyIssuedBy(leaf(w, 'c-executor-0-tls'), own.certPem));
  assert.equal(reasons(w).filter((r) => r === PkiReason.CAAdopted).length, 1);
  assert.not.ok(reasons(w).includes(PkiReason.CACreated), 'nothing was created');
  await w.pass();
  assert.equal(reasons(w).filter((r) => r === PkiReason.CAAdopted).length, 1, 'announced once');
  // Near its end it is not renewed (not ours): Degraded says so, once.
  w.now += 7 * YEAR;
  await w.pass();
  await w.pass();
  assert.is(ca(w)!.metadata.resourceVersion, rv);
  assert.equal([w.condition('Degraded')?.status, w.condition('Degraded')?.reason], ['True', PkiReason.AdoptedCAExpiring]);
  assert.equal(reasons(w).filter((r) => r === PkiReason.AdoptedCAExpiring).length, 1);
});

test('an adopted CA Secret without ca.key cannot sign: reported as CACorrupt, nothing issued', async () => {
  const w = world(spec(1));
  const own = await createCA({ commonName: 'corp root CA' });
  w.putRelated({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'spiceai-ca-ns-c', namespace: 'op' },
    data: secretData({ 'ca.crt': own.certPem }),
  });
  const d = await w.pass();
  assert.equal([d.apply, d.write ?? []], [[], []]);
  assert.equal([w.condition('Degraded')?.reason, w.condition('CertificatesReady')?.status], [PkiReason.CACorrupt, 'False']);
  assert.match(w.condition('Degraded')!.message, /no ca\.key/);
  assert.is((w.parent.status as any).rootCertificateReady, false, 'the status does not claim a usable CA');
});

test("a user-brought CA replacing the operator's: the nodes move to it the same way", async () => {
  const w = world(spec(2));
  await replay(w, ready);
  const own = await createCA({ commonName: 'corp root CA', now: new Date(w.now) });
  w.putRelated({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'spiceai-ca-ns-c', namespace: 'op' },
    data: secretData({ 'ca.crt': own.certPem, 'ca.key': own.keyPem }),
  });
  await replay(w, (x) => ready(x) && NODES.every((n) => bundle(x, n).length === 1));
  for (const n of NODES) assert.ok(await verifyIssuedBy(leaf(w, n), own.certPem));
});

test('allowInsecureConnections issues nothing; Secure is False with a Warning, once', async () => {
  const w = world({ ...spec(1), allowInsecureConnections: true });
  const d = await w.pass();
  assert.equal([d.apply, d.write ?? []], [[], []]);
  assert.equal(
    [w.condition('CertificatesReady')?.reason, w.condition('Secure')?.status, w.condition('Secure')?.reason],
    [PkiReason.InsecureConnections, 'False', PkiReason.InsecureConnections],
  );
  await w.pass();
  assert.equal(w.events.filter((e) => e.reason === PkiReason.InsecureConnections && e.type === 'Warning').length, 1);
});

test('long namespace and cluster names still make a valid CA name (X.520 limits CN and OU to 64 characters)', async () => {
  const long = 'x'.repeat(63);
  const w = new Carrier(
    pkiHandler,
    { apiVersion: 'spice.ai/v1alpha1', kind: 'SpicepodCluster', metadata: { name: long, namespace: long }, spec: spec(1) },
    config,
  );
  const d = await w.pass();
  const subject = (await parseCertificate(secretText(d.write![0]!.object, 'ca.crt')!)).subject;
  assert.match(subject, /^CN=spiceai-operator root CA [0-9a-f]{16}, OU=x{63}\/$/);
});

test('issued leaves verify against the CA with the first-certificate rule even with issueLeaf called directly', async () => {
  // Guard for the kit itself: a correct node passes, a node whose ca.crt lists another CA first does not.
  const a = await createCA({ commonName: 'A' });
  const b = await createCA({ commonName: 'B' });
  const l = await issueLeaf({ ca: a, commonName: 'n', dnsNames: ['n'], ipAddresses: [] });
  assert.equal(await spicedLoadsClusterPki({ ca: joinPemCertificates([a.certPem, b.certPem]), cert: l.certPem, key: l.keyPem! }), {
    ok: true,
  });
  assert.equal(
    (await spicedLoadsClusterPki({ ca: joinPemCertificates([b.certPem, a.certPem]), cert: l.certPem, key: l.keyPem! })).ok,
    false,
  );
});

test.run();
