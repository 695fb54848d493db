// The injector's serving side (shim/webhook/) without a cluster: the
// certificate Secret against an in-memory API (creation, renewal at 2/3,
// never replacing a CA, races between replicas), the HTTPS server's
// certificate swap without a restart, and the `run` flags.
import { request as httpsRequest } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseCertificate, verifyIssuedBy } from '../../core/pki/index.ts';
import { parseSidecarInjectorFlags } from '../../shim/cli/commands/run.ts';
import { UsageError } from '../../shim/cli/usage.ts';
import { serveFetchTls } from '../../shim/http.ts';
import { ApiError, type KObject } from '../../shim/kube/client.ts';
import { jsonLogger } from '../../shim/log.ts';
import { OperatorMetrics } from '../../shim/metrics.ts';
import { KubeConfig } from '@kubernetes/client-node';
import { FakeClock, settledWhen } from '../kit/fake-clock.ts';
import {
  createWebhookHandler,
  ensureServingCertificate,
  removeWebhookConfiguration,
  resolveWebhookUrl,
  servingNames,
  startWebhook,
  type CertificateStoreOptions,
} from '../../shim/webhook/index.ts';

const NS = 'spiceai-operator-system';
const SECRET = 'spiceai-operator-webhook-tls';
const DAY = 86_400_000;
const logLines: string[] = [];
const log = jsonLogger({ verbose: true, write: (line) => logLines.push(line) });

/** The Secret API: get/create/update with resourceVersion preconditions, and hooks to simulate another replica. */
class FakeApi {
  objects = new Map<string, KObject>();
  writes: string[] = [];
  private rv = 1;
  beforeCreate?: () => void;
  beforeUpdate?: () => void;

  async get(_apiVersion: string, _kind: string, namespace: string | undefined, name: string): Promise<KObject | undefined> {
    const o = this.objects.get(`${namespace}/${name}`);
    return o && structuredClone(o);
  }
  async create(obj: KObject): Promise<KObject> {
    this.beforeCreate?.();
    const key = `${obj.metadata.namespace}/${obj.metadata.name}`;
    if (this.objects.has(key)) throw new ApiError({ status: 409, reason: 'AlreadyExists', message: 'exists', verb: 'create', path: key });
    this.put(key, obj);
    this.writes.push(`create ${key}`);
    return obj;
  }
  async update(obj: KObject): Promise<KObject> {
    this.beforeUpdate?.();
    const key = `${obj.metadata.namespace}/${obj.metadata.name}`;
    if (this.objects.get(key)?.metadata.resourceVersion !== obj.metadata.resourceVersion) {
      throw new ApiError({ status: 409, reason: 'Conflict', message: 'conflict', verb: 'update', path: key });
    }
    this.put(key, obj);
    this.writes.push(`update ${key}`);
    return obj;
  }
  put(key: string, obj: KObject) {
    this.objects.set(key, { ...structuredClone(obj), metadata: { ...structuredClone(obj.metadata), resourceVersion: String(this.rv++) } });
  }
  data(): Record<string, string> {
    const d = (this.objects.get(`${NS}/${SECRET}`) as { data?: Record<string, string> } | undefined)?.data ?? {};
    return Object.fromEntries(Object.entries(d).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));
  }
}

function options(api: FakeApi, now: Date, extra: Partial<CertificateStoreOptions> = {}): CertificateStoreOptions {
  return {
    client: api,
    namespace: NS,
    secretName: SECRET,
    commonName: 'spiceai-operator-webhook.spiceai-operator-system.svc',
    ...servingNames({ serviceName: 'spiceai-operator-webhook', operatorNamespace: NS, clusterDomain: 'cluster.local' }),
    log,
    clock: new FakeClock(now),
    ...extra,
  };
}

const T0 = new Date('2026-03-01T00:00:00Z');

