// The sidecar injector (functions/injection), request in, AdmissionReview out:
// every annotation and default, every denial and its message, idempotence
// under reinvocation, and the webhook configuration it is registered with.
import * as fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import {
  SIDECAR_CONTAINER,
  createInjectionHandler,
  webhookConfiguration,
  type AdmissionOutcome,
  type ConfigMapData,
} from '../../functions/injection/index.ts';
import { LABEL_INJECT_REQUIRED, RESERVED_KEYS } from '../../core/labels.ts';
import { ANNOTATION_SIDECAR_INJECTED } from '../../core/annotations.ts';

const OPERATOR_NS = 'spiceai-operator-system';
/** The patch as the API server reads it: base64 to bytes, bytes as UTF-8 JSON. */
const patchText = (b64: string) => Buffer.from(b64, 'base64').toString('utf8');
const defaults = { image: 'example.com/spiceai:default', imagePullPolicy: 'IfNotPresent' };
const SPICEPOD = 'version: v1\nkind: Spicepod\nname: demo\n';

type Pod = { metadata: Record<string, any>; spec: Record<string, any> };

function pod(annotations?: Record<string, string>, spec: Record<string, any> = {}, labels?: Record<string, string>): Pod {
  return {
    metadata: { name: 'web', namespace: 'apps', ...(annotations ? { annotations } : {}), ...(labels ? { labels } : {}) },
    spec: { containers: [{ name: 'app', image: 'nginx', ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }] }], ...spec },
  };
}

function review(object: unknown, request: Record<string, unknown> = {}) {
  return {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: 'uid-1',
      kind: { group: '', version: 'v1', kind: 'Pod' },
      resource: { group: '', version: 'v1', resource: 'pods' },
      namespace: 'apps',
      operation: 'CREATE',
      dryRun: false,
      object,
      ...request,
    },
  };
}

interface Harness {
  handler: (r: Request) => Promise<Response>;
  reads: string[];
  outcomes: AdmissionOutcome[];
}

function harness(
  configMaps: Record<string, ConfigMapData> = { 'apps/demo': { data: { 'spicepod.yaml': SPICEPOD } } },
  extra: { telemetryProperties?: Record<string, string>; failReads?: boolean } = {},
): Harness {
  const reads: string[] = [];
  const outcomes: AdmissionOutcome[] = [];
  const handler = createInjectionHandler({
    defaults,
    operatorNamespace: OPERATOR_NS,
    telemetryProperties: extra.telemetryProperties,
    getConfigMap: async (namespace, name) => {
      reads.push(`${namespace}/${name}`);
      if (extra.failReads) throw new Error('connection refused');
      return configMaps[`${namespace}/${name}`];
    },
    onAdmission: (o) => outcomes.push(o),
  });
  return { handler, reads, outcomes };
}

async function post(h: Harness, body: unknown, path = '/mutate') {
  const res = await h.handler(
    new Request(`https://injector.test${path}`, { method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(body) }),
  );
  return { status: res.status, body: (await res.json()) as any };
}

/** Admission of one Pod: the answer, and the patch decoded. */
async function admit(h: Harness, object: unknown, request?: Record<string, unknown>) {
  const { status, body } = await post(h, review(object, request));
  assert.is(status, 200, JSON.stringify(body));
  const response = body.response;
  const patch = response.patch ? JSON.parse(patchText(response.patch)) : undefined;
  return { response, patch: patch as { op: string; path: string; value: any }[] | undefined };
}

/** A JSONPatch applier for the ops the injector emits ("add" to objects and arrays). */
function applyPatch<T>(doc: T, ops: { op: string; path: string; value: any }[]): T {
  const out = structuredClone(doc) as any;
  for (const { op, path, value } of ops) {
    assert.is(op, 'add');
    const tokens = path
      .split('/')
      .slice(1)
      .map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
    let target = out;
    for (const t of tokens.slice(0, -1)) target = target[t];
    const last = tokens.at(-1)!;
    if (Array.isArray(target)) {
      if (last === '-') target.push(value);
      else target.splice(Number(last), 0, value);
    } else target[last] = value;
  }
  return out;
}

async function injected(h: Harness, object: Pod, request?: Record<string, unknown>) {
  const { response, patch } = await admit(h, object, request);
  assert.ok(response.allowed, JSON.stringify(response.status));
  assert.ok(patch, 'expected a patch');
  assert.is(response.patchType, 'JSONPatch');
  const after = applyPatch(object, patch!);
  const sidecar = after.spec.initContainers.find((c: any) => c.name === SIDECAR_CONTAINER);
  assert.ok(sidecar, 'the sidecar is an init container');
  return { after, sidecar, patch: patch!, response };
}

