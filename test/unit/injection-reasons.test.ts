// The injector's decision (functions/injection/admission-decision.ts and
// injection-request.ts) as a table: one admission per row, the answer and
// the reason constant (reasons.ts) it is given. Every reason a user can see
// is reached by some row, and where two rules both apply the chain's order
// decides (the rows marked "order").
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  ADMISSION_CHECKS,
  AdmissionReason,
  createAdmission,
  createInjectionHandler,
  INJECTION_REQUEST_CHECKS,
  type AdmissionOutcome,
  type ConfigMapData,
} from '../../functions/injection/index.ts';

const SPICEPOD = 'version: v1\nkind: Spicepod\nname: demo\n';
const CONFIGMAPS: Record<string, ConfigMapData> = {
  'apps/demo': { data: { 'spicepod.yaml': SPICEPOD } },
  'apps/other-key': { data: { 'x.yaml': SPICEPOD } },
};

function admission(
  options: {
    annotations?: Record<string, string>;
    labels?: Record<string, string>;
    spec?: Record<string, unknown>;
    request?: Record<string, unknown>;
  } = {},
) {
  return JSON.stringify({
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: 'u',
      kind: { group: '', version: 'v1', kind: 'Pod' },
      namespace: 'apps',
      operation: 'CREATE',
      object: {
        metadata: {
          name: 'web',
          ...(options.annotations ? { annotations: options.annotations } : {}),
          ...(options.labels ? { labels: options.labels } : {}),
        },
        spec: options.spec ?? { containers: [{ name: 'app', ports: [{ containerPort: 8080 }] }] },
      },
      ...options.request,
    },
  });
}
const inject = (more: Record<string, string> = {}) => admission({ annotations: { 'spice.ai/inject': 'demo', ...more } });

const sidecar = {
  name: 'spice-sidecar',
  restartPolicy: 'Always',
  ports: [
    { name: 'spice-http', containerPort: 18090 },
    { name: 'spice-flight', containerPort: 15051 },
    { name: 'spice-metrics', containerPort: 19090 },
  ],
};

