// A SpicepodCluster's per-node overrides (cluster.bindAddress,
// cluster.advertiseAddress) carried through everything that depends on them,
// or refused naming the field; a SpicepodSet that claims a cluster role
// without belonging to a SpicepodCluster; and executor probes.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { HandlerConfig, KubeObject } from '../../core/handler.ts';
import { clusterNodes } from '../../core/manifests/spicepodcluster.ts';
import { normalizeSpicepodClusterSpec } from '../../core/spec/normalize.ts';
import { reconcileSpicepodCluster } from '../../functions/cluster/index.ts';
import { reconcileNetworkPolicy } from '../../functions/network-policy/index.ts';
import { reconcileSpicepodSet } from '../../functions/workloads/index.ts';
import { checkSpicedContainer } from '../conformance/spiced-start.ts';

const config: HandlerConfig = {
  operatorNamespace: 'op',
  clusterDomain: 'cluster.local',
  pauseCrashloopingPodsThreshold: 10,
  telemetryProperties: {},
};
const pod = { version: 'v1', kind: 'Spicepod', name: 's', runtime: { scheduler: { state_location: 'file:///tmp/spice-cluster' } } };
const now = Date.parse('2026-01-01T00:00:00Z');
const OWNER = { apiVersion: 'spice.ai/v1alpha1', kind: 'SpicepodCluster', name: 'c', uid: 'u', controller: true };

const clusterObject = (spec: Record<string, unknown>): KubeObject => ({
  apiVersion: 'spice.ai/v1alpha1',
  kind: 'SpicepodCluster',
  metadata: { name: 'c', namespace: 'ns', uid: 'u', generation: 1 },
  spec,
});
const runCluster = (spec: Record<string, unknown>) =>
  reconcileSpicepodCluster({ parent: clusterObject(spec), children: [], related: {}, now, config });

/** The cluster's child sets as the shim stores them, and what the workloads and network-policy handlers make of each. */
async function render(spec: Record<string, unknown>) {
  const d = await runCluster(spec);
  const out: Record<string, { set: any; objects: any[]; policy: any }> = {};
  for (const set of d.apply) {
    const parent = { ...set, metadata: { ...set.metadata, uid: `u-${set.metadata.name}`, generation: 1, ownerReferences: [OWNER] } };
    const observed = { parent, children: [], related: {}, now, config };
    out[(set.spec as any).cluster.role] = {
      set,
      objects: (await reconcileSpicepodSet(observed)).apply,
      policy: (await reconcileNetworkPolicy(observed)).apply[0],
    };
  }
  return out;
}
const sts = (objects: any[], name: string) => objects.find((o) => o.kind === 'StatefulSet' && o.metadata.name === name);
const arg = (container: any, flag: string) => container.args[container.args.indexOf(flag) + 1];
const problemsOf = async (spec: Record<string, unknown>) => {
  const r = normalizeSpicepodClusterSpec(spec);
  return r.ok ? [] : r.problems.map((p) => `${p.field} ${p.message}`);
};

const overridden = {
  schedulerSetSpec: { replicas: 1, spicepod: pod, cluster: { bindAddress: '0.0.0.0:6000', advertiseAddress: 'scheduler.example.com' } },
  executorSetSpec: {
    replicas: 2,
    cluster: { bindAddress: '[::]:6000', advertiseAddress: '$(POD_NAME).nodes.example.com' },
    network: { egress: [] },
  },
};

test('bindAddress: its port is the container port, the headless Service port, the port executors dial, and the NetworkPolicy port', async () => {
  const { scheduler, executor } = await render(overridden);
  const s = sts(scheduler!.objects, 'c-scheduler-0').spec.template.spec;
  const e = sts(executor!.objects, 'c-executor-1').spec.template.spec;
  assert.is(arg(s.containers[0], '--node-bind-address'), '0.0.0.0:6000');
  assert.is(arg(e.containers[0], '--node-bind-address'), '[::]:6000');
  assert.ok(s.containers[0].ports.some((p: any) => p.name === 'cluster' && p.containerPort === 6000));
  assert.ok(e.containers[0].ports.some((p: any) => p.name === 'cluster' && p.containerPort === 6000));
  assert.not.ok(e.containers[0].ports.some((p: any) => p.containerPort === 50052));
  for (const role of [scheduler!, executor!]) {
    const headless = role.objects.find((o) => o.kind === 'Service' && o.metadata.name.endsWith('-headless'));
    assert.equal(
      headless.spec.ports.find((p: any) => p.name === 'cluster'),
      { name: 'cluster', port: 6000, targetPort: 6000, protocol: 'TCP' },
    );
  }
  assert.is(arg(e.containers[0], '--scheduler-address'), 'https://c-scheduler-headless.ns.svc.cluster.local:6000');
  const peers = { podSelector: { matchLabels: { 'spice.ai/cluster': 'c' } } };
  assert.equal(scheduler!.policy.spec.ingress[0], { from: [peers], ports: [{ protocol: 'TCP', port: 6000 }] });
  assert.equal(executor!.policy.spec.ingress[0], { from: [peers], ports: [{ protocol: 'TCP', port: 6000 }] });
  assert.equal(executor!.policy.spec.egress.at(-1), { to: [peers], ports: [{ protocol: 'TCP', port: 6000 }] });
  // The containers pass spiced's rules and the pod wiring the conformance kit checks (ports declared = ports bound).
  for (const [objects, name, podName] of [
    [scheduler!.objects, 'c-scheduler-0', 'c-scheduler-0-0'],
    [executor!.objects, 'c-executor-1', 'c-executor-1-0'],
  ] as const) {
    const spec = sts(objects, name).spec.template.spec;
    assert.equal(
      checkSpicedContainer({ container: spec.containers[0], volumes: spec.volumes, spicepod: pod, fields: { 'metadata.name': podName } }),
      [],
      name,
    );
  }
});

