// The PKI handler's decisions, with plain objects. `PkiWorld` carries out
// what it returns (applies, create-only writes, guarded replaces) between passes.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Desired, HandlerConfig, KubeObject } from '../../core/handler.ts';
import { parseCertificate, splitPemCertificates, verifyIssuedBy } from '../../core/pki/index.ts';
import { secretData, secretText } from '../../core/secrets.ts';
import { reconcilePki } from '../../functions/pki/index.ts';

const config: HandlerConfig = { operatorNamespace: 'op', clusterDomain: 'cluster.local', pauseCrashloopingPodsThreshold: 10, telemetryProperties: {} };
const YEAR = 365 * 24 * 3600 * 1000;
const pod = { version: 'v1', kind: 'Spicepod', name: 's', runtime: { scheduler: { state_location: 'file:///tmp/spice-cluster' } } };

class PkiWorld {
  parent: KubeObject;
  children = new Map<string, KubeObject>();
  ca?: KubeObject;
  now = Date.parse('2026-01-01T00:00:00Z');
  last!: Desired;
  rv = 1;
  constructor(spec: Record<string, unknown>) {
    this.parent = { apiVersion: 'spice.ai/v1alpha1', kind: 'SpicepodCluster', metadata: { name: 'c', namespace: 'ns', uid: 'u', generation: 1 }, spec };
  }
  async pass(): Promise<Desired> {
    const d = await reconcilePki({ parent: this.parent, children: [...this.children.values()], related: { Secret: this.ca ? [this.ca] : [] }, now: this.now, config });
    const next = new Map<string, KubeObject>();
    for (const ref of d.keep ?? []) next.set(ref.name, this.children.get(ref.name)!);
    for (const o of d.apply) next.set(o.metadata.name, o);
    this.children = next;
    for (const w of d.write ?? []) {
      if (w.ifResourceVersion === undefined && this.ca) continue; // create-only
      if (w.ifResourceVersion !== undefined && w.ifResourceVersion !== this.ca?.metadata.resourceVersion) continue;
      this.ca = { ...w.object, metadata: { ...w.object.metadata, resourceVersion: String(++this.rv), uid: this.ca?.metadata.uid ?? 'ca-uid' } };
    }
    if (d.status) this.parent = { ...this.parent, status: { ...(this.parent.status as object), ...d.status } };
    this.last = d;
    return d;
  }
  async settle(max = 5) {
    for (let i = 0; i < max; i++) {
      const d = await this.pass();
      if (!d.write?.length && !d.events?.some((e) => e.reason === 'CertificatesIssued') && d.apply.length) return;
    }
  }
  leaf(name: string) {
    return secretText(this.children.get(name), 'tls.crt')!;
  }
  condition(type: string) {
    return (this.parent.status as any)?.conditions?.find((c: any) => c.type === type);
  }
}

const spec = (executors = 2) => ({ schedulerSetSpec: { replicas: 1, spicepod: pod }, executorSetSpec: { replicas: executors } });

test('the first pass creates the CA (create-only, in the operator namespace) and no leaves yet', async () => {
  const w = new PkiWorld(spec());
  const d = await w.pass();
  assert.is(d.apply.length, 0);
  assert.is(d.write?.length, 1);
  const ca = d.write![0]!;
  assert.is(ca.ifResourceVersion, undefined, 'created only if absent');
  assert.is(ca.object.metadata.namespace, 'op');
  assert.is(ca.object.metadata.name, 'spiceai-ca-ns-c');
  assert.ok(secretText(ca.object, 'ca.key')?.includes('PRIVATE KEY'));
  assert.is((w.parent.status as any).rootCertificateReady, false);
});