async function denied(h: Harness, object: unknown, request?: Record<string, unknown>): Promise<string> {
  const { response, patch } = await admit(h, object, request);
  assert.is(response.allowed, false, 'expected a denial');
  assert.is(patch, undefined);
  assert.type(response.status?.message, 'string');
  return response.status.message as string;
}

async function untouched(h: Harness, object: unknown, request?: Record<string, unknown>) {
  const { response, patch } = await admit(h, object, request);
  assert.is(response.allowed, true);
  assert.is(patch, undefined);
  assert.is(response.patchType, undefined);
}

const volumeOf = (after: Pod, sidecar: any) => after.spec.volumes.find((v: any) => v.name === sidecar.volumeMounts[0].name);

// ---------------------------------------------------------------- pass-through

test('a Pod without spice.ai/inject passes untouched, without reading anything', async () => {
  const h = harness();
  await untouched(h, pod());
  await untouched(h, pod({ 'other.io/x': 'y' }));
  assert.equal(h.reads, []);
  assert.equal(
    h.outcomes.map((o) => o.result),
    ['skipped', 'skipped'],
  );
});

test('spice.ai/inject false or disabled (any case) passes untouched', async () => {
  const h = harness();
  for (const value of ['false', 'disabled', 'FALSE', ' Disabled '])
    await untouched(h, pod({ 'spice.ai/inject': value, 'spice.ai/spicepod-configmap': 'demo' }));
  assert.equal(h.reads, []);
});

test('the operator namespace and kube-system are never injected, whatever the annotations say', async () => {
  const h = harness({
    [`${OPERATOR_NS}/demo`]: { data: { 'spicepod.yaml': SPICEPOD } },
    'kube-system/demo': { data: { 'spicepod.yaml': SPICEPOD } },
  });
  await untouched(
    h,
    { ...pod({ 'spice.ai/inject': 'demo' }), metadata: { name: 'x', namespace: OPERATOR_NS, annotations: { 'spice.ai/inject': 'demo' } } },
    { namespace: OPERATOR_NS },
  );
  await untouched(h, pod({ 'spice.ai/inject': 'demo' }), { namespace: 'kube-system' });
  assert.equal(h.reads, []);
});

test('only Pod CREATE is mutated: other kinds, operations and subresources pass untouched', async () => {
  const h = harness();
  const p = pod({ 'spice.ai/inject': 'demo' });
  await untouched(h, p, { operation: 'UPDATE' });
  await untouched(h, p, { subResource: 'ephemeralcontainers' });
  await untouched(h, { metadata: { name: 'd' } }, { kind: { group: 'apps', version: 'v1', kind: 'Deployment' } });
  assert.equal(h.reads, []);
});

// ---------------------------------------------------------------- annotations and defaults

test('spice.ai/inject naming a ConfigMap (the one-annotation shorthand) injects spiced with every default', async () => {
  const h = harness();
  const { after, sidecar, response } = await injected(h, pod({ 'spice.ai/inject': 'demo' }));
  assert.is(response.uid, 'uid-1');
  assert.equal(h.reads, ['apps/demo']);
  assert.is(sidecar.image, defaults.image);
  assert.is(sidecar.imagePullPolicy, defaults.imagePullPolicy);
  assert.equal(sidecar.command, ['/usr/local/bin/spiced']);
  assert.equal(sidecar.args, ['--http', '0.0.0.0:18090', '--flight', '0.0.0.0:15051', '--metrics', '0.0.0.0:19090']);
  assert.equal(
    sidecar.ports.map((p: any) => [p.name, p.containerPort]),
    [
      ['spice-http', 18090],
      ['spice-flight', 15051],
      ['spice-metrics', 19090],
    ],
  );
  assert.is(sidecar.workingDir, '/app');
  assert.equal(sidecar.volumeMounts, [
    { name: sidecar.volumeMounts[0].name, mountPath: '/app/spicepod.yaml', subPath: 'spicepod.yaml', readOnly: true },
  ]);
  assert.equal(volumeOf(after, sidecar).configMap, { name: 'demo', items: [{ key: 'spicepod.yaml', path: 'spicepod.yaml' }] });
  assert.is(after.metadata.annotations[ANNOTATION_SIDECAR_INJECTED], 'true');
  assert.equal(after.spec.containers, pod().spec.containers, 'the app containers are unchanged');
  assert.equal(h.outcomes.at(-1)?.result, 'allowed');
});