test("advertiseAddress: passed to spiced, $(POD_NAME) expanded per node, and in each node certificate's SANs (DNS or IP)", async () => {
  const { scheduler, executor } = await render(overridden);
  assert.is(
    arg(sts(scheduler!.objects, 'c-scheduler-0').spec.template.spec.containers[0], '--node-advertise-address'),
    'scheduler.example.com',
  );
  assert.is(
    arg(sts(executor!.objects, 'c-executor-1').spec.template.spec.containers[0], '--node-advertise-address'),
    '$(POD_NAME).nodes.example.com',
  );
  const normalized = normalizeSpicepodClusterSpec(overridden);
  assert.ok(normalized.ok);
  if (!normalized.ok) return;
  const nodes = clusterNodes('c', 'ns', normalized.spec, 'cluster.local');
  const byPod = Object.fromEntries(nodes.map((n) => [n.pod, n]));
  assert.ok(byPod['c-scheduler-0-0']!.dnsNames.includes('scheduler.example.com'));
  assert.ok(byPod['c-executor-0-0']!.dnsNames.includes('c-executor-0-0.nodes.example.com'));
  assert.ok(byPod['c-executor-1-0']!.dnsNames.includes('c-executor-1-0.nodes.example.com'));
  assert.not.ok(byPod['c-executor-1-0']!.dnsNames.includes('c-executor-0-0.nodes.example.com'), 'each node its own name');
  assert.ok(
    byPod['c-executor-1-0']!.dnsNames.includes('c-executor-1-0.c-executor-headless.ns.svc.cluster.local'),
    'the stable DNS name stays',
  );
  const ip = normalizeSpicepodClusterSpec({
    ...overridden,
    schedulerSetSpec: { ...overridden.schedulerSetSpec, cluster: { advertiseAddress: '10.20.30.40' } },
    executorSetSpec: { replicas: 1 },
  });
  assert.ok(ip.ok);
  if (!ip.ok) return;
  const scheduler0 = clusterNodes('c', 'ns', ip.spec, 'cluster.local').find((n) => n.role === 'scheduler')!;
  assert.equal(scheduler0.ipAddresses, ['127.0.0.1', '10.20.30.40']);
  assert.not.ok(scheduler0.dnsNames.includes('10.20.30.40'));
});

test('overrides spiced could not use are refused, naming the field', async () => {
  const withCluster = (role: 'schedulerSetSpec' | 'executorSetSpec', cluster: Record<string, unknown>, replicas = 1) => ({
    schedulerSetSpec: { replicas: 1, spicepod: pod },
    executorSetSpec: { replicas: 1 },
    [role]: { ...(role === 'schedulerSetSpec' ? { spicepod: pod } : {}), replicas, cluster },
  });
  const cases: [Record<string, unknown>, RegExp][] = [
    [
      withCluster('schedulerSetSpec', { bindAddress: 'localhost:50052' }),
      /^spec\.schedulerSetSpec\.cluster\.bindAddress must be IP:port \(an IP address, not a host name\)/,
    ],
    [
      withCluster('executorSetSpec', { bindAddress: '300.0.0.1:50052' }),
      /^spec\.executorSetSpec\.cluster\.bindAddress must be IP:port \("300\.0\.0\.1:50052" is not\): spiced reads it as a socket address/,
    ],
    [withCluster('executorSetSpec', { bindAddress: '127.0.0.1:50052' }), /^spec\.executorSetSpec\.cluster\.bindAddress binds to loopback/],
    [withCluster('executorSetSpec', { bindAddress: '0.0.0.0:70000' }), /^spec\.executorSetSpec\.cluster\.bindAddress must be IP:port/],
    [
      withCluster('executorSetSpec', { bindAddress: '0.0.0.0:6000' }),
      /^spec\.executorSetSpec\.cluster\.bindAddress must use the port of spec\.schedulerSetSpec\.cluster\.bindAddress \(50052, got 6000\)/,
    ],
    [
      withCluster('executorSetSpec', { bindAddress: '0.0.0.0:9090' }),
      /spec\.executorSetSpec\.metricsPort must differ from 9090, the internal cluster port \(the port of cluster\.bindAddress\)/,
    ],
    [
      withCluster('schedulerSetSpec', { advertiseAddress: 'scheduler.example.com:50052' }),
      /^spec\.schedulerSetSpec\.cluster\.advertiseAddress must be a host name or IP without a port/,
    ],
    [
      withCluster('executorSetSpec', { advertiseAddress: 'nodes.example.com' }, 3),
      /^spec\.executorSetSpec\.cluster\.advertiseAddress is the same for all 3 replicas.*include \$\(POD_NAME\)/,
    ],
    [
      withCluster('executorSetSpec', { advertiseAddress: 'fd00::1' }),
      /advertiseAddress must be a DNS name or an IPv4 address: spiced cannot advertise an IPv6 address/,
    ],
    [
      withCluster('executorSetSpec', { advertiseAddress: 'bad_name!' }),
      /advertiseAddress must be a DNS name or an IP address peers can dial/,
    ],
    [withCluster('executorSetSpec', { advertiseAddress: '$(POD_IP)' }), /advertiseAddress may only use the reference \$\(POD_NAME\)/],
  ];
  for (const [spec, expected] of cases) {
    const problems = await problemsOf(spec);
    assert.ok(
      problems.some((p) => expected.test(p)),
      `${JSON.stringify(spec)}: ${problems.join('; ') || 'accepted'}`,
    );
    // The cluster handler turns it into Ready=False, InvalidSpec, and an Event; no child set is written.
    const d = await runCluster(spec);
    assert.equal(d.apply, []);
    assert.is((d.status as any).conditions.find((c: any) => c.type === 'Ready').reason, 'InvalidSpec');
    assert.ok(d.events?.some((e) => e.type === 'Warning' && e.reason === 'InvalidSpec'));
  }
  assert.equal(await problemsOf(overridden), []);
});

