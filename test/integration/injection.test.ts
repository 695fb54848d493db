// Sidecar injection end to end: the operator runs as its own process, serves
// the webhook over TLS with the certificate it provisioned, registers it (by
// URL: the test control plane has no service network), and the real API
// server calls it for Pods created by kubectl and by the controller-manager.
import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { auditWrites, eventually, freshNamespace, kubectl, kubectlJson, kubectlOk } from '../harness/kube.ts';
import { startOperator, type OperatorProcess } from '../harness/operator.ts';

const OPERATOR_NS = 'spiceai-operator-system';
const SIDECAR = 'spice-sidecar';
const suffix = Math.random().toString(36).slice(2, 7);
const CONFIGURATION = `spiceai-inj-test-${suffix}`;
const SECRET = `spiceai-inj-test-tls-${suffix}`;
const SPICEPOD = 'version: v1\nkind: Spicepod\nname: demo-sidecar\n';
let ns = '';
/** Namespaces enforcing a Pod Security Standard, by level (injection is limited to the watched namespaces). */
const pss: Record<'restricted' | 'baseline', string> = { restricted: '', baseline: '' };
const extraNamespaces: string[] = [];
let operator: OperatorProcess | undefined;

const operatorArgs = () => [
  '--namespaces',
  [ns, OPERATOR_NS, ...extraNamespaces].join(','),
  '--handlers',
  'workloads',
  '--enable-sidecar-injector',
  '--webhook-url',
  'https://127.0.0.1:0/mutate',
  '--webhook-configuration',
  CONFIGURATION,
  '--webhook-secret',
  SECRET,
  '--sidecar-default-image',
  'example.com/spiceai:test',
  '--sidecar-default-memory-request',
  '64Mi',
  '--verbose',
];

function podManifest(
  name: string,
  annotations: Record<string, string>,
  extra: { ports?: number[]; labels?: Record<string, string>; namespace?: string } = {},
) {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: extra.namespace ?? ns, annotations, ...(extra.labels ? { labels: extra.labels } : {}) },
    spec: { containers: [{ name: 'app', image: 'busybox', ports: (extra.ports ?? [8080]).map((containerPort) => ({ containerPort })) }] },
  });
}

function deploymentManifest(name: string, annotations: Record<string, string>, ports: number[] = [8080]) {
  return JSON.stringify({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: ns },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name }, annotations },
        spec: { containers: [{ name: 'app', image: 'busybox', ports: ports.map((containerPort) => ({ containerPort })) }] },
      },
    },
  });
}

const sidecarOf = (pod: any) => (pod.spec.initContainers ?? []).find((c: any) => c.name === SIDECAR);

test.before(async () => {
  kubectlOk(['apply', '--server-side', '-f', '-'], readFileSync(new URL('../../crds/spicepodsets.spice.ai.yaml', import.meta.url), 'utf8'));
  kubectl(['create', 'namespace', OPERATOR_NS]);
  ns = freshNamespace('inj');
  for (const level of ['restricted', 'baseline'] as const) {
    pss[level] = freshNamespace(`inj-${level}`);
    extraNamespaces.push(pss[level]);
    kubectlOk(['label', 'namespace', pss[level], `pod-security.kubernetes.io/enforce=${level}`]);
    kubectlOk(['create', 'configmap', 'demo', '-n', pss[level], `--from-literal=spicepod.yaml=${SPICEPOD}`]);
  }
  kubectlOk(['create', 'configmap', 'demo', '-n', ns, `--from-literal=spicepod.yaml=${SPICEPOD}`]);
  kubectl(['create', 'configmap', `demo-${suffix}`, '-n', OPERATOR_NS, `--from-literal=spicepod.yaml=${SPICEPOD}`]);
  operator = await startOperator(operatorArgs());
  await operator.waitForLog((l) => l.msg === 'webhook serving');
  // The API server picks the new configuration up through an informer: wait until it calls us.
  await eventually(
    'the API server to call the webhook',
    () => {
      const r = kubectl(['create', '--dry-run=server', '-o', 'json', '-f', '-'], podManifest('probe', { 'spice.ai/inject': 'demo' }));
      return r.code === 0 && sidecarOf(JSON.parse(r.out));
    },
    30_000,
    500,
  );
});

