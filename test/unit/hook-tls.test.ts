// The operator's side of `run --handler-service` (shim/hook-tls.ts) on an
// in-memory API server and a fake clock: the hook's Secret is issued from the
// operator's own CA (the webhook's Secret, created when missing) for the
// Service's names, without the CA's key; a restart writes nothing; at two
// thirds of its life the hook certificate and the operator's client
// certificate are re-issued on the timer; a CA issued elsewhere or a Secret the
// operator did not create is refused with what to do.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeBase64 } from '../../core/base64.ts';
import { parseCertificate, verifyIssuedBy } from '../../core/pki/index.ts';
import { hookSecretName, startHookTls, type HookTls, type HookTlsOptions } from '../../shim/hook-tls.ts';
import { jsonLogger } from '../../shim/log.ts';
import { FakeClock, settledWhen } from '../kit/fake-clock.ts';
import { FakeKube } from '../kit/fake-kube.ts';

const log = jsonLogger({ write: () => {} });
const NS = 'ops';
const options = (kube: FakeKube, clock: FakeClock): HookTlsOptions => ({
  client: kube,
  operatorNamespace: NS,
  clusterDomain: 'cluster.local',
  webhook: { serviceName: 'op-webhook', secretName: 'op-webhook-tls' },
  hooks: { workloads: { serviceName: 'op-workloads-hook', url: 'https://op-workloads-hook.ops.svc' } },
  log,
  clock,
});
const text = (kube: FakeKube, name: string) => {
  const data = (kube.find('v1', 'Secret', NS, name) as unknown as { data: Record<string, string> }).data;
  return Object.fromEntries(Object.entries(data).map(([k, v]) => [k, decodeBase64(v)]));
};

test('issued from the operator CA, for the Service names, without the CA key; a restart writes nothing', async () => {
  const kube = new FakeKube();
  const clock = new FakeClock();
  const tls = await startHookTls(options(kube, clock));
  tls.stop();
  assert.equal(kube.said(), ['create Secret/op-webhook-tls', 'create Secret/op-workloads-hook-tls']);
  const webhook = text(kube, 'op-webhook-tls');
  const hook = text(kube, hookSecretName('op-workloads-hook'));
  assert.equal(Object.keys(hook).sort(), ['ca.crt', 'tls.crt', 'tls.key'], 'no ca.key in a Secret hook pods mount');
  assert.is(hook['ca.crt'], webhook['ca.crt']);
  assert.ok(await verifyIssuedBy(hook['tls.crt']!, webhook['ca.crt']!));
  const info = await parseCertificate(hook['tls.crt']!);
  assert.equal([...info.dnsNames].sort(), [
    'op-workloads-hook',
    'op-workloads-hook.ops',
    'op-workloads-hook.ops.svc',
    'op-workloads-hook.ops.svc.cluster.local',
  ]);
  const mine = tls.current();
  assert.is(mine.caPem, webhook['ca.crt']);
  assert.ok(await verifyIssuedBy(mine.clientCertPem, webhook['ca.crt']!), "the operator's client certificate is the same CA's");
  assert.equal((await parseCertificate(mine.clientCertPem)).dnsNames, ['spiceai-operator']);

  const again = await startHookTls(options(kube, clock));
  again.stop();
  assert.is(kube.said().length, 2, 'a restart writes nothing');
});

test('at two thirds of its life the timer re-issues the hook certificate and the client certificate', async () => {
  const kube = new FakeKube();
  const clock = new FakeClock();
  // No 10-minute checks in between: the one timer falls due at the renewal time itself.
  const tls = await startHookTls({ ...options(kube, clock), checkIntervalMs: 400 * 86_400_000 });
  const before = { hook: text(kube, 'op-workloads-hook-tls')['tls.crt'], client: tls.current().clientCertPem };
  const changes: HookTls[] = [];
  tls.onChange((t) => changes.push(t));
  const due = clock.pending();
  assert.ok(due.length === 1 && due[0]! > 243 * 86_400_000 && due[0]! < 244 * 86_400_000, `due at two thirds of 365 days: ${due}`);
  await clock.advance(244 * 86_400_000);
  await settledWhen(() => changes.length > 0);
  tls.stop();
  const after = text(kube, 'op-workloads-hook-tls');
  assert.is.not(after['tls.crt'], before.hook, 'the hook certificate was re-issued');
  assert.ok(await verifyIssuedBy(after['tls.crt']!, after['ca.crt']!));
  assert.ok(changes.length >= 1, 'the hook clients were given the new client certificate');
  assert.is.not(changes.at(-1)!.clientCertPem, before.client);
  assert.ok(kube.said().includes('update Secret/op-workloads-hook-tls'));
});

test('a CA issued elsewhere (no ca.key) and a Secret the operator did not create are refused, saying what to do', async () => {
  const issuedElsewhere = new FakeKube();
  const source = new FakeKube();
  (await startHookTls(options(source, new FakeClock()))).stop();
  const webhook = source.find('v1', 'Secret', NS, 'op-webhook-tls') as unknown as { data: Record<string, string> };
  const { 'ca.key': _key, ...foreign } = webhook.data;
  issuedElsewhere.put({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'op-webhook-tls', namespace: NS }, data: foreign } as never);
  await startHookTls(options(issuedElsewhere, new FakeClock())).then(
    () => assert.unreachable('started'),
    (e: Error) =>
      assert.match(e.message, /Secret ops\/op-webhook-tls holds no ca\.key .*\(--handler-ca, --handler-client-cert, --handler-client-key/),
  );
  const userSecret = new FakeKube();
  userSecret.put({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'op-workloads-hook-tls', namespace: NS }, data: {} } as never);
  await startHookTls(options(userSecret, new FakeClock())).then(
    () => assert.unreachable('started'),
    (e: Error) =>
      assert.match(
        e.message,
        /Secret ops\/op-workloads-hook-tls exists without the label app\.kubernetes\.io\/managed-by=spiceai-operator/,
      ),
  );
  assert.not.ok(userSecret.said().includes('update Secret/op-workloads-hook-tls'));
});

test.run();
