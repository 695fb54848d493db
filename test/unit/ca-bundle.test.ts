// The caBundle keeper (shim/webhook/ca-bundle.ts) over several targets at
// once against the in-memory API: a Mutating- and a ValidatingWebhookConfiguration
// and a CRD's conversion webhook (a target written here, the shape another
// webhook brings). Each is written only when what the operator owns in it
// differs; a CA change rewrites every one; an edit by hand is undone; one
// rendered by Helm keeps Helm's label; an absent CRD is left alone.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { canonicalJson } from '../../core/manifests/hash.ts';
import { jsonLogger } from '../../shim/log.ts';
import { caBundleKeeper, webhookConfigurationTarget, type CaBundleTarget } from '../../shim/webhook/index.ts';
import type { KObject } from '../../shim/kube/client.ts';
import { FakeKube } from '../kit/fake-kube.ts';

const log = jsonLogger({ write: () => {} });
const b64 = (s: string) => Buffer.from(s).toString('base64');
const API = 'admissionregistration.k8s.io/v1';

const render = (kind: string, name: string) => (caPem: string, ownedByOperator: boolean) => ({
  apiVersion: API,
  kind,
  // server-side apply merges labels: leaving ours out keeps another manager's
  metadata: { name, ...(ownedByOperator ? { labels: { 'app.kubernetes.io/managed-by': 'spiceai-operator' } } : {}) },
  webhooks: [
    {
      name: `${name}.spice.ai`,
      clientConfig: { service: { name: 'svc', namespace: 'ns', path: '/x' }, caBundle: b64(caPem) },
      sideEffects: 'None',
    },
  ],
});

/** A CRD's conversion webhook: patched only when the CRD exists (it is not the keeper's to create). */
const crdConversion = (name: string): CaBundleTarget => ({
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  name,
  desired: (caPem, have) =>
    have &&
    ({
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name },
      spec: {
        ...(have.spec as object),
        conversion: { strategy: 'Webhook', webhook: { clientConfig: { caBundle: b64(caPem) }, conversionReviewVersions: ['v1'] } },
      },
    } as KObject),
  isCurrent: (have, want) =>
    canonicalJson((have.spec as { conversion?: unknown }).conversion) === canonicalJson((want.spec as { conversion?: unknown }).conversion),
});

const caOf = (kube: FakeKube, kind: string, name: string): string | undefined => {
  const o = kube.find(kind === 'CustomResourceDefinition' ? 'apiextensions.k8s.io/v1' : API, kind, undefined, name) as any;
  const bundle =
    kind === 'CustomResourceDefinition' ? o?.spec?.conversion?.webhook?.clientConfig?.caBundle : o?.webhooks?.[0]?.clientConfig?.caBundle;
  return bundle && Buffer.from(bundle, 'base64').toString();
};

function setup() {
  const kube = new FakeKube();
  kube.put({
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: 'things.spice.ai' },
    spec: { group: 'spice.ai' },
  } as KObject);
  kube.put({
    apiVersion: API,
    kind: 'ValidatingWebhookConfiguration',
    metadata: { name: 'validate', labels: { 'app.kubernetes.io/managed-by': 'Helm' } },
    webhooks: [],
  } as KObject);
  const keep = caBundleKeeper({
    client: kube,
    fieldManager: 'test',
    log,
    targets: [
      webhookConfigurationTarget({
        kind: 'MutatingWebhookConfiguration',
        name: 'mutate',
        render: render('MutatingWebhookConfiguration', 'mutate'),
      }),
      webhookConfigurationTarget({
        kind: 'ValidatingWebhookConfiguration',
        name: 'validate',
        render: render('ValidatingWebhookConfiguration', 'validate'),
      }),
      crdConversion('things.spice.ai'),
      crdConversion('absent.spice.ai'),
    ],
  });
  return { kube, keep };
}

test('every target gets the CA; a second pass writes nothing; an absent CRD is left alone', async () => {
  const { kube, keep } = setup();
  await keep('CA-1');
  assert.equal(kube.said(), [
    'apply MutatingWebhookConfiguration/mutate',
    'apply ValidatingWebhookConfiguration/validate',
    'apply CustomResourceDefinition/things.spice.ai',
  ]);
  for (const [kind, name] of [
    ['MutatingWebhookConfiguration', 'mutate'],
    ['ValidatingWebhookConfiguration', 'validate'],
    ['CustomResourceDefinition', 'things.spice.ai'],
  ]) {
    assert.is(caOf(kube, kind!, name!), 'CA-1', `${kind} ${name}`);
  }
  assert.is(
    (kube.find('apiextensions.k8s.io/v1', 'CustomResourceDefinition', undefined, 'things.spice.ai')!.spec as any).group,
    'spice.ai',
  );
  assert.is(kube.find('apiextensions.k8s.io/v1', 'CustomResourceDefinition', undefined, 'absent.spice.ai'), undefined);
  await keep('CA-1');
  assert.is(kube.writes.length, 3, 'nothing differs: nothing written');
});

test("a new CA rewrites every target; an edit by hand is undone; Helm's configuration stays Helm's", async () => {
  const { kube, keep } = setup();
  await keep('CA-1');
  await keep('CA-2');
  assert.is(kube.writes.length, 6);
  assert.is(caOf(kube, 'ValidatingWebhookConfiguration', 'validate'), 'CA-2');
  assert.is(caOf(kube, 'CustomResourceDefinition', 'things.spice.ai'), 'CA-2');
  assert.is(
    kube.find(API, 'ValidatingWebhookConfiguration', undefined, 'validate')!.metadata.labels?.['app.kubernetes.io/managed-by'],
    'Helm',
  );
  assert.is(
    kube.find(API, 'MutatingWebhookConfiguration', undefined, 'mutate')!.metadata.labels?.['app.kubernetes.io/managed-by'],
    'spiceai-operator',
  );

  const edited = structuredClone(kube.find(API, 'MutatingWebhookConfiguration', undefined, 'mutate')!) as any;
  edited.webhooks[0].sideEffects = 'Some';
  kube.put(edited);
  await keep('CA-2');
  assert.equal(kube.said().slice(6), ['apply MutatingWebhookConfiguration/mutate']);
  assert.is((kube.find(API, 'MutatingWebhookConfiguration', undefined, 'mutate') as any).webhooks[0].sideEffects, 'None');
});

test.run();