test('the operator provisioned its serving certificate in a Secret and registered the CA and URL', () => {
  const secret = kubectlJson(['get', 'secret', SECRET, '-n', OPERATOR_NS]);
  assert.is(secret.type, 'kubernetes.io/tls');
  assert.equal(Object.keys(secret.data).sort(), ['ca.crt', 'ca.key', 'tls.crt', 'tls.key']);
  const cfg = kubectlJson(['get', 'mutatingwebhookconfiguration', CONFIGURATION]);
  const serving = operator!.logs.find((l) => l.msg === 'webhook serving')!;
  assert.is(cfg.webhooks.length, 2);
  for (const w of cfg.webhooks) {
    assert.is(w.clientConfig.caBundle, secret.data['ca.crt']);
    assert.is(w.clientConfig.url, serving.url);
    assert.is(w.sideEffects, 'None');
    assert.is(w.reinvocationPolicy, 'IfNeeded');
  }
  assert.equal(
    cfg.webhooks.map((w: any) => [w.name, w.failurePolicy]),
    [
      ['sidecar.inject.spice.ai', 'Ignore'],
      ['required.inject.spice.ai', 'Fail'],
    ],
  );
  assert.not.match(JSON.stringify(operator!.logs), /BEGIN|PRIVATE KEY/);
});

test('an annotated Pod is created with the spiced sidecar; an unannotated one is untouched', () => {
  kubectlOk(
    ['create', '-f', '-'],
    podManifest('annotated', { 'spice.ai/inject': 'demo', 'spice.ai/http-port': '28090', 'spice.ai/sidecar-cpu-limit': '500m' }),
  );
  const pod = kubectlJson(['get', 'pod', 'annotated', '-n', ns]);
  const sidecar = sidecarOf(pod);
  assert.ok(sidecar, 'sidecar injected');
  assert.is(sidecar.restartPolicy, 'Always');
  assert.is(sidecar.image, 'example.com/spiceai:test');
  assert.equal(sidecar.args, ['--http', '0.0.0.0:28090', '--flight', '0.0.0.0:15051', '--metrics', '0.0.0.0:19090']);
  // The operator's default memory request and the Pod's CPU limit; the API server defaults the CPU request to the limit.
  assert.equal(sidecar.resources, { requests: { cpu: '500m', memory: '64Mi' }, limits: { cpu: '500m' } });
  assert.is(pod.metadata.annotations['spice.ai/sidecar-injected'], 'true');
  assert.ok(pod.spec.volumes.some((v: any) => v.configMap?.name === 'demo'));
  assert.equal(
    pod.spec.containers.map((c: any) => c.name),
    ['app'],
  );

  kubectlOk(['create', '-f', '-'], podManifest('plain', {}));
  const plain = kubectlJson(['get', 'pod', 'plain', '-n', ns]);
  assert.is(sidecarOf(plain), undefined);
  assert.is(plain.metadata.annotations?.['spice.ai/sidecar-injected'], undefined);
});

test("a Deployment's Pods, created by the controller-manager, come out with the sidecar (newer annotation spelling)", async () => {
  kubectlOk(
    ['apply', '-f', '-'],
    deploymentManifest('web', { 'spice.ai/inject': 'true', 'spice.ai/inject-config': 'demo', 'spice.ai/image-pull-policy': 'Never' }),
  );
  const pods = await eventually('two Deployment pods', () => {
    const items = kubectlJson(['get', 'pods', '-n', ns, '-l', 'app=web']).items;
    return items.length === 2 ? items : undefined;
  });
  for (const pod of pods) {
    const sidecar = sidecarOf(pod);
    assert.ok(sidecar, `${pod.metadata.name} has the sidecar`);
    assert.is(sidecar.imagePullPolicy, 'Never');
    assert.equal(pod.spec.initContainers.filter((c: any) => c.name === SIDECAR).length, 1);
  }
});