test('a missing Secret is created with a CA and a certificate for <service>.<namespace>.svc; the next start writes nothing', async () => {
  const api = new FakeApi();
  const first = await ensureServingCertificate(options(api, T0));
  assert.equal(api.writes, [`create ${NS}/${SECRET}`]);
  const secret = api.objects.get(`${NS}/${SECRET}`) as any;
  assert.is(secret.type, 'kubernetes.io/tls');
  assert.equal(Object.keys(api.data()).sort(), ['ca.crt', 'ca.key', 'tls.crt', 'tls.key']);
  const leaf = await parseCertificate(api.data()['tls.crt']!);
  assert.ok(leaf.dnsNames.includes('spiceai-operator-webhook.spiceai-operator-system.svc'));
  assert.ok(leaf.extKeyUsages.includes('serverAuth'));
  assert.ok(await verifyIssuedBy(api.data()['tls.crt']!, api.data()['ca.crt']!));
  assert.is(first.managed, true);
  // renewal at 2/3 of the lifetime
  const life = first.notAfter.getTime() - first.notBefore.getTime();
  assert.ok(Math.abs(first.renewAt.getTime() - (first.notBefore.getTime() + (2 * life) / 3)) < 1000);

  const again = await ensureServingCertificate(options(api, new Date(T0.getTime() + DAY)));
  assert.equal(api.writes.length, 1, 'no write when nothing is due');
  assert.is(again.fingerprint, first.fingerprint);
});

test('the certificate is renewed at 2/3 of its lifetime, under the same CA', async () => {
  const api = new FakeApi();
  const first = await ensureServingCertificate(options(api, T0));
  const before = api.data();
  const justBefore = await ensureServingCertificate(options(api, new Date(first.renewAt.getTime() - 1000)));
  assert.is(justBefore.fingerprint, first.fingerprint);
  assert.is(api.writes.length, 1);

  const renewed = await ensureServingCertificate(options(api, new Date(first.renewAt.getTime() + 1000)));
  assert.is.not(renewed.fingerprint, first.fingerprint);
  assert.ok(renewed.notAfter > first.notAfter);
  assert.is(api.writes.at(-1), `update ${NS}/${SECRET}`);
  const after = api.data();
  assert.is(after['ca.crt'], before['ca.crt'], 'the CA is kept, so the caBundle stays valid');
  assert.is(after['ca.key'], before['ca.key']);
  assert.ok(await verifyIssuedBy(after['tls.crt']!, before['ca.crt']!));
});

test('a certificate for other names (a renamed Service) is re-issued under the same CA', async () => {
  const api = new FakeApi();
  await ensureServingCertificate(options(api, T0));
  const ca = api.data()['ca.crt'];
  const names = servingNames({
    serviceName: 'renamed',
    operatorNamespace: NS,
    clusterDomain: 'cluster.local',
    url: 'https://127.0.0.1:0/mutate',
  });
  await ensureServingCertificate(options(api, T0, names));
  const leaf = await parseCertificate(api.data()['tls.crt']!);
  assert.ok(leaf.dnsNames.includes(`renamed.${NS}.svc`));
  assert.equal(leaf.ipAddresses, ['127.0.0.1']);
  assert.is(api.data()['ca.crt'], ca);
});

test('a CA due for renewal is re-signed with its own key: old certificates still verify', async () => {
  const api = new FakeApi();
  await ensureServingCertificate(options(api, T0, { caValidityDays: 30, leafValidityDays: 30 }));
  const old = api.data();
  await ensureServingCertificate(options(api, new Date(T0.getTime() + 25 * DAY), { caValidityDays: 30, leafValidityDays: 30 }));
  const now = api.data();
  assert.is.not(now['ca.crt'], old['ca.crt']);
  assert.is(now['ca.key'], old['ca.key']);
  assert.ok(await verifyIssuedBy(old['tls.crt']!, now['ca.crt']!), 'a replica still serving the old certificate stays trusted');
  assert.ok((await parseCertificate(now['ca.crt']!)).notAfter > (await parseCertificate(old['ca.crt']!)).notAfter);
});

test('an unusable CA is reported and never replaced', async () => {
  const api = new FakeApi();
  api.put(`${NS}/${SECRET}`, {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: SECRET, namespace: NS },
    data: { 'ca.crt': Buffer.from('garbage').toString('base64'), 'ca.key': Buffer.from('garbage').toString('base64') },
  });
  const before = structuredClone(api.objects.get(`${NS}/${SECRET}`));
  try {
    await ensureServingCertificate(options(api, T0));
    assert.unreachable('should have thrown');
  } catch (error) {
    assert.match((error as Error).message, `Secret ${NS}/${SECRET} holds no usable CA`);
    assert.match((error as Error).message, 'never replaces a CA');
  }
  assert.equal(api.writes, []);
  assert.equal(api.objects.get(`${NS}/${SECRET}`), before);
});