test('the sidecar is a native sidecar with startup, liveness and readiness probes and a locked-down securityContext', async () => {
  const { sidecar } = await injected(harness(), pod({ 'spice.ai/inject': 'demo' }));
  assert.is(sidecar.restartPolicy, 'Always');
  assert.equal(sidecar.startupProbe.httpGet, { path: '/health', port: 18090 });
  assert.equal(sidecar.livenessProbe.httpGet, { path: '/health', port: 18090 });
  assert.equal(sidecar.readinessProbe.httpGet, { path: '/v1/ready', port: 18090 });
  assert.is(sidecar.securityContext.runAsNonRoot, true);
  assert.is(sidecar.securityContext.runAsUser, 65534);
  assert.is(sidecar.securityContext.allowPrivilegeEscalation, false);
  assert.equal(sidecar.securityContext.capabilities, { drop: ['ALL'] });
});

test('true/enabled with spice.ai/spicepod-configmap and spice.ai/spicepod-key', async () => {
  const h = harness({ 'apps/cfg': { data: { 'pod.yaml': SPICEPOD } } });
  for (const inject of ['true', 'enabled', 'True']) {
    const { after, sidecar } = await injected(
      h,
      pod({ 'spice.ai/inject': inject, 'spice.ai/spicepod-configmap': 'cfg', 'spice.ai/spicepod-key': 'pod.yaml' }),
    );
    assert.equal(volumeOf(after, sidecar).configMap, { name: 'cfg', items: [{ key: 'pod.yaml', path: 'spicepod.yaml' }] });
  }
});

test('the newer spellings spice.ai/inject-config and spice.ai/inject-config-key work the same', async () => {
  const h = harness({ 'apps/cfg': { data: { 'custom.yaml': SPICEPOD } } });
  const { after, sidecar } = await injected(
    h,
    pod({ 'spice.ai/inject': 'true', 'spice.ai/inject-config': 'cfg', 'spice.ai/inject-config-key': 'custom.yaml' }),
  );
  assert.equal(volumeOf(after, sidecar).configMap, { name: 'cfg', items: [{ key: 'custom.yaml', path: 'spicepod.yaml' }] });
  // Both spellings with the same value are fine.
  await injected(
    h,
    pod({
      'spice.ai/inject': 'cfg',
      'spice.ai/spicepod-configmap': 'cfg',
      'spice.ai/inject-config': 'cfg',
      'spice.ai/spicepod-key': 'custom.yaml',
      'spice.ai/inject-config-key': 'custom.yaml',
    }),
  );
});

test('spice.ai/image and spice.ai/image-pull-policy override the operator defaults', async () => {
  const { sidecar } = await injected(
    harness(),
    pod({ 'spice.ai/inject': 'demo', 'spice.ai/image': 'registry.local/spiceai:1.5.0', 'spice.ai/image-pull-policy': 'Always' }),
  );
  assert.is(sidecar.image, 'registry.local/spiceai:1.5.0');
  assert.is(sidecar.imagePullPolicy, 'Always');
  const other = createInjectionHandler({
    defaults: { image: 'other/image:2', imagePullPolicy: 'Never' },
    operatorNamespace: OPERATOR_NS,
    getConfigMap: async () => ({ data: { 'spicepod.yaml': '' } }),
  });
  const res = (await (
    await other(new Request('https://x/mutate', { method: 'POST', body: JSON.stringify(review(pod({ 'spice.ai/inject': 'demo' }))) }))
  ).json()) as any;
  const c = JSON.parse(patchText(res.response.patch))[0].value[0];
  assert.is(c.image, 'other/image:2');
  assert.is(c.imagePullPolicy, 'Never');
});

test('without resource settings the sidecar has no resources; annotations set each request and limit', async () => {
  const { sidecar: bare } = await injected(harness(), pod({ 'spice.ai/inject': 'demo' }));
  assert.is(bare.resources, undefined);
  const { sidecar } = await injected(
    harness(),
    pod({
      'spice.ai/inject': 'demo',
      'spice.ai/sidecar-cpu-request': '250m',
      'spice.ai/sidecar-memory-request': ' 512Mi ',
      'spice.ai/sidecar-cpu-limit': '1',
      'spice.ai/sidecar-memory-limit': '2Gi',
    }),
  );
  assert.equal(sidecar.resources, { requests: { cpu: '250m', memory: '512Mi' }, limits: { cpu: '1', memory: '2Gi' } });
});

