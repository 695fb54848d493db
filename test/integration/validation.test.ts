import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { stringify } from 'yaml';
import { applyShippedCrds, eventually, freshNamespace, kubectl, kubectlJson, kubectlOk } from '../harness/kube.ts';
import { restoreShippedWebhooks, startWithCrdWebhooks } from '../harness/crd-webhooks.ts';
import { startOperator, type OperatorProcess } from '../harness/operator.ts';

const OPERATOR_NS = 'spiceai-operator-system';
let ns = '';
let operator: OperatorProcess | undefined;
const pod = { version: 'v1', kind: 'Spicepod', name: 'p' };

async function start(extra: string[] = []) {
  operator = await startWithCrdWebhooks(['--namespaces', ns, '--handlers', 'workloads', '--operator-namespace', OPERATOR_NS, ...extra], {
    validating: true,
  });
}

// JSON, not YAML: kubectl reads YAML 1.1, where an unquoted off is the boolean false (README: quote "off").
const set = (name: string, spec: Record<string, unknown>, annotations?: Record<string, string>, apiVersion = 'spice.ai/v1') =>
  JSON.stringify({
    apiVersion,
    kind: 'SpicepodSet',
    metadata: { name, ...(annotations ? { annotations } : {}) },
    spec: { spicepod: pod, image: { tag: '1.9.0-models' }, ...spec },
  });
const apply = (manifest: string) => kubectl(['apply', '--server-side', '-n', ns, '-f', '-'], manifest);

test.before(async () => {
  applyShippedCrds({ forceConflicts: true });
  kubectl(['create', 'namespace', OPERATOR_NS]);
  ns = freshNamespace('adm');
  try {
    await start();
  } catch (error) {
    console.error(error); // uvu does not print a failed hook
    throw error;
  }
});

test.after(async () => {
  await operator?.stop();
  restoreShippedWebhooks();
});

test('a reserved label is refused, in v1 and in v2, and kubectl prints the field and why; a v2 write reaches the webhook as v2 (no conversion call for it)', async () => {
  const v1 = apply(set('reserved', { labels: { 'spice.ai/app': 'other' } }));
  assert.is(v1.code, 1);
  assert.match(
    v1.err,
    /admission webhook "validate.spice.ai" denied the request: SpicepodSet reserved refused \(spice.ai\/validation-level=err\): spec.labels\[spice.ai\/app\] is reserved: the operator sets spice.ai\/app itself/,
  );
  const v2 = apply(set('reserved', { annotations: { 'spice.ai/sidecar-injected': 'true' } }, undefined, 'spice.ai/v2'));
  assert.is(v2.code, 1);
  assert.match(v2.err, /spec.annotations\[spice.ai\/sidecar-injected\] is reserved/);
  assert.is(kubectl(['get', 'spicepodset', 'reserved', '-n', ns]).code, 1, 'nothing stored');
  // The configuration names v2: the API server sends the object as written, and the webhook converts it itself.
  const denied = (version: string) =>
    operator!.waitForLog((l) => l.msg === 'admission denied' && l.name === 'reserved' && l.apiVersion === version, 10_000);
  await denied('spice.ai/v1');
  await denied('spice.ai/v2');
});