test("a Secret without ca.key is someone else's certificate: served as it is, never written", async () => {
  const source = new FakeApi();
  await ensureServingCertificate(options(source, T0));
  const d = source.data();
  const api = new FakeApi();
  api.put(`${NS}/${SECRET}`, {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: SECRET, namespace: NS },
    data: {
      'ca.crt': Buffer.from(d['ca.crt']!).toString('base64'),
      'tls.crt': Buffer.from(d['tls.crt']!).toString('base64'),
      'tls.key': Buffer.from(d['tls.key']!).toString('base64'),
    },
  });
  const served = await ensureServingCertificate(options(api, new Date(T0.getTime() + 364 * DAY)));
  assert.is(served.managed, false);
  assert.is(served.certPem, d['tls.crt']);
  assert.equal(api.writes, []);
});

test("two replicas creating at once: the loser uses the winner's Secret", async () => {
  const api = new FakeApi();
  const other = new FakeApi();
  await ensureServingCertificate(options(other, T0));
  api.beforeCreate = () => {
    api.beforeCreate = undefined;
    api.put(`${NS}/${SECRET}`, other.objects.get(`${NS}/${SECRET}`)!);
  };
  const mine = await ensureServingCertificate(options(api, T0));
  assert.is(mine.certPem, other.data()['tls.crt']);
  assert.equal(api.writes, []);
});

test("two replicas renewing at once: the loser re-reads and uses the winner's certificate", async () => {
  const api = new FakeApi();
  const first = await ensureServingCertificate(options(api, T0));
  const due = new Date(first.renewAt.getTime() + 1000);
  const winner = new FakeApi();
  winner.put(`${NS}/${SECRET}`, api.objects.get(`${NS}/${SECRET}`)!);
  const theirs = await ensureServingCertificate(options(winner, due));
  api.beforeUpdate = () => {
    api.beforeUpdate = undefined;
    api.put(`${NS}/${SECRET}`, winner.objects.get(`${NS}/${SECRET}`)!);
  };
  const mine = await ensureServingCertificate(options(api, due));
  assert.is(mine.fingerprint, theirs.fingerprint);
  assert.equal(api.writes, [`create ${NS}/${SECRET}`]);
});

test('no key material or certificate reaches the logs', () => {
  assert.ok(logLines.length > 0);
  for (const line of logLines) {
    assert.not.match(line, /BEGIN|PRIVATE|MII/);
  }
});

async function peerFingerprint(port: number, ca: string, servername?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest({ host: '127.0.0.1', port, path: '/health', ca, agent: false, servername }, (res) => {
      const fp = (res.socket as TLSSocket).getPeerCertificate().fingerprint256.replace(/:/g, '').toLowerCase();
      res.resume();
      res.on('end', () => resolve(fp));
    });
    req.on('error', reject);
    req.end();
  });
}

test('the HTTPS server swaps its certificate without a restart; clients verify both against the CA', async () => {
  const api = new FakeApi();
  const names = servingNames({
    serviceName: 'svc',
    operatorNamespace: NS,
    clusterDomain: 'cluster.local',
    url: 'https://127.0.0.1:0/mutate',
  });
  const now = new Date();
  const first = await ensureServingCertificate(options(api, now, names));
  const server = await serveFetchTls(() => new Response('OK'), '127.0.0.1:0', first);
  try {
    assert.is(await peerFingerprint(server.port, first.caPem), first.fingerprint);
    // A re-issue now (as a renewal does later): for one more name, so the clock stays real for TLS.
    const renewed = await ensureServingCertificate(options(api, new Date(), { ...names, dnsNames: [...names.dnsNames, 'extra.example'] }));
    assert.is.not(renewed.fingerprint, first.fingerprint);
    server.setCertificate(renewed);
    assert.is(await peerFingerprint(server.port, first.caPem), renewed.fingerprint);
    // the service name is in the certificate, as the API server dials it
    assert.is(await peerFingerprint(server.port, first.caPem, `svc.${NS}.svc`), renewed.fingerprint);
  } finally {
    await server.close();
  }
});