test('the operator-wide resource defaults apply to every sidecar, and each annotation overrides its own value only', async () => {
  const withDefaults = (annotations: Record<string, string>) =>
    createInjectionHandler({
      defaults: { ...defaults, resources: { requests: { cpu: '100m', memory: '256Mi' }, limits: { memory: '1Gi' } } },
      operatorNamespace: OPERATOR_NS,
      getConfigMap: async () => ({ data: { 'spicepod.yaml': SPICEPOD } }),
    })(
      new Request('https://x/mutate', { method: 'POST', body: JSON.stringify(review(pod({ 'spice.ai/inject': 'demo', ...annotations }))) }),
    ).then((r) => r.json() as Promise<any>);
  const sidecarOf = (res: any) => JSON.parse(patchText(res.response.patch))[0].value[0];
  assert.equal(sidecarOf(await withDefaults({})).resources, { requests: { cpu: '100m', memory: '256Mi' }, limits: { memory: '1Gi' } });
  assert.equal(sidecarOf(await withDefaults({ 'spice.ai/sidecar-memory-limit': '4Gi', 'spice.ai/sidecar-cpu-limit': '2' })).resources, {
    requests: { cpu: '100m', memory: '256Mi' },
    limits: { memory: '4Gi', cpu: '2' },
  });
  // A request above the default limit is denied, naming the annotation and the flag it clashes with.
  const denial = await withDefaults({ 'spice.ai/sidecar-memory-request': '2Gi' });
  assert.is(denial.response.allowed, false);
  assert.is(
    denial.response.status.message,
    "the sidecar's memory request 2Gi (spice.ai/sidecar-memory-request) is above its limit 1Gi (the operator's default, --sidecar-default-memory-limit): lower spice.ai/sidecar-memory-request or raise spice.ai/sidecar-memory-limit",
  );
});

test('a resource annotation that is not a quantity, or a request above its limit, is denied with the fix', async () => {
  const h = harness();
  assert.is(
    await denied(h, pod({ 'spice.ai/inject': 'demo', 'spice.ai/sidecar-cpu-request': 'half' })),
    'spice.ai/sidecar-cpu-request: "half" is not a Kubernetes quantity (e.g. 250m or 1 for CPU, 512Mi or 2Gi for memory), or remove it',
  );
  assert.match(
    await denied(h, pod({ 'spice.ai/inject': 'demo', 'spice.ai/sidecar-memory-limit': '-1Gi' })),
    'spice.ai/sidecar-memory-limit: "-1Gi" is not a Kubernetes quantity',
  );
  assert.match(
    await denied(h, pod({ 'spice.ai/inject': 'demo', 'spice.ai/sidecar-memory-limit': '' })),
    'spice.ai/sidecar-memory-limit: "" is not a Kubernetes quantity',
  );
  assert.is(
    await denied(h, pod({ 'spice.ai/inject': 'demo', 'spice.ai/sidecar-cpu-request': '1500m', 'spice.ai/sidecar-cpu-limit': '1' })),
    "the sidecar's cpu request 1500m (spice.ai/sidecar-cpu-request) is above its limit 1 (spice.ai/sidecar-cpu-limit): lower spice.ai/sidecar-cpu-request or raise spice.ai/sidecar-cpu-limit",
  );
  // Equal is fine, and units are compared, not strings.
  const { sidecar } = await injected(
    h,
    pod({ 'spice.ai/inject': 'demo', 'spice.ai/sidecar-memory-request': '1024Mi', 'spice.ai/sidecar-memory-limit': '1Gi' }),
  );
  assert.equal(sidecar.resources, { requests: { memory: '1024Mi' }, limits: { memory: '1Gi' } });
});

test('spice.ai/http-port, flight-port and metrics-port choose the ports, args and probe port', async () => {
  const { sidecar } = await injected(
    harness(),
    pod({ 'spice.ai/inject': 'demo', 'spice.ai/http-port': '28090', 'spice.ai/flight-port': '25051', 'spice.ai/metrics-port': '29090' }),
  );
  assert.equal(sidecar.args, ['--http', '0.0.0.0:28090', '--flight', '0.0.0.0:25051', '--metrics', '0.0.0.0:29090']);
  assert.equal(
    sidecar.ports.map((p: any) => p.containerPort),
    [28090, 25051, 29090],
  );
  assert.is(sidecar.readinessProbe.httpGet.port, 28090);
  assert.is(sidecar.startupProbe.httpGet.port, 28090);
});

test('telemetry properties of the operator reach the sidecar like every spiced', async () => {
  const { sidecar } = await injected(
    harness(undefined, { telemetryProperties: { team: 'data', env: 'prod' } }),
    pod({ 'spice.ai/inject': 'demo' }),
  );
  assert.equal(sidecar.args.slice(6), [
    '--set-runtime',
    'telemetry.properties.env=prod',
    '--set-runtime',
    'telemetry.properties.team=data',
  ]);
});