test('a Pod that complies with the restricted (or baseline) Pod Security Standard still complies with the sidecar: it is admitted in namespaces enforcing them', () => {
  for (const level of ['restricted', 'baseline'] as const) {
    const target = pss[level];
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'compliant', namespace: target, annotations: { 'spice.ai/inject': 'demo' } },
      // Compliant container by container (no Pod-level securityContext), so the sidecar must be too.
      spec: {
        containers: [
          {
            name: 'app',
            image: 'busybox',
            securityContext: {
              runAsNonRoot: true,
              runAsUser: 1000,
              seccompProfile: { type: 'RuntimeDefault' },
              allowPrivilegeEscalation: false,
              capabilities: { drop: ['ALL'] },
            },
          },
        ],
      },
    };
    const r = kubectl(['create', '-f', '-'], JSON.stringify(pod));
    assert.is(r.code, 0, `${level}: ${r.err}`);
    assert.ok(sidecarOf(kubectlJson(['get', 'pod', 'compliant', '-n', target])), `${level}: injected`);
  }
  // The same Pod without its own seccomp profile is refused in the restricted namespace: the check is real.
  const restricted = pss.restricted;
  const bare = kubectl(
    ['create', '-f', '-'],
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'no-seccomp', namespace: restricted, annotations: { 'spice.ai/inject': 'demo' } },
      spec: {
        containers: [
          {
            name: 'app',
            image: 'busybox',
            securityContext: { runAsNonRoot: true, runAsUser: 1000, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
          },
        ],
      },
    }),
  );
  assert.is.not(bare.code, 0);
  assert.match(bare.err, /violates PodSecurity "restricted:latest".*container "app" must set securityContext\.seccompProfile/);
  assert.not.match(bare.err, /spice-sidecar/, 'the sidecar is not among the violations');
});

test('a port collision is denied and kubectl shows the message', () => {
  const r = kubectl(['create', '-f', '-'], podManifest('clash', { 'spice.ai/inject': 'demo' }, { ports: [18090] }));
  assert.is.not(r.code, 0);
  assert.match(r.err, 'admission webhook "sidecar.inject.spice.ai" denied the request');
  assert.match(r.err, 'spice.ai/http-port (default 18090) collides with port 18090 of container "app"');
  assert.is(kubectl(['get', 'pod', 'clash', '-n', ns]).code, 1, 'no Pod was created');
});

test("a Deployment whose Pods collide: the denial reaches the ReplicaSet's events", async () => {
  kubectlOk(['apply', '-f', '-'], deploymentManifest('clashing', { 'spice.ai/inject': 'demo', 'spice.ai/metrics-port': '9100' }, [9100]));
  const event = await eventually('a FailedCreate event on the ReplicaSet', () => {
    const events = kubectlJson(['get', 'events', '-n', ns, '--field-selector', 'involvedObject.kind=ReplicaSet,reason=FailedCreate']).items;
    return events.find((e: any) => e.involvedObject.name.startsWith('clashing-'));
  });
  assert.match(event.message, 'denied the request: spice.ai/metrics-port 9100 collides with port 9100 of container "app"');
  assert.equal(kubectlJson(['get', 'pods', '-n', ns, '-l', 'app=clashing']).items, []);
});

test('a missing ConfigMap, or a missing key, is denied', () => {
  const missing = kubectl(['create', '-f', '-'], podManifest('nocm', { 'spice.ai/inject': 'absent' }));
  assert.is.not(missing.code, 0);
  assert.match(missing.err, `ConfigMap "absent" not found in namespace "${ns}"`);
  const nokey = kubectl(['create', '-f', '-'], podManifest('nokey', { 'spice.ai/inject': 'demo', 'spice.ai/spicepod-key': 'other.yaml' }));
  assert.is.not(nokey.code, 0);
  assert.match(nokey.err, 'has no key "other.yaml" (its keys are "spicepod.yaml")');
});

test('bad annotations are denied with what to change', () => {
  const port = kubectl(['create', '-f', '-'], podManifest('badport', { 'spice.ai/inject': 'demo', 'spice.ai/flight-port': 'flight' }));
  assert.match(port.err, 'spice.ai/flight-port: "flight" is not a port number: set it to a whole number from 1 to 65535');
  const value = kubectl(['create', '-f', '-'], podManifest('badvalue', { 'spice.ai/inject': 'yes' }));
  assert.match(value.err, 'spice.ai/inject: "yes" is not a recognised value');
  const resources = kubectl(
    ['create', '-f', '-'],
    podManifest('badresources', { 'spice.ai/inject': 'demo', 'spice.ai/sidecar-memory-limit': '32Mi' }),
  );
  assert.match(
    resources.err,
    "the sidecar's memory request 64Mi (the operator's default, --sidecar-default-memory-request) is above its limit 32Mi (spice.ai/sidecar-memory-limit)",
  );
});

test('a server-side dry run shows the injected Pod and creates nothing', () => {
  const out = JSON.parse(
    kubectlOk(['create', '--dry-run=server', '-o', 'json', '-f', '-'], podManifest('dry', { 'spice.ai/inject': 'demo' })),
  );
  assert.ok(sidecarOf(out));
  assert.is(kubectl(['get', 'pod', 'dry', '-n', ns]).code, 1);
});