test('then every node gets a Secret with ca.crt, tls.crt and tls.key and the names its peers dial; the key stays in the operator namespace', async () => {
  const w = new PkiWorld(spec());
  await w.settle();
  assert.equal([...w.children.keys()].sort(), ['c-ca', 'c-executor-0-tls', 'c-executor-1-tls', 'c-scheduler-0-tls']);
  for (const s of w.children.values()) assert.not.ok(secretText(s, 'ca.key'), `${s.metadata.name} must not hold the CA key`);
  const info = await parseCertificate(w.leaf('c-scheduler-0-tls'));
  assert.equal(info.dnsNames.sort(), [
    'c-scheduler-0-0.c-scheduler-headless.ns.svc.cluster.local',
    'c-scheduler-headless',
    'c-scheduler-headless.ns',
    'c-scheduler-headless.ns.svc',
    'c-scheduler-headless.ns.svc.cluster.local',
    'localhost',
  ].sort());
  assert.equal(info.ipAddresses, ['127.0.0.1']);
  assert.ok(await verifyIssuedBy(w.leaf('c-executor-1-tls'), secretText(w.ca, 'ca.crt')!));
  assert.is(w.children.get('c-executor-1-tls')!.type, 'kubernetes.io/tls');
  const status = w.parent.status as any;
  assert.is(status.rootCertificateReady, true);
  assert.is(status.rootSecretName, 'spiceai-ca-ns-c');
  const tenYears = Date.parse(status.rootExpiresAt) - w.now;
  assert.ok(Math.abs(tenYears - 10 * YEAR) < 5 * 24 * 3600 * 1000, `CA valid for 10 years, got ${status.rootExpiresAt}`);
  assert.is(w.condition('CertificatesReady')?.status, 'True');
});

test('a second pass with the same input changes nothing', async () => {
  const w = new PkiWorld(spec());
  await w.settle();
  const before = JSON.stringify([...w.children.values()]);
  const caBefore = JSON.stringify(w.ca);
  const d = await w.pass();
  assert.is(JSON.stringify([...w.children.values()]), before);
  assert.is(JSON.stringify(w.ca), caBefore);
  assert.equal(d.write, []);
  assert.equal(d.events, []);
});

test('scaling executors 2 -> 4 issues only the two new leaves', async () => {
  const w = new PkiWorld(spec(2));
  await w.settle();
  const old = [w.leaf('c-scheduler-0-tls'), w.leaf('c-executor-0-tls'), w.leaf('c-executor-1-tls')];
  w.parent = { ...w.parent, spec: spec(4) };
  const d = await w.pass();
  assert.match(d.events!.find((e) => e.reason === 'CertificatesIssued')!.message, /issued 2 node certificates: c-executor-2-0 \(new node\), c-executor-3-0 \(new node\)/);
  assert.equal([w.leaf('c-scheduler-0-tls'), w.leaf('c-executor-0-tls'), w.leaf('c-executor-1-tls')], old);
});

test('a leaf is renewed at two thirds of its life, not before', async () => {
  const w = new PkiWorld(spec(1));
  await w.settle();
  const old = w.leaf('c-executor-0-tls');
  w.now += 0.6 * YEAR;
  await w.pass();
  assert.is(w.leaf('c-executor-0-tls'), old);
  assert.ok(w.last.requeueAfterSeconds! > 0, 'asks to be called back for the renewal');
  w.now += 0.1 * YEAR;
  await w.pass();
  assert.is.not(w.leaf('c-executor-0-tls'), old);
});

test('a change of the wanted names re-issues the affected leaves at once', async () => {
  const w = new PkiWorld(spec(1));
  await w.settle();
  const scheduler = w.leaf('c-scheduler-0-tls');
  const executor = w.leaf('c-executor-0-tls');
  const d = await reconcilePki({ parent: w.parent, children: [...w.children.values()], related: { Secret: [w.ca!] }, now: w.now, config: { ...config, clusterDomain: 'corp.example' } });
  const issued = d.apply.filter((s) => s.kind === 'Secret' && s.metadata.name.endsWith('-tls'));
  assert.ok(issued.every((s) => secretText(s, 'tls.crt') !== scheduler && secretText(s, 'tls.crt') !== executor));
  assert.match(d.events![0]!.message, /names changed/);
});