function post(
  port: number,
  ca: string,
  path: string,
  body: string,
): Promise<{ status: number; text: string; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      { host: '127.0.0.1', port, path, method: 'POST', ca, agent: false, headers: { 'content-type': 'application/json' } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text, headers: res.headers }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

test('as served: POST /mutate on the text route answers exactly what the fetch handler answers; admissions are counted', async () => {
  const metrics = new OperatorMetrics();
  const lines: string[] = [];
  const injector = createWebhookHandler({
    defaults: { image: 'img:1', imagePullPolicy: 'IfNotPresent' },
    operatorNamespace: NS,
    telemetryProperties: {},
    getConfigMap: async (ns, name) => (ns === 'apps' && name === 'demo' ? { data: { 'spicepod.yaml': 'x' } } : undefined),
    metrics,
    log: jsonLogger({ verbose: true, write: (l) => lines.push(l) }),
  });
  const api = new FakeApi();
  const names = servingNames({
    serviceName: 'svc',
    operatorNamespace: NS,
    clusterDomain: 'cluster.local',
    url: 'https://127.0.0.1:0/mutate',
  });
  const cert = await ensureServingCertificate(options(api, new Date(), names));
  const server = await serveFetchTls(injector.fetch, '127.0.0.1:0', cert, {
    maxBodyBytes: 64 * 1024,
    textRoutes: { 'POST /mutate': injector.mutate },
  });
  const review = (annotations: Record<string, string>) =>
    JSON.stringify({
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      request: {
        uid: 'u',
        kind: { group: '', version: 'v1', kind: 'Pod' },
        namespace: 'apps',
        operation: 'CREATE',
        object: { metadata: { name: 'p', annotations }, spec: { containers: [{ name: 'app' }] } },
      },
    });
  try {
    for (const body of [review({ 'spice.ai/inject': 'demo' }), review({}), review({ 'spice.ai/inject': 'missing' }), '{broken']) {
      const served = await post(server.port, cert.caPem, '/mutate', body);
      const viaFetch = await injector.fetch(new Request('https://x/mutate', { method: 'POST', body }));
      assert.is(served.status, viaFetch.status);
      assert.equal(JSON.parse(served.text), await viaFetch.json());
      assert.is(served.headers['content-type'], 'application/json');
    }
    const health = await new Promise<number>((resolve, reject) => {
      httpsRequest(
        { host: '127.0.0.1', port: server.port, path: '/health', ca: cert.caPem, agent: false },
        (res) => (res.resume(), resolve(res.statusCode ?? 0)),
      )
        .on('error', reject)
        .end();
    });
    assert.is(health, 200, 'other routes go through the fetch handler');
    assert.is((await post(server.port, cert.caPem, '/mutate', 'x'.repeat(70 * 1024))).status, 413);
  } finally {
    await server.close();
  }
  const scrape = await metrics.registry.metrics();
  assert.match(scrape, /spiceai_operator_webhook_admissions_total\{result="allowed"\} 2/);
  assert.match(scrape, /spiceai_operator_webhook_admissions_total\{result="skipped"\} 2/);
  assert.match(scrape, /spiceai_operator_webhook_admissions_total\{result="denied"\} 2/);
  assert.match(scrape, /spiceai_operator_webhook_admissions_total\{result="error"\} 2/);
  assert.match(scrape, /spiceai_operator_webhook_admission_duration_seconds_count 8/);
  assert.ok(lines.some((l) => JSON.parse(l).msg === 'sidecar injected'));
  assert.ok(lines.some((l) => JSON.parse(l).msg === 'admission denied' && /ConfigMap "missing" not found/.test(JSON.parse(l).reason)));
});

/** FakeApi plus server-side apply of cluster-scoped objects (the webhook configuration). */
class FakeCluster extends FakeApi {
  applies: KObject[] = [];
  override async get(apiVersion: string, kind: string, namespace: string | undefined, name: string) {
    if (kind === 'MutatingWebhookConfiguration') {
      const o = this.objects.get(`/${name}`);
      return o && structuredClone(o);
    }
    return super.get(apiVersion, kind, namespace, name);
  }
  deletes: string[] = [];
  async apply(obj: KObject): Promise<KObject> {
    this.applies.push(structuredClone(obj));
    const have = this.objects.get(`/${obj.metadata.name}`);
    // server-side apply merges labels: another manager's stay
    this.put(`/${obj.metadata.name}`, {
      ...obj,
      metadata: { ...obj.metadata, labels: { ...have?.metadata.labels, ...obj.metadata.labels } },
    });
    return obj;
  }
  async delete(_apiVersion: string, _kind: string, _namespace: string | undefined, name: string): Promise<boolean> {
    this.deletes.push(name);
    return this.objects.delete(`/${name}`);
  }
}

const kubeConfig = () => {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: 'https://127.0.0.1:1', skipTLSVerify: true }],
    users: [{ name: 'u' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return kc;
};

const webhookOptions = (api: FakeCluster, extra: Partial<Parameters<typeof startWebhook>[0]> = {}): Parameters<typeof startWebhook>[0] => ({
  kubeConfig: kubeConfig(),
  client: api as never,
  log,
  metrics: new OperatorMetrics(),
  operatorNamespace: NS,
  clusterDomain: 'cluster.local',
  namespaces: [],
  endpoint: '127.0.0.1:0',
  serviceName: 'svc',
  configurationName: 'inj',
  secretName: SECRET,
  defaultImage: 'img:1',
  defaultImagePullPolicy: 'IfNotPresent',
  telemetryProperties: {},
  checkIntervalMs: 3_600_000,
  ...extra,
});

test("a configuration rendered by the Helm chart is kept current but stays Helm's: never labelled ours, never removed", async () => {
  const api = new FakeCluster();
  api.put('/inj', {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'MutatingWebhookConfiguration',
    metadata: { name: 'inj', labels: { 'app.kubernetes.io/managed-by': 'Helm' } },
    webhooks: [],
  } as KObject);
  const webhook = await startWebhook(webhookOptions(api));
  await webhook.stop();
  const live = api.objects.get('/inj') as any;
  assert.is(live.metadata.labels['app.kubernetes.io/managed-by'], 'Helm');
  assert.is(Buffer.from(live.webhooks[0].clientConfig.caBundle, 'base64').toString(), webhook.certificate().caPem);
  assert.equal(live.webhooks[0].clientConfig.service, { name: 'svc', namespace: NS, port: 443, path: '/mutate' });
  await removeWebhookConfiguration(api as never, 'inj', log);
  assert.equal(api.deletes, []);

  // One the operator created is removed when the injector is turned off.
  const mine = new FakeCluster();
  const w2 = await startWebhook(webhookOptions(mine));
  await w2.stop();
  assert.is((mine.objects.get('/inj') as any).metadata.labels['app.kubernetes.io/managed-by'], 'spiceai-operator');
  await removeWebhookConfiguration(mine as never, 'inj', log);
  assert.equal(mine.deletes, ['inj']);
});

async function servedFingerprint(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest({ host: '127.0.0.1', port, path: '/health', agent: false, rejectUnauthorized: false }, (res) => {
      const fp = (res.socket as TLSSocket).getPeerCertificate().fingerprint256.replace(/:/g, '').toLowerCase();
      res.resume();
      res.on('end', () => resolve(fp));
    });
    req.on('error', reject);
    req.end();
  });
}