test('non-ASCII text in the patch survives the base64 encoding', async () => {
  const value = 'données ☃ 😀';
  const { sidecar } = await injected(harness(undefined, { telemetryProperties: { team: value } }), pod({ 'spice.ai/inject': 'demo' }));
  assert.is(sidecar.args.at(-1), `telemetry.properties.team=${value}`);
});

test('the sidecar goes after existing init containers; existing volumes and annotations are kept', async () => {
  const p = pod(
    { 'spice.ai/inject': 'demo', keep: 'me' },
    { initContainers: [{ name: 'migrate', image: 'm' }], volumes: [{ name: 'data', emptyDir: {} }] },
  );
  const { after } = await injected(harness(), p);
  assert.equal(
    after.spec.initContainers.map((c: any) => c.name),
    ['migrate', SIDECAR_CONTAINER],
  );
  assert.equal(
    after.spec.volumes.map((v: any) => v.name),
    ['data', 'spice-sidecar-spicepod'],
  );
  assert.is(after.metadata.annotations.keep, 'me');
});

test('a ConfigMap whose key is in binaryData is accepted', async () => {
  await injected(harness({ 'apps/demo': { binaryData: { 'spicepod.yaml': btoa(SPICEPOD) } } }), pod({ 'spice.ai/inject': 'demo' }));
});

test('spice.ai/inject-required=true with the annotation injects as usual', async () => {
  await injected(harness(), pod({ 'spice.ai/inject': 'demo' }, {}, { [LABEL_INJECT_REQUIRED]: 'true' }));
});

// ---------------------------------------------------------------- denials

test('a sidecar port that collides with a container port is denied, naming both', async () => {
  const h = harness();
  const msg = await denied(h, pod({ 'spice.ai/inject': 'demo', 'spice.ai/http-port': '8080' }));
  assert.match(msg, 'spice.ai/http-port 8080 collides with port 8080 ("http") of container "app"');
  assert.match(msg, 'set spice.ai/http-port to a port no container of the Pod uses');
  assert.equal(h.reads, [], 'a collision is found before any read');
  assert.is(h.outcomes.at(-1)?.result, 'denied');
});

test('a default port that collides is denied too, and says it was the default', async () => {
  const p = pod({ 'spice.ai/inject': 'demo' }, { containers: [{ name: 'metrics-exporter', ports: [{ containerPort: 19090 }] }] });
  const msg = await denied(harness(), p);
  assert.match(msg, 'spice.ai/metrics-port (default 19090) collides with port 19090 of container "metrics-exporter"');
});

test('ports of init containers count; a UDP port of the same number does not collide', async () => {
  const msg = await denied(
    harness(),
    pod({ 'spice.ai/inject': 'demo' }, { initContainers: [{ name: 'proxy', restartPolicy: 'Always', ports: [{ containerPort: 15051 }] }] }),
  );
  assert.match(msg, 'spice.ai/flight-port (default 15051) collides with port 15051 of init container "proxy"');
  await injected(
    harness(),
    pod({ 'spice.ai/inject': 'demo' }, { containers: [{ name: 'dns', ports: [{ containerPort: 18090, protocol: 'UDP' }] }] }),
  );
});

test('every collision is reported at once', async () => {
  const p = pod(
    { 'spice.ai/inject': 'demo' },
    { containers: [{ name: 'a', ports: [{ containerPort: 18090 }, { containerPort: 15051 }] }] },
  );
  const msg = await denied(harness(), p);
  assert.match(msg, 'spice.ai/http-port');
  assert.match(msg, 'spice.ai/flight-port');
});

test('a missing ConfigMap is denied with the namespace and what to do', async () => {
  const h = harness({});
  const msg = await denied(h, pod({ 'spice.ai/inject': 'demo' }));
  assert.match(msg, 'ConfigMap "demo" not found in namespace "apps"');
  assert.match(msg, 'create it');
  assert.equal(h.reads, ['apps/demo']);
});

test('a ConfigMap without the key is denied, listing the keys it has', async () => {
  const msg = await denied(harness({ 'apps/demo': { data: { 'other.yaml': 'x', README: 'y' } } }), pod({ 'spice.ai/inject': 'demo' }));
  assert.match(msg, 'ConfigMap "demo" in namespace "apps" has no key "spicepod.yaml"');
  assert.match(msg, '"other.yaml", "README"');
  assert.match(msg, 'spice.ai/spicepod-key');
  const empty = await denied(harness({ 'apps/demo': {} }), pod({ 'spice.ai/inject': 'demo', 'spice.ai/spicepod-key': 'x.yaml' }));
  assert.match(empty, 'has no key "x.yaml" (it has no keys)');
});