test('the operator namespace is never injected, and never even sent to the webhook', async () => {
  const name = `annotated-${suffix}`;
  kubectlOk(['create', '-f', '-'], podManifest(name, { 'spice.ai/inject': `demo-${suffix}` }, { namespace: OPERATOR_NS }));
  try {
    const pod = kubectlJson(['get', 'pod', name, '-n', OPERATOR_NS]);
    assert.is(sidecarOf(pod), undefined);
    assert.is(pod.metadata.annotations['spice.ai/sidecar-injected'], undefined);
    // A Pod admitted afterwards is a barrier: the operator logs admissions in order.
    kubectlOk(['create', '-f', '-'], podManifest(`barrier-${suffix}`, {}));
    await operator!.waitForLog((l) => l.msg === 'admission skipped' && l.pod === `barrier-${suffix}`, 30_000);
    assert.equal(
      operator!.logs.filter((l) => l.namespace === OPERATOR_NS && /admission|injected/.test(String(l.msg))),
      [],
      'no admission request for the operator namespace',
    );
  } finally {
    kubectl(['delete', 'pod', name, '-n', OPERATOR_NS, '--wait=false']);
  }
});

test('a restart reuses the Secret and rewrites neither it nor the configuration', async () => {
  const before = kubectlJson(['get', 'secret', SECRET, '-n', OPERATOR_NS]);
  await operator!.stop();
  const since = Date.now();
  // A fixed port this time: the URL stays the same, so the configuration needs no change.
  const port = new URL(kubectlJson(['get', 'mutatingwebhookconfiguration', CONFIGURATION]).webhooks[0].clientConfig.url).port;
  const args = operatorArgs();
  args[args.indexOf('https://127.0.0.1:0/mutate')] = `https://127.0.0.1:${port}/mutate`;
  operator = await startOperator([...args, '--webhook-endpoint', `127.0.0.1:${port}`]);
  await operator.waitForLog((l) => l.msg === 'webhook serving');
  const after = kubectlJson(['get', 'secret', SECRET, '-n', OPERATOR_NS]);
  assert.equal(after.data, before.data);
  assert.is(after.metadata.resourceVersion, before.metadata.resourceVersion);
  const writes = auditWrites(
    since,
    (e) =>
      !!e.userAgent?.startsWith('spiceai-operator') && ['secrets', 'mutatingwebhookconfigurations'].includes(e.objectRef?.resource ?? ''),
  );
  assert.equal(
    writes.map((w) => `${w.verb} ${w.objectRef?.resource}`),
    [],
  );
  // and it still injects
  await eventually(
    'injection after the restart',
    () => {
      const r = kubectl(['create', '--dry-run=server', '-o', 'json', '-f', '-'], podManifest('again', { 'spice.ai/inject': 'demo' }));
      return r.code === 0 && sidecarOf(JSON.parse(r.out));
    },
    30_000,
    500,
  );
});

test('with the operator down: Pods that do not require the sidecar are still created, those labelled inject-required are refused', async () => {
  await operator!.stop();
  operator = undefined;
  kubectlOk(['create', '-f', '-'], podManifest('while-down', { 'spice.ai/inject': 'demo' }));
  assert.is(sidecarOf(kubectlJson(['get', 'pod', 'while-down', '-n', ns])), undefined);
  const required = kubectl(
    ['create', '-f', '-'],
    podManifest('required', { 'spice.ai/inject': 'demo' }, { labels: { 'spice.ai/inject-required': 'true' } }),
  );
  assert.is.not(required.code, 0);
  assert.match(required.err, 'failed calling webhook "required.inject.spice.ai"');
});

test.after(async () => {
  await operator?.stop();
  kubectl(['delete', 'mutatingwebhookconfiguration', CONFIGURATION, '--ignore-not-found']);
  kubectl(['delete', 'secret', SECRET, '-n', OPERATOR_NS, '--ignore-not-found']);
  kubectl(['delete', 'configmap', `demo-${suffix}`, '-n', OPERATOR_NS, '--ignore-not-found']);
  if (ns) kubectl(['delete', 'namespace', ns, '--wait=false']);
  for (const extra of extraNamespaces) kubectl(['delete', 'namespace', extra, '--wait=false']);
});

test.run();