type Row = [what: string, body: string, expected: { result: AdmissionOutcome['result']; code: AdmissionReason; status: number }];
const R = AdmissionReason;
const rows: Row[] = [
  ['a body that is not JSON', '{broken', { result: 'error', code: R.BodyNotJson, status: 400 }],
  ['JSON that is not an AdmissionReview', '{"kind":"Pod"}', { result: 'error', code: R.NotAnAdmissionReview, status: 400 }],
  [
    'a Deployment',
    admission({ request: { kind: { group: 'apps', version: 'v1', kind: 'Deployment' } } }),
    { result: 'skipped', code: R.NotAPodRequest, status: 200 },
  ],
  ['an UPDATE', admission({ request: { operation: 'UPDATE' } }), { result: 'skipped', code: R.NotCreate, status: 200 }],
  [
    'a subresource',
    admission({ request: { subResource: 'ephemeralcontainers' } }),
    { result: 'skipped', code: R.Subresource, status: 200 },
  ],
  [
    'an object whose labels are not strings',
    admission({ labels: { a: 1 as unknown as string } }),
    { result: 'error', code: R.ObjectNotAPod, status: 400 },
  ],
  ['a Pod without spice.ai/inject', admission(), { result: 'skipped', code: R.NotRequested, status: 200 }],
  [
    'spice.ai/inject "false"',
    admission({ annotations: { 'spice.ai/inject': 'false' } }),
    { result: 'skipped', code: R.NotRequested, status: 200 },
  ],
  [
    'the operator namespace',
    admission({ annotations: { 'spice.ai/inject': 'demo' }, request: { namespace: 'kube-system' } }),
    { result: 'skipped', code: R.NamespaceExcluded, status: 200 },
  ],
  [
    'already injected',
    admission({
      annotations: { 'spice.ai/inject': 'demo', 'spice.ai/sidecar-injected': 'true' },
      spec: { containers: [{ name: 'app' }], initContainers: [sidecar] },
    }),
    { result: 'skipped', code: R.AlreadyInjected, status: 200 },
  ],
  [
    'a container added after injection on a sidecar port',
    admission({
      annotations: { 'spice.ai/inject': 'demo', 'spice.ai/sidecar-injected': 'true' },
      spec: { containers: [{ name: 'late', ports: [{ containerPort: 18090 }] }], initContainers: [sidecar] },
    }),
    { result: 'denied', code: R.ClashAfterInjection, status: 200 },
  ],
  [
    'inject-required without the annotation',
    admission({ labels: { 'spice.ai/inject-required': 'true' } }),
    { result: 'denied', code: R.RequiredButNotRequested, status: 200 },
  ],
  ['spice.ai/inject "yes"', inject({ 'spice.ai/inject': 'yes' }), { result: 'denied', code: R.UnrecognisedInjectValue, status: 200 }],
  [
    'both ConfigMap spellings, different',
    inject({ 'spice.ai/inject': 'true', 'spice.ai/spicepod-configmap': 'a', 'spice.ai/inject-config': 'b' }),
    { result: 'denied', code: R.AnnotationsDisagree, status: 200 },
  ],
  [
    'both key spellings, different',
    inject({ 'spice.ai/spicepod-key': 'a', 'spice.ai/inject-config-key': 'b' }),
    { result: 'denied', code: R.AnnotationsDisagree, status: 200 },
  ],
  [
    'two ConfigMaps named',
    inject({ 'spice.ai/spicepod-configmap': 'other' }),
    { result: 'denied', code: R.ConfigMapNamedTwice, status: 200 },
  ],
  ['"true" and no ConfigMap', inject({ 'spice.ai/inject': 'true' }), { result: 'denied', code: R.NoConfigMapNamed, status: 200 }],
  [
    'an invalid ConfigMap name',
    inject({ 'spice.ai/inject': 'true', 'spice.ai/spicepod-configmap': 'Bad_Name' }),
    { result: 'denied', code: R.InvalidConfigMapName, status: 200 },
  ],
  ['an invalid key', inject({ 'spice.ai/spicepod-key': 'a/b' }), { result: 'denied', code: R.InvalidConfigMapKey, status: 200 }],
  ['an image with a space', inject({ 'spice.ai/image': 'a b' }), { result: 'denied', code: R.InvalidImage, status: 200 }],
  [
    'a pull policy "always"',
    inject({ 'spice.ai/image-pull-policy': 'always' }),
    { result: 'denied', code: R.InvalidPullPolicy, status: 200 },
  ],
  ['a port 70000', inject({ 'spice.ai/http-port': '70000' }), { result: 'denied', code: R.InvalidPort, status: 200 }],
  ['the HTTP port on the Flight port', inject({ 'spice.ai/http-port': '15051' }), { result: 'denied', code: R.PortsCollide, status: 200 }],
  [
    'a CPU of "lots"',
    inject({ 'spice.ai/sidecar-cpu-request': 'lots' }),
    { result: 'denied', code: R.InvalidResourceQuantity, status: 200 },
  ],
  [
    'a request above its limit',
    inject({ 'spice.ai/sidecar-cpu-request': '2', 'spice.ai/sidecar-cpu-limit': '1' }),
    { result: 'denied', code: R.RequestAboveLimit, status: 200 },
  ],
  [
    "the Pod already uses the sidecar's port",
    admission({ annotations: { 'spice.ai/inject': 'demo' }, spec: { containers: [{ name: 'app', ports: [{ containerPort: 18090 }] }] } }),
    { result: 'denied', code: R.PodClashesWithSidecar, status: 200 },
  ],
  [
    'the ConfigMap cannot be read',
    admission({ annotations: { 'spice.ai/inject': 'unreadable' } }),
    { result: 'error', code: R.ConfigMapUnreadable, status: 200 },
  ],
  [
    'the ConfigMap does not exist',
    admission({ annotations: { 'spice.ai/inject': 'missing' } }),
    { result: 'denied', code: R.ConfigMapNotFound, status: 200 },
  ],
  [
    'the ConfigMap lacks the key',
    admission({ annotations: { 'spice.ai/inject': 'other-key' } }),
    { result: 'denied', code: R.ConfigMapKeyMissing, status: 200 },
  ],
  ['everything in order', inject(), { result: 'allowed', code: R.Injected, status: 200 }],
  // order: where two rules apply, the earlier check gives the reason
  [
    'order: an excluded namespace is not even read for errors',
    admission({ annotations: { 'spice.ai/inject': 'yes' }, request: { namespace: 'kube-system' } }),
    { result: 'skipped', code: R.NamespaceExcluded, status: 200 },
  ],
  [
    'order: a bad port before a bad resource',
    inject({ 'spice.ai/http-port': 'x', 'spice.ai/sidecar-cpu-request': 'lots' }),
    { result: 'denied', code: R.InvalidPort, status: 200 },
  ],
  [
    'order: an annotation error before a missing ConfigMap',
    admission({ annotations: { 'spice.ai/inject': 'missing', 'spice.ai/image': 'a b' } }),
    { result: 'denied', code: R.InvalidImage, status: 200 },
  ],
  [
    'order: a port clash with the Pod before the ConfigMap is read',
    admission({ annotations: { 'spice.ai/inject': 'unreadable' }, spec: { containers: [{ name: 'spice-sidecar' }] } }),
    { result: 'denied', code: R.PodClashesWithSidecar, status: 200 },
  ],
];