test('a ConfigMap in another namespace does not count: the lookup uses the Pod namespace', async () => {
  const h = harness({ 'other/demo': { data: { 'spicepod.yaml': SPICEPOD } } });
  await denied(h, pod({ 'spice.ai/inject': 'demo' }));
  assert.equal(h.reads, ['apps/demo']);
});

test('a port annotation that is not a port number is denied', async () => {
  for (const [annotation, value] of [
    ['spice.ai/http-port', 'abc'],
    ['spice.ai/flight-port', '0'],
    ['spice.ai/metrics-port', '70000'],
    ['spice.ai/http-port', ''],
    ['spice.ai/http-port', '80.5'],
    ['spice.ai/http-port', '-1'],
  ] as const) {
    const msg = await denied(harness(), pod({ 'spice.ai/inject': 'demo', [annotation]: value }));
    assert.match(msg, `${annotation}: ${JSON.stringify(value)} is not a port number`);
    assert.match(msg, 'from 1 to 65535');
  }
});

test('two sidecar ports on the same number are denied', async () => {
  const msg = await denied(harness(), pod({ 'spice.ai/inject': 'demo', 'spice.ai/http-port': '15051' }));
  assert.match(msg, 'spice.ai/http-port and spice.ai/flight-port (by default) are both 15051');
});

test('an unknown spice.ai/inject value is denied with the accepted values', async () => {
  for (const value of ['yes', 'on', 'Not A ConfigMap!', '', '1']) {
    const msg = await denied(harness(), pod({ 'spice.ai/inject': value }));
    assert.match(msg, `spice.ai/inject: ${JSON.stringify(value)} is not a recognised value`);
    assert.match(msg, '"true" or "enabled"');
  }
});

test('inject true without a ConfigMap, or two different ConfigMaps, is denied', async () => {
  assert.match(await denied(harness(), pod({ 'spice.ai/inject': 'true' })), 'no ConfigMap is named: set spice.ai/spicepod-configmap');
  assert.match(
    await denied(harness(), pod({ 'spice.ai/inject': 'a', 'spice.ai/spicepod-configmap': 'b' })),
    'spice.ai/inject names the ConfigMap "a" but spice.ai/spicepod-configmap names "b"',
  );
  assert.match(
    await denied(harness(), pod({ 'spice.ai/inject': 'true', 'spice.ai/spicepod-configmap': 'a', 'spice.ai/inject-config': 'b' })),
    'spice.ai/spicepod-configmap is "a" but spice.ai/inject-config is "b"',
  );
  assert.match(
    await denied(harness(), pod({ 'spice.ai/inject': 'demo', 'spice.ai/spicepod-key': 'a', 'spice.ai/inject-config-key': 'b' })),
    'spice.ai/spicepod-key is "a" but spice.ai/inject-config-key is "b"',
  );
  assert.match(
    await denied(harness(), pod({ 'spice.ai/inject': 'true', 'spice.ai/spicepod-configmap': 'Bad_Name' })),
    'is not a valid ConfigMap name',
  );
  assert.match(await denied(harness(), pod({ 'spice.ai/inject': 'demo', 'spice.ai/spicepod-key': 'a/b' })), 'is not a valid ConfigMap key');
});

test('a bad image or pull policy annotation is denied', async () => {
  assert.match(
    await denied(harness(), pod({ 'spice.ai/inject': 'demo', 'spice.ai/image-pull-policy': 'always' })),
    'spice.ai/image-pull-policy: "always" is not a pull policy: use Always, IfNotPresent, Never',
  );
  assert.match(
    await denied(harness(), pod({ 'spice.ai/inject': 'demo', 'spice.ai/image': 'has space' })),
    'spice.ai/image: "has space" is not an image reference',
  );
  assert.match(
    await denied(harness(), pod({ 'spice.ai/inject': 'demo', 'spice.ai/image': '' })),
    'spice.ai/image: "" is not an image reference',
  );
});

test('a container or volume already using the sidecar names is denied', async () => {
  assert.match(
    await denied(harness(), pod({ 'spice.ai/inject': 'demo' }, { containers: [{ name: SIDECAR_CONTAINER }] })),
    `already has a container named "${SIDECAR_CONTAINER}"`,
  );
  assert.match(
    await denied(harness(), pod({ 'spice.ai/inject': 'demo' }, { volumes: [{ name: 'spice-sidecar-spicepod' }] })),
    'already has a volume named "spice-sidecar-spicepod"',
  );
});