test('the running injector renews its certificate at 2/3 of its lifetime and serves the new one without a restart', async () => {
  const api = new FakeCluster();
  const clock = new FakeClock(Date.now());
  const metrics = new OperatorMetrics();
  // Checks only at the renewal time: the fake clock jumps there without running hourly checks on the way.
  const webhook = await startWebhook(
    webhookOptions(api, { metrics, url: 'https://127.0.0.1:0/mutate', clock, checkIntervalMs: 400 * DAY }),
  );
  try {
    const first = webhook.certificate();
    assert.is(webhook.url, `https://127.0.0.1:${webhook.port}/mutate`);
    assert.is(await servedFingerprint(webhook.port), first.fingerprint);
    assert.is(api.applies.length, 1, 'the configuration is created at start');
    const applied = api.applies[0] as any;
    assert.is(Buffer.from(applied.webhooks[0].clientConfig.caBundle, 'base64').toString(), first.caPem);
    assert.is(applied.webhooks[0].clientConfig.url, webhook.url);

    await webhook.check(); // nothing due: nothing written
    assert.is(api.applies.length, 1);
    assert.equal(api.writes, [`create ${NS}/${SECRET}`]);

    await clock.advanceTo(first.renewAt.getTime() + 1000);
    // The timer's check, due at the renewal time, renews it (no call to check()).
    await settledWhen(() => webhook.certificate().fingerprint !== first.fingerprint);
    const renewed = webhook.certificate();
    await webhook.check();
    assert.is(webhook.certificate().fingerprint, renewed.fingerprint, 'a check after the renewal changes nothing');
    assert.is(renewed.caPem, first.caPem);
    assert.is(await servedFingerprint(webhook.port), renewed.fingerprint, 'the same server now presents the renewed certificate');
    assert.is(api.applies.length, 1, 'the caBundle did not change, so the configuration is not rewritten');
    assert.match(
      await metrics.registry.metrics(),
      `spiceai_operator_webhook_certificate_expiry_timestamp_seconds ${renewed.notAfter.getTime() / 1000}`,
    );
  } finally {
    await webhook.stop();
  }
});