test('a SpicepodSet with spec.cluster that no SpicepodCluster owns is InvalidSpec naming spec.cluster; the same set owned by its cluster runs', async () => {
  const set = (ownerReferences?: unknown[]): KubeObject => ({
    apiVersion: 'spice.ai/v1',
    kind: 'SpicepodSet',
    metadata: { name: 'c-scheduler', namespace: 'ns', uid: 's', generation: 1, ownerReferences: ownerReferences as any },
    spec: { spicepod: pod, replicas: 1, cluster: { role: 'scheduler', clusterName: 'c' } },
  });
  const alone = await reconcileSpicepodSet({ parent: set(), children: [], related: {}, now, config });
  assert.equal(alone.apply, []);
  const ready = (alone.status as any).conditions.find((c: any) => c.type === 'Ready');
  assert.equal([ready.status, ready.reason], ['False', 'InvalidSpec']);
  assert.match(ready.message, /^spec\.cluster is set by a SpicepodCluster on its own child sets only: no SpicepodCluster owns this set/);
  assert.equal(alone.events, [{ type: 'Warning', reason: 'InvalidSpec', message: ready.message }]);
  const otherCluster = await reconcileSpicepodSet({ parent: set([{ ...OWNER, name: 'd' }]), children: [], related: {}, now, config });
  assert.match(
    (otherCluster.status as any).conditions[0].message,
    /^spec\.cluster names cluster "c", but the set belongs to SpicepodCluster "d"/,
  );
  const owned = await reconcileSpicepodSet({ parent: set([OWNER]), children: [], related: {}, now, config });
  assert.ok(owned.apply.some((o) => o.kind === 'StatefulSet'));
});

test('executors: probes.liveness probes /health (all an executor serves); probes.readiness is refused, naming the field', async () => {
  const { executor } = await render({
    schedulerSetSpec: { replicas: 1, spicepod: pod },
    executorSetSpec: { replicas: 1, probes: { liveness: { periodSeconds: 20, failureThreshold: 5 } } },
  });
  assert.equal(executor!.set.spec.probes, { liveness: { periodSeconds: 20, failureThreshold: 5 } }, 'carried to the child set');
  const c = sts(executor!.objects, 'c-executor-0').spec.template.spec.containers[0];
  assert.equal(c.livenessProbe, { httpGet: { path: '/health', port: 'http' }, timeoutSeconds: 1, periodSeconds: 20, failureThreshold: 5 });
  assert.is(c.readinessProbe, undefined);
  const spec = sts(executor!.objects, 'c-executor-0').spec.template.spec;
  assert.equal(
    checkSpicedContainer({ container: c, volumes: spec.volumes, spicepod: pod, fields: { 'metadata.name': 'c-executor-0-0' } }),
    [],
  );
  const refused = await runCluster({
    schedulerSetSpec: { replicas: 1, spicepod: pod },
    executorSetSpec: { replicas: 1, probes: { readiness: { periodSeconds: 5 } } },
  });
  assert.equal(refused.apply, []);
  assert.match(
    (refused.status as any).conditions.find((c: any) => c.type === 'Ready').message,
    /^spec\.executorSetSpec\.probes\.readiness must not be set on executors: spiced serves only \/health on an executor/,
  );
  // Without probes an executor keeps none, as before.
  const { executor: plain } = await render({ schedulerSetSpec: { replicas: 1, spicepod: pod }, executorSetSpec: { replicas: 1 } });
  assert.is(sts(plain!.objects, 'c-executor-0').spec.template.spec.containers[0].livenessProbe, undefined);
});

test.run();