test('the label spice.ai/inject-required=true without injection requested is denied', async () => {
  for (const annotations of [undefined, { 'spice.ai/inject': 'false' }]) {
    const msg = await denied(harness(), pod(annotations, {}, { [LABEL_INJECT_REQUIRED]: 'true' }));
    assert.match(msg, `the label ${LABEL_INJECT_REQUIRED}=true requires a Spice sidecar`);
  }
});

test('a failed ConfigMap read denies as an error (never a Pod silently without its sidecar)', async () => {
  const h = harness(undefined, { failReads: true });
  const { response } = await admit(h, pod({ 'spice.ai/inject': 'demo' }));
  assert.is(response.allowed, false);
  assert.is(response.status.code, 500);
  assert.match(response.status.message, 'could not read ConfigMap "demo" in namespace "apps"');
  assert.match(response.status.message, 'connection refused');
  assert.is(h.outcomes.at(-1)?.result, 'error');
});

// ---------------------------------------------------------------- idempotence

test('reinvocation: an injected Pod is not injected twice', async () => {
  const h = harness();
  const { after } = await injected(h, pod({ 'spice.ai/inject': 'demo' }));
  await untouched(h, after, { options: { reinvocation: true } });
  assert.equal(
    h.outcomes.map((o) => o.result),
    ['allowed', 'skipped'],
  );
  assert.match(h.outcomes[1]!.reason, 'already injected');
});

test('patch(patch(pod)) = patch(pod) for any ports of the app and of the sidecar', async () => {
  const h = harness();
  const port = fc.integer({ min: 1, max: 65535 });
  await fc.assert(
    fc.asyncProperty(fc.array(port, { maxLength: 4 }), fc.option(port, { nil: undefined }), async (appPorts, httpPort) => {
      const annotations: Record<string, string> = { 'spice.ai/inject': 'demo' };
      if (httpPort !== undefined) annotations['spice.ai/http-port'] = String(httpPort);
      const p = pod(annotations, { containers: [{ name: 'app', ports: appPorts.map((containerPort) => ({ containerPort })) }] });
      const first = await admit(h, p);
      if (!first.response.allowed) {
        // Denied only for a clash: with the app's ports, or among the sidecar's own (http-port on the metrics default).
        assert.match(first.response.status.message, /collides with port|the sidecar needs three different ports/);
        return;
      }
      const once = applyPatch(p, first.patch!);
      const second = await admit(h, once, { options: { reinvocation: true } });
      assert.is(second.response.allowed, true);
      assert.is(second.patch, undefined);
      assert.is(once.spec.initContainers.filter((c: any) => c.name === SIDECAR_CONTAINER).length, 1);
    }),
    { numRuns: 200, seed: -779616802, path: '176:0', endOnFailure: true },
  );
});

test('a container added by a later webhook that clashes with the injected sidecar is denied on reinvocation', async () => {
  const h = harness();
  const { after } = await injected(h, pod({ 'spice.ai/inject': 'demo' }));
  after.spec.containers.push({ name: 'late-proxy', ports: [{ containerPort: 18090 }] });
  const msg = await denied(h, after, { options: { reinvocation: true } });
  assert.match(msg, 'collides with port 18090 of container "late-proxy"');
});

test('dry-run requests get the same answer and only read', async () => {
  const h = harness();
  const real = await admit(h, pod({ 'spice.ai/inject': 'demo' }));
  const dry = await admit(h, pod({ 'spice.ai/inject': 'demo' }), { dryRun: true });
  assert.equal(dry.patch, real.patch);
  assert.equal(h.reads, ['apps/demo', 'apps/demo']);
  assert.is(h.outcomes.at(-1)?.dryRun, true);
});

test('the injected mark is a reserved key users cannot set through a SpicepodSet', () => {
  assert.ok(RESERVED_KEYS.has(ANNOTATION_SIDECAR_INJECTED));
});

// ---------------------------------------------------------------- malformed requests, routes