test('the webhook URL may name port 0: the bound port is registered', () => {
  assert.is(resolveWebhookUrl('https://127.0.0.1:0/mutate', 8443), 'https://127.0.0.1:8443/mutate');
  assert.is(resolveWebhookUrl('https://injector.local:9443/mutate', 8443), 'https://injector.local:9443/mutate');
});

const flags = (over: Record<string, unknown> = {}) => ({
  'webhook-endpoint': '0.0.0.0:8443',
  'webhook-service': 'spiceai-operator-webhook',
  'webhook-configuration': 'spiceai-operator-sidecar-injector',
  'webhook-secret': SECRET,
  'sidecar-default-image': 'spiceai/spiceai:latest-models',
  'sidecar-default-image-pull-policy': 'IfNotPresent',
  'admission-policy': 'err',
  'validating-webhook-configuration': 'spiceai-operator-validation',
  ...over,
});

test('run flags of the injector: defaults, --no-sidecar-injector, and refusals that name the flag', () => {
  assert.equal(parseSidecarInjectorFlags(flags()), {
    enabled: true,
    crdWebhooks: true,
    admissionPolicy: 'err',
    validatingConfigurationName: 'spiceai-operator-validation',
    endpoint: '0.0.0.0:8443',
    serviceName: 'spiceai-operator-webhook',
    configurationName: 'spiceai-operator-sidecar-injector',
    secretName: SECRET,
    url: undefined,
    defaultImage: 'spiceai/spiceai:latest-models',
    defaultImagePullPolicy: 'IfNotPresent',
  });
  assert.is(parseSidecarInjectorFlags(flags({ 'no-sidecar-injector': true })).enabled, false);
  assert.is(parseSidecarInjectorFlags(flags({ 'no-crd-webhooks': true })).crdWebhooks, false);
  assert.is(parseSidecarInjectorFlags(flags({ 'admission-policy': 'warn' })).admissionPolicy, 'warn');
  const refused = (over: Record<string, unknown>, message: string) => {
    try {
      parseSidecarInjectorFlags(flags(over));
      assert.unreachable(JSON.stringify(over));
    } catch (error) {
      assert.instance(error, UsageError);
      assert.match((error as Error).message, message);
    }
  };
  refused({ 'enable-sidecar-injector': true, 'no-sidecar-injector': true }, 'contradict');
  refused({ 'enable-crd-webhooks': true, 'no-crd-webhooks': true }, 'contradict');
  refused({ 'admission-policy': 'strict' }, '--admission-policy strict: expected err, warn or off');
  refused(
    { 'sidecar-default-image-pull-policy': 'sometimes' },
    '--sidecar-default-image-pull-policy sometimes: expected one of Always, IfNotPresent, Never',
  );
  refused({ 'webhook-url': 'http://127.0.0.1:8443/mutate' }, '--webhook-url');
  refused({ 'webhook-service': 'Bad_Name' }, '--webhook-service Bad_Name');
  refused({ 'sidecar-default-image': 'a b' }, '--sidecar-default-image');
  refused({ 'sidecar-default-memory-limit': '1 GB' }, '--sidecar-default-memory-limit: "1 GB" is not a Kubernetes quantity');
  refused(
    { 'sidecar-default-cpu-request': '2', 'sidecar-default-cpu-limit': '500m' },
    '--sidecar-default-cpu-request 2 is above --sidecar-default-cpu-limit 500m',
  );
  assert.equal(
    parseSidecarInjectorFlags(flags({ 'sidecar-default-cpu-request': '100m', 'sidecar-default-memory-limit': '1Gi' })).defaultResources,
    {
      requests: { cpu: '100m' },
      limits: { memory: '1Gi' },
    },
  );
});

test.run();