test('names that break a child, a Spicepod spiced refuses, and a missing StorageClass are refused with the reason', () => {
  const long = apply(set(`a${'b'.repeat(55)}`, { replicas: 2 }));
  assert.is(long.code, 1);
  assert.match(long.err, /metadata.name .*at most \d+ characters/);
  const digit = apply(set('1st', {}));
  assert.match(digit.err, /metadata.name names the set's Service, so it must be a DNS-1035 label/);
  const kind = apply(set('badpod', { spicepod: { ...pod, kind: 'Pod', runtime: { cachng: {} } } }));
  assert.match(
    kind.err,
    /spec.spicepod.kind must be Spicepod \(got "Pod"\); spec.spicepod.runtime.cachng is not a runtime setting spiced knows/,
  );
  const storage = apply(set('vol', { volume: { storageClassName: 'no-such-class', storageRequests: '1Gi' } }));
  assert.match(storage.err, /spec.volume.storageClassName names StorageClass "no-such-class", which does not exist/);
  kubectlOk(
    ['apply', '-f', '-'],
    stringify({
      apiVersion: 'storage.k8s.io/v1',
      kind: 'StorageClass',
      metadata: { name: 'adm-present' },
      provisioner: 'kubernetes.io/no-provisioner',
    }),
  );
  assert.is(apply(set('vol', { replicas: 0, volume: { storageClassName: 'adm-present', storageRequests: '1Gi' } })).code, 0);
  const invalid = apply(set('nosa', { serviceAccount: { enabled: true } }));
  assert.match(invalid.err, /spec.serviceAccount.name is required when serviceAccount.enabled is true and create is false/);
});

test('deprecated spellings, Parallel and a floating tag are admitted with warnings kubectl prints', () => {
  const r = apply(
    stringify({
      apiVersion: 'spice.ai/v1',
      kind: 'SpicepodSet',
      metadata: { name: 'old' },
      spec: { replicas: 0, spicepod: pod, spiceai_image_tag: 'latest', update_strategy: { type: 'Parallel' } },
    }),
  );
  assert.is(r.code, 0, r.err);
  assert.match(r.err, /Warning: spec.spiceai_image_tag is a deprecated snake_case spelling/);
  assert.match(r.err, /Warning: spec.update_strategy.type Parallel is deprecated/);
  assert.match(r.err, /Warning: spec.image.tag "latest" floats/);
});

test('the annotation spice.ai/validation-level: warn admits with the refusal as a warning; off says nothing', () => {
  const warn = apply(set('lenient', { replicas: 0, labels: { 'spice.ai/app': 'x' } }, { 'spice.ai/validation-level': 'warn' }));
  assert.is(warn.code, 0, warn.err);
  assert.match(warn.err, /Warning: spec.labels\[spice.ai\/app\] is reserved/);
  const off = apply(
    set('silent', { replicas: 0, labels: { 'spice.ai/app': 'x' }, image: { tag: 'latest' } }, { 'spice.ai/validation-level': 'off' }),
  );
  assert.is(off.code, 0, off.err);
  assert.not.match(off.err, /Warning/);
});

test('run --admission-policy warn admits what err refused, with warnings; off checks nothing', async () => {
  await operator!.stop();
  await start(['--admission-policy', 'warn']);
  const warn = apply(set('policy-warn', { replicas: 0, labels: { 'spice.ai/app': 'x' } }));
  assert.is(warn.code, 0, warn.err);
  assert.match(warn.err, /Warning: spec.labels\[spice.ai\/app\] is reserved/);
  const strict = apply(set('policy-err', { replicas: 0, labels: { 'spice.ai/app': 'x' } }, { 'spice.ai/validation-level': 'err' }));
  assert.is(strict.code, 1, 'the annotation is stricter than the operator');
  await operator!.stop();
  await start(['--admission-policy', 'off']);
  const off = apply(set('policy-off', { replicas: 0, labels: { 'spice.ai/app': 'x' }, image: { tag: 'latest' } }));
  assert.is(off.code, 0, off.err);
  assert.not.match(off.err, /Warning/);
});

test('the operator down: a wrong spec is admitted (failurePolicy Ignore), and the reconcile-time check reports it', async () => {
  await operator!.stop();
  const r = apply(set('while-down', { serviceAccount: { enabled: true } }));
  assert.is(r.code, 0, r.err);
  operator = await startOperator(['--namespaces', ns, '--handlers', 'workloads', '--operator-namespace', OPERATOR_NS]);
  const ready = await eventually(
    'the InvalidSpec condition',
    () =>
      kubectlJson(['get', 'spicepodset', 'while-down', '-n', ns]).status?.conditions?.find(
        (c: any) => c.type === 'Ready' && c.reason === 'InvalidSpec',
      ),
    60_000,
    500,
  );
  assert.match(ready.message, /spec.serviceAccount.name is required/);
});

test.run();