test('a malformed AdmissionReview gets HTTP 400 with a clear message', async () => {
  const h = harness();
  const cases: [unknown, string][] = [
    ['{not json', 'the request body is not JSON'],
    [
      { apiVersion: 'admission.k8s.io/v1beta1', kind: 'AdmissionReview', request: {} },
      'not an admission.k8s.io/v1 AdmissionReview: apiVersion',
    ],
    [{ ...review(pod()), request: { ...review(pod()).request, uid: undefined } }, 'request.uid'],
    [{ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview' }, 'request'],
    [review({ metadata: 'nope' }), 'request.object is not a Pod: metadata'],
    [
      review({ metadata: { name: 'p', annotations: { 'spice.ai/inject': 'demo' } }, spec: {} }),
      'request.object is not a Pod: spec.containers',
    ],
    [
      review({ metadata: { name: 'p', annotations: { 'spice.ai/inject': 5 } }, spec: { containers: [] } }),
      'metadata.annotations.spice.ai/inject: expected a string',
    ],
    [
      review(pod({ 'spice.ai/inject': 'demo' }, { containers: [{ name: 'a', ports: [{ containerPort: 'x' }] }] })),
      'spec.containers.0.ports.0.containerPort: expected a whole number',
    ],
  ];
  for (const [body, message] of cases) {
    const { status, body: answer } = await post(h, body);
    assert.is(status, 400, JSON.stringify(body));
    assert.match(answer.error, message);
  }
  assert.ok(h.outcomes.every((o) => o.result === 'error'));
});

test('other routes: GET /health answers OK, anything else 404', async () => {
  const h = harness();
  const health = await h.handler(new Request('https://x/health'));
  assert.is(health.status, 200);
  assert.is(await health.text(), 'OK');
  assert.is((await h.handler(new Request('https://x/mutate'))).status, 404);
  assert.is((await h.handler(new Request('https://x/other', { method: 'POST', body: '{}' }))).status, 404);
});

// ---------------------------------------------------------------- the webhook configuration

test('the webhook configuration: Pod CREATE only, no side effects, v1, reinvocation, excluded namespaces', () => {
  const cfg = webhookConfiguration({
    name: 'inj',
    operatorNamespace: OPERATOR_NS,
    caBundlePem: 'PEM',
    service: { name: 'svc', namespace: OPERATOR_NS, path: '/mutate' },
  });
  assert.is(cfg.webhooks.length, 2);
  for (const w of cfg.webhooks) {
    assert.equal(w.rules, [{ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods'], scope: 'Namespaced' }]);
    assert.is(w.sideEffects, 'None');
    assert.equal(w.admissionReviewVersions, ['v1']);
    assert.is(w.reinvocationPolicy, 'IfNeeded');
    assert.is(w.timeoutSeconds, 5);
    assert.equal(w.namespaceSelector, {
      matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: [OPERATOR_NS, 'kube-system'] }],
    });
    assert.equal(w.clientConfig, { service: { name: 'svc', namespace: OPERATOR_NS, port: 443, path: '/mutate' }, caBundle: btoa('PEM') });
  }
  const [optional, required] = cfg.webhooks;
  assert.is(optional!.failurePolicy, 'Ignore');
  assert.equal(optional!.objectSelector, { matchExpressions: [{ key: LABEL_INJECT_REQUIRED, operator: 'NotIn', values: ['true'] }] });
  assert.is(required!.failurePolicy, 'Fail');
  assert.equal(required!.objectSelector, { matchLabels: { [LABEL_INJECT_REQUIRED]: 'true' } });
});

test('the webhook configuration is labelled managed-by the operator unless another tool owns it', () => {
  const base = { name: 'inj', operatorNamespace: 'op', caBundlePem: 'PEM', url: 'https://127.0.0.1:8443/mutate' };
  assert.is((webhookConfiguration(base).metadata.labels as Record<string, string>)['app.kubernetes.io/managed-by'], 'spiceai-operator');
  assert.not.ok('app.kubernetes.io/managed-by' in webhookConfiguration({ ...base, ownedByOperator: false }).metadata.labels);
});

test('the webhook configuration by URL, limited to the watched namespaces', () => {
  const cfg = webhookConfiguration({
    name: 'inj',
    operatorNamespace: 'op',
    namespaces: ['a', 'b'],
    caBundlePem: 'PEM',
    url: 'https://127.0.0.1:8443/mutate',
  });
  assert.equal(cfg.webhooks[0]!.clientConfig, { url: 'https://127.0.0.1:8443/mutate', caBundle: btoa('PEM') });
  assert.equal(cfg.webhooks[0]!.namespaceSelector.matchExpressions[1], {
    key: 'kubernetes.io/metadata.name',
    operator: 'In',
    values: ['a', 'b'],
  });
  assert.throws(() => webhookConfiguration({ name: 'x', operatorNamespace: 'op', caBundlePem: '' }), /exactly one of service and url/);
});

test.run();