const seen = new Set<string>();
const admit = (outcomes: AdmissionOutcome[]) =>
  createAdmission({
    defaults: { image: 'spiceai/spiceai:1', imagePullPolicy: 'IfNotPresent' },
    operatorNamespace: 'spiceai-operator-system',
    getConfigMap: async (ns, name) => {
      if (name === 'unreadable') throw new Error('connection refused');
      return CONFIGMAPS[`${ns}/${name}`];
    },
    onAdmission: (o) => outcomes.push(o),
  });

for (const [what, body, expected] of rows) {
  test(`admission: ${what}`, async () => {
    const outcomes: AdmissionOutcome[] = [];
    const answer = await admit(outcomes)(body);
    assert.is(outcomes.length, 1);
    const [o] = outcomes;
    assert.equal({ result: o!.result, code: o!.code, status: answer.status }, expected, o!.reason);
    seen.add(o!.code);
    const response = (answer.body as { response?: { allowed: boolean; status?: { code: number; message: string } } }).response;
    if (o!.result === 'denied')
      assert.equal(
        [response?.allowed, response?.status?.code, response?.status?.message],
        [false, 400, o!.reason],
        "the user reads the outcome's words",
      );
    if (o!.code === R.ConfigMapUnreadable) assert.equal([response?.allowed, response?.status?.code], [false, 500]);
    if (o!.result === 'skipped') assert.equal(response?.allowed, true);
  });
}

test('the injector fails closed on its own error, with the InternalError reason', async () => {
  const outcomes: AdmissionOutcome[] = [];
  const handler = createInjectionHandler({
    defaults: { image: 'spiceai/spiceai:1', imagePullPolicy: 'IfNotPresent' },
    operatorNamespace: 'spiceai-operator-system',
    // a read that breaks in a way no check foresees
    getConfigMap: async () => ({
      get data(): Record<string, string> {
        throw new Error('boom');
      },
    }),
    onAdmission: (o) => outcomes.push(o),
  });
  const res = await handler(new Request('https://x/mutate', { method: 'POST', body: inject() }));
  assert.is(res.status, 500);
  assert.equal(
    outcomes.map((o) => [o.result, o.code]),
    [['error', R.InternalError]],
  );
  seen.add(outcomes[0]!.code);
});

test('every reason is reached by a row; the chains are in their documented order', () => {
  assert.equal([...seen].sort(), Object.values(AdmissionReason).sort());
  assert.equal(
    ADMISSION_CHECKS.map(([name]) => name),
    [
      'bodyIsJson',
      'bodyIsAnAdmissionReview',
      'requestIsForAPod',
      'operationIsCreate',
      'requestIsNotForASubresource',
      'objectHasPodMetadata',
      'podMentionsInjection',
      'namespaceIsInjected',
      'podIsNotInjectedYet',
      'annotationsAskForASidecar',
      'objectHasPodSpec',
      'sidecarFitsThePod',
      'configMapCanBeRead',
      'configMapExists',
      'configMapHasTheKey',
    ],
  );
  assert.equal(INJECTION_REQUEST_CHECKS.length, 14);
});

test.run();