test('a CA Secret that cannot be used is reported and never overwritten', async () => {
  const w = new PkiWorld(spec(1));
  await w.settle();
  const children = JSON.stringify([...w.children.values()]);
  w.ca = { ...w.ca!, data: { ...(w.ca!.data as object), 'ca.crt': btoa('garbage') } };
  const corrupt = JSON.stringify(w.ca);
  const d = await w.pass();
  assert.equal(d.write ?? [], []);
  assert.is(JSON.stringify(w.ca), corrupt, 'the Secret is left as found');
  assert.is(JSON.stringify([...w.children.values()]), children, 'node Secrets are kept');
  assert.is(w.condition('Degraded')?.status, 'True');
  assert.match(w.condition('Degraded')!.message, /ca\.crt is not a certificate.*left untouched/);
  assert.ok(d.events?.some((e) => e.type === 'Warning' && e.reason === 'CACorrupt'));
  assert.equal((await w.pass()).events, [], 'reported once');
  // A key that does not match is caught too.
  const other = new PkiWorld(spec(1));
  await other.settle();
  w.ca = { ...w.ca!, data: { ...(w.ca!.data as object), 'ca.crt': secretData({ x: secretText(other.ca, 'ca.crt')! }).x } };
  await w.pass();
  assert.match(w.condition('Degraded')!.message, /ca\.key does not belong to ca\.crt/);
});

test('CA renewal overlaps: both CAs trusted everywhere first, then new leaves, then the old CA goes', async () => {
  const w = new PkiWorld(spec(1));
  await w.settle();
  const oldCa = secretText(w.ca, 'ca.crt')!;
  // Time passes in steps, leaves renewing along the way, until 2/3 of the CA's 10 years.
  while (secretText(w.ca, 'ca.crt') === oldCa) {
    w.now += 0.25 * YEAR;
    await w.pass();
  }
  const newCa = secretText(w.ca, 'ca.crt')!;
  assert.is.not(newCa, oldCa);
  assert.is(secretText(w.ca, 'previous.crt'), oldCa);
  assert.match((await parseCertificate(newCa)).subject, /g2/);
  // Phase 1: bundles carry both CAs; leaves are not yet re-issued.
  await w.pass();
  const bundle = splitPemCertificates(secretText(w.children.get('c-executor-0-tls'), 'ca.crt')!);
  assert.is(bundle.length, 2);
  assert.ok(await verifyIssuedBy(w.leaf('c-executor-0-tls'), oldCa), 'leaves wait for the bundles to reach the pods');
  // Phase 2: after propagation, leaves come from the new CA (both CAs still trusted).
  w.now += 121_000;
  await w.pass();
  assert.ok(await verifyIssuedBy(w.leaf('c-executor-0-tls'), newCa));
  assert.is(splitPemCertificates(secretText(w.children.get('c-scheduler-0-tls'), 'ca.crt')!).length, 2);
  // Phase 3: once the new leaves have propagated, the old CA leaves the bundles.
  w.now += 121_000;
  await w.pass();
  assert.is(secretText(w.ca, 'previous.crt'), undefined);
  await w.pass();
  assert.equal(splitPemCertificates(secretText(w.children.get('c-executor-0-tls'), 'ca.crt')!), [newCa.trim() + '\n'].map((p) => splitPemCertificates(p)[0]));
});

test('allowInsecureConnections issues nothing', async () => {
  const w = new PkiWorld({ ...spec(1), allowInsecureConnections: true });
  const d = await w.pass();
  assert.equal(d.apply, []);
  assert.equal(d.write ?? [], []);
  assert.is(w.condition('CertificatesReady')?.reason, 'InsecureConnections');
});

test.run();
