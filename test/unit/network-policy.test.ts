// The network-policy handler and the spec checks behind it, rule by rule,
// with plain objects: what a SpicepodSet's `network` becomes, what the
// operator adds around it, what cluster nodes always get, and which rules
// are refused (InvalidSpec naming the field).
import * as fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { satisfies } from '../../core/diff.ts';
import type { KubeObject } from '../../core/handler.ts';
import { desiredChildSet } from '../../core/manifests/spicepodcluster.ts';
import { parseCidr, strictlyContains } from '../../core/spec/cidr.ts';
import { normalizeSpicepodClusterSpec, normalizeSpicepodSetSpec } from '../../core/spec/normalize.ts';
import { reconcileSpicepodCluster } from '../../functions/cluster/index.ts';
import { networkPolicyHandler, reconcileNetworkPolicy } from '../../functions/network-policy/index.ts';
import { reconcileSpicepodSet } from '../../functions/workloads/index.ts';
import { handlerConfig, NOW, SCHEDULER_SPICEPOD, SPICEPOD, spicepodSet } from '../kit/fixtures.ts';

const OP_NS = 'spiceai-operator-system';
const config = handlerConfig({ operatorNamespace: OP_NS });
const spicepod = SPICEPOD;
const schedulerSpicepod = SCHEDULER_SPICEPOD;
const now = NOW;

/** A set; one with a cluster role is owned by its SpicepodCluster, as the cluster handler makes it. */
const setObject = (spec: Record<string, unknown>, name = 'app', generation = 1): KubeObject => spicepodSet(spec, { name, generation });
const reconcile = (parent: KubeObject, children: KubeObject[] = []) =>
  reconcileNetworkPolicy({ parent, children, related: {}, now, config });
async function policyOf(spec: Record<string, unknown>, name = 'app'): Promise<any> {
  const d = await reconcile(setObject(spec, name));
  assert.ok(d.apply.length <= 1, 'at most one object');
  return d.apply[0];
}

// What the operator adds, written out here rather than imported, so a change shows up as a failing test.
const DNS = {
  ports: [
    { protocol: 'UDP', port: 53 },
    { protocol: 'TCP', port: 53 },
  ],
};
// The operator's own pods: its namespace AND its pod labels (one peer), not every pod of that namespace.
const fromOperator = (httpPort = 8090, podLabels: Record<string, string> = { 'app.kubernetes.io/name': 'spiceai-operator' }) => ({
  from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': OP_NS } }, podSelector: { matchLabels: podLabels } }],
  ports: [{ protocol: 'TCP', port: httpPort }],
});
const peersIn = (cluster: string) => ({
  from: [{ podSelector: { matchLabels: { 'spice.ai/cluster': cluster } } }],
  ports: [{ protocol: 'TCP', port: 50052 }],
});
const peersOut = (cluster: string) => ({
  to: [{ podSelector: { matchLabels: { 'spice.ai/cluster': cluster } } }],
  ports: [{ protocol: 'TCP', port: 50052 }],
});
const PUBLIC = [
  { protocol: 'TCP', port: 8090 },
  { protocol: 'TCP', port: 50051 },
  { protocol: 'TCP', port: 9090 },
];
const scheduler = (clusterName = 'q') => ({ role: 'scheduler', clusterName });
const executor = (clusterName = 'q') => ({
  role: 'executor',
  clusterName,
  schedulerAddress: 'https://q-scheduler-headless.ns.svc.cluster.local:50052',
});

const fromMonitoring = {
  from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } }],
  ports: [{ port: 8090 }],
};
const toDatabase = { to: [{ ipBlock: { cidr: '10.20.0.0/16', except: ['10.20.1.0/24'] } }], ports: [{ protocol: 'TCP', port: 5432 }] };

// ---- plain sets ------------------------------------------------------------

test('a set without network rules gets no NetworkPolicy', async () => {
  assert.is(await policyOf({}), undefined);
  assert.is(await policyOf({ network: { dnsPolicy: 'ClusterFirst' } }), undefined, 'DNS settings alone restrict nothing');
});

test('ingress rules are written as given, plus ingress from the operator namespace on the HTTP port', async () => {
  const p = await policyOf({ network: { ingress: [fromMonitoring] } });
  assert.is(p.apiVersion, 'networking.k8s.io/v1');
  assert.is(p.kind, 'NetworkPolicy');
  assert.is(p.metadata.name, 'app');
  assert.is(p.metadata.namespace, 'ns');
  assert.is(p.metadata.labels['spice.ai/app'], 'app');
  assert.equal(p.spec, {
    podSelector: { matchLabels: { 'spice.ai/app': 'app' } },
    policyTypes: ['Ingress'],
    ingress: [fromMonitoring, fromOperator()],
  });
});

test('ingress: [] denies all ingress but the operator probes', async () => {
  const p = await policyOf({ network: { ingress: [] } });
  assert.equal(p.spec.policyTypes, ['Ingress']);
  assert.equal(p.spec.ingress, [fromOperator()]);
});

test('the operator rule follows the container HTTP port', async () => {
  const p = await policyOf({ httpPort: 8000, network: { ingress: [] } });
  assert.equal(p.spec.ingress, [fromOperator(8000)]);
});

test('the operator rule admits the pods --operator-pod-labels names (HandlerConfig.operatorPodLabels), in the operator namespace only', async () => {
  const labels = { 'app.kubernetes.io/name': 'spiceai-operator', 'app.kubernetes.io/instance': 'ops' };
  const d = await reconcileNetworkPolicy({
    parent: setObject({ network: { ingress: [] } }),
    children: [],
    related: {},
    now,
    config: { ...config, operatorPodLabels: labels },
  });
  const rule = (d.apply[0] as any).spec.ingress[0];
  assert.equal(rule, fromOperator(8090, labels));
  assert.is(rule.from.length, 1, 'one peer: namespace AND pod labels, not either');
});

test('egress rules are written as given, plus DNS (UDP and TCP 53) when egress is restricted', async () => {
  const p = await policyOf({ network: { egress: [toDatabase] } });
  assert.equal(p.spec, {
    podSelector: { matchLabels: { 'spice.ai/app': 'app' } },
    policyTypes: ['Egress'],
    egress: [toDatabase, DNS],
  });
  assert.equal((await policyOf({ network: { egress: [] } })).spec.egress, [DNS], 'egress: [] denies all but DNS');
});

test('a user rule listing port 53 takes charge of DNS: the operator adds none', async () => {
  const kubeDns = {
    to: [
      {
        namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } },
        podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } },
      },
    ],
    ports: [
      { protocol: 'UDP', port: 53 },
      { protocol: 'TCP', port: 53 },
    ],
  };
  assert.equal((await policyOf({ network: { egress: [kubeDns] } })).spec.egress, [kubeDns]);
  const range = { to: [{ ipBlock: { cidr: '10.0.0.10/32' } }], ports: [{ protocol: 'UDP', port: 50, endPort: 60 }] };
  assert.equal((await policyOf({ network: { egress: [range] } })).spec.egress, [range], 'a range containing 53 counts');
  // A rule without ports is about a destination, not about DNS.
  const anyPortToCidr = { to: [{ ipBlock: { cidr: '10.0.0.0/8' } }] };
  assert.equal((await policyOf({ network: { egress: [anyPortToCidr] } })).spec.egress, [anyPortToCidr, DNS]);
  const sctp = { ports: [{ protocol: 'SCTP', port: 53 }] };
  assert.equal((await policyOf({ network: { egress: [sctp] } })).spec.egress, [sctp, DNS]);
});

test('ingress and egress together: both policy types, each with its own additions', async () => {
  const p = await policyOf({ network: { ingress: [fromMonitoring], egress: [toDatabase] } });
  assert.equal(p.spec.policyTypes, ['Ingress', 'Egress']);
  assert.equal(p.spec.ingress, [fromMonitoring, fromOperator()]);
  assert.equal(p.spec.egress, [toDatabase, DNS]);
});

test('the older top-level ingress/egress spelling gives the same policy', async () => {
  const legacy = await policyOf({ ingress: [fromMonitoring], egress: [toDatabase] });
  const camel = await policyOf({ network: { ingress: [fromMonitoring], egress: [toDatabase] } });
  assert.equal(legacy.spec, camel.spec);
});

test('empty lists in user rules are dropped (same meaning), so the stored policy compares equal and a no-op writes nothing', async () => {
  const p = await policyOf({
    network: { ingress: [{ from: [], ports: [] }], egress: [{ to: [{ ipBlock: { cidr: '10.0.0.0/8', except: [] } }], ports: [] }] },
  });
  assert.equal(p.spec.ingress[0], {});
  assert.equal(p.spec.egress[0], { to: [{ ipBlock: { cidr: '10.0.0.0/8' } }] });
  // What the API server stores (protocol defaulted) satisfies what we want.
  const stored = JSON.parse(JSON.stringify(p));
  stored.spec.ingress[1].ports[0].protocol = 'TCP';
  stored.metadata.resourceVersion = '7';
  assert.ok(satisfies(p, stored));
});

test('the policy does not depend on replicas: a paused set keeps it', async () => {
  const running = await policyOf({ replicas: 3, network: { ingress: [] } });
  const paused = await policyOf({ replicas: 0, network: { ingress: [] } });
  assert.equal(paused, running);
});

// ---- cluster nodes -----------------------------------------------------------

test('a cluster node without network rules: 50052 only from its cluster, public ports open to all, egress free', async () => {
  for (const cluster of [scheduler(), executor()]) {
    const p = await policyOf({ cluster }, `q-${cluster.role}`);
    assert.equal(p.spec, {
      podSelector: { matchLabels: { 'spice.ai/app': `q-${cluster.role}` } },
      policyTypes: ['Ingress'],
      ingress: [peersIn('q'), { ports: PUBLIC }],
    });
    assert.is(p.metadata.labels['spice.ai/cluster'], 'q');
    assert.is(p.metadata.labels['spice.ai/cluster-role'], cluster.role);
  }
});

test('a scheduler with ingress rules: the rules, the operator probes, and the cluster peers on 50052', async () => {
  const p = await policyOf({ cluster: scheduler(), network: { ingress: [fromMonitoring] } }, 'q-scheduler');
  assert.equal(p.spec.policyTypes, ['Ingress']);
  assert.equal(p.spec.ingress, [fromMonitoring, fromOperator(), peersIn('q')]);
});

test('an executor gets no operator rule (the status API does not probe executors)', async () => {
  const p = await policyOf({ cluster: executor(), network: { ingress: [fromMonitoring] } }, 'q-executor');
  assert.equal(p.spec.ingress, [fromMonitoring, peersIn('q')]);
});

test('on a cluster node an ingress rule without ports covers the public ports only', async () => {
  const fromApps = { from: [{ namespaceSelector: { matchLabels: { team: 'apps' } } }] };
  const p = await policyOf(
    { cluster: executor(), flightPort: 50061, network: { ingress: [fromApps, { ...fromApps, ports: [] }] } },
    'q-executor',
  );
  const publicPorts = [
    { protocol: 'TCP', port: 8090 },
    { protocol: 'TCP', port: 50061 },
    { protocol: 'TCP', port: 9090 },
  ];
  assert.equal(p.spec.ingress, [{ ...fromApps, ports: publicPorts }, { ...fromApps, ports: publicPorts }, peersIn('q')]);
});

test('a cluster node with egress rules: the rules, DNS, and egress to the cluster peers on 50052', async () => {
  const p = await policyOf({ cluster: executor(), network: { egress: [toDatabase] } }, 'q-executor');
  assert.equal(p.spec.policyTypes, ['Ingress', 'Egress']);
  assert.equal(p.spec.ingress, [peersIn('q'), { ports: PUBLIC }]);
  assert.equal(p.spec.egress, [toDatabase, DNS, peersOut('q')]);
});

test('a set with a cluster role that no SpicepodCluster owns gets no policy (the workloads handler reports it)', async () => {
  const existing = { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'solo', namespace: 'ns' } };
  const d = await reconcile(setObject({ cluster: { role: 'scheduler' } }, 'solo'), [existing]);
  assert.equal(d.apply, []);
  assert.equal(
    d.keep?.map((r) => r.name),
    ['solo'],
    'an existing policy is left as it is',
  );
});

test("a SpicepodCluster's network per role reaches each child set's policy", async () => {
  const spec = normalizeSpicepodClusterSpec({
    schedulerSetSpec: { replicas: 1, spicepod: schedulerSpicepod, network: { ingress: [fromMonitoring] } },
    executorSetSpec: { replicas: 2, network: { egress: [toDatabase] } },
  });
  assert.ok(spec.ok);
  if (!spec.ok) return;
  const s = desiredChildSet('q', 'ns', spec.spec, 'scheduler', 'cluster.local');
  const e = desiredChildSet('q', 'ns', spec.spec, 'executor', 'cluster.local');
  const owner = [{ apiVersion: 'spice.ai/v1alpha1', kind: 'SpicepodCluster', name: 'q', uid: 'c1', controller: true }];
  const sp = (await reconcile({ ...s, metadata: { ...s.metadata, uid: 's', ownerReferences: owner } })).apply[0] as any;
  const ep = (await reconcile({ ...e, metadata: { ...e.metadata, uid: 'e', ownerReferences: owner } })).apply[0] as any;
  assert.is(sp.metadata.name, 'q-scheduler');
  assert.equal(sp.spec.ingress, [fromMonitoring, fromOperator(), peersIn('q')]);
  assert.is(ep.metadata.name, 'q-executor');
  assert.equal(ep.spec.ingress, [peersIn('q'), { ports: PUBLIC }]);
  assert.equal(ep.spec.egress, [toDatabase, DNS, peersOut('q')]);
});

test("property: on a cluster node no generated ingress rule lets anyone but the cluster's own pods reach TCP 50052", async () => {
  const portEntry = fc.record(
    {
      protocol: fc.constantFrom('TCP', 'UDP', undefined),
      port: fc.oneof(fc.constantFrom(50052, 8090, 53, 'http', 'cluster', 'flight'), fc.integer({ min: 1, max: 65535 })),
      endPort: fc.option(fc.integer({ min: 1, max: 65535 }), { nil: undefined }),
    },
    { requiredKeys: [] },
  );
  const peer = fc.constantFrom<Record<string, unknown>>(
    { namespaceSelector: { matchLabels: { team: 'x' } } },
    { podSelector: { matchLabels: { 'spice.ai/cluster': 'q' } } },
    { podSelector: { matchLabels: { 'spice.ai/cluster': 'q', 'spice.ai/cluster-role': 'executor' } } },
    { podSelector: { matchExpressions: [{ key: 'spice.ai/cluster', operator: 'In', values: ['q'] }] } },
    { podSelector: { matchLabels: { 'spice.ai/cluster': 'other' } } },
    { podSelector: { matchLabels: { 'spice.ai/cluster': 'q' } }, namespaceSelector: {} },
    { podSelector: {} },
  );
  const rule = fc.record({ from: fc.array(peer, { maxLength: 2 }), ports: fc.array(portEntry, { maxLength: 3 }) }, { requiredKeys: [] });
  // Pods of cluster q in the policy's namespace: the only peers a rule reaching 50052 may admit.
  const onlyClusterQ = (r: any) =>
    (r.from ?? []).length > 0 &&
    r.from.every(
      (p: any) =>
        !p.namespaceSelector &&
        !p.ipBlock &&
        (p.podSelector?.matchLabels?.['spice.ai/cluster'] === 'q' ||
          p.podSelector?.matchExpressions?.some(
            (e: any) => e.key === 'spice.ai/cluster' && e.operator === 'In' && e.values.length === 1 && e.values[0] === 'q',
          )),
    );
  const reaches50052 = (p: any) =>
    (p.protocol ?? 'TCP') === 'TCP' &&
    (p.port === undefined || p.port === 'cluster' || (typeof p.port === 'number' && p.port <= 50052 && 50052 <= (p.endPort ?? p.port)));
  await fc.assert(
    fc.asyncProperty(fc.array(rule, { maxLength: 3 }), fc.constantFrom('scheduler', 'executor'), async (ingress, role) => {
      const spec = { spicepod, cluster: { role, clusterName: 'q' }, network: { ingress } };
      const normalized = normalizeSpicepodSetSpec(spec);
      const d = await reconcile(setObject(spec, 'q-x'));
      if (!normalized.ok) {
        assert.equal(d.apply, [], 'an invalid spec applies nothing');
        return;
      }
      const policy = d.apply[0] as any;
      for (const r of policy.spec.ingress) {
        if (!r.ports || r.ports.some(reaches50052)) assert.ok(onlyClusterQ(r), JSON.stringify(r));
      }
    }),
    { numRuns: 300 },
  );
});

// ---- removal -----------------------------------------------------------------

test('removing network removes exactly what the operator added', async () => {
  // A plain set: the policy goes (the shim prunes the child the handler stops returning).
  const withRules = await reconcile(setObject({ network: { ingress: [fromMonitoring], egress: [toDatabase] } }));
  const policy = withRules.apply[0]!;
  const without = await reconcile(setObject({ network: { dnsPolicy: 'Default' } }, 'app', 2), [policy]);
  assert.equal(without.apply, []);
  assert.equal(without.keep ?? [], [], 'nothing is kept, so the policy is pruned');
  // A cluster node: back to exactly the policy it has with no rules at all.
  const base = await policyOf({ cluster: scheduler() }, 'q-scheduler');
  const withCluster = await policyOf({ cluster: scheduler(), network: { ingress: [fromMonitoring], egress: [toDatabase] } }, 'q-scheduler');
  assert.not.equal(withCluster.spec, base.spec);
  const after = (await reconcile(setObject({ cluster: scheduler() }, 'q-scheduler', 2), [withCluster])).apply[0];
  assert.equal(after, base);
});

test('the handler owns NetworkPolicies of SpicepodSets and no status', () => {
  assert.is(networkPolicyHandler.name, 'network-policy');
  assert.equal(networkPolicyHandler.parent, { apiVersion: 'spice.ai/v1', kind: 'SpicepodSet' });
  assert.equal(networkPolicyHandler.children, [{ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy' }]);
  assert.equal(networkPolicyHandler.conditionTypes, []);
});

// ---- invalid rules -----------------------------------------------------------

const problemsOf = (spec: Record<string, unknown>) => {
  const r = normalizeSpicepodSetSpec({ spicepod, ...spec });
  return r.ok ? [] : r.problems;
};
const fieldsOf = (spec: Record<string, unknown>) => problemsOf(spec).map((p) => p.field);

test('ports outside 1-65535, bad ranges and bad port names are refused, naming the field', () => {
  const ingress = (ports: unknown[]) => ({ network: { ingress: [{ ports }] } });
  assert.equal(fieldsOf(ingress([{ port: 0 }])), ['spec.network.ingress.0.ports.0.port']);
  assert.equal(fieldsOf(ingress([{ port: 8090 }, { port: 65536 }])), ['spec.network.ingress.0.ports.1.port']);
  assert.match(problemsOf(ingress([{ port: 70000 }]))[0]!.message, /between 1 and 65535 \(got 70000\)/);
  assert.equal(fieldsOf(ingress([{ port: 100, endPort: 99 }])), ['spec.network.ingress.0.ports.0.endPort']);
  assert.equal(fieldsOf(ingress([{ port: 100, endPort: 70000 }])), ['spec.network.ingress.0.ports.0.endPort']);
  assert.equal(fieldsOf(ingress([{ endPort: 100 }])), ['spec.network.ingress.0.ports.0.endPort']);
  assert.equal(fieldsOf(ingress([{ port: 'http', endPort: 100 }])), ['spec.network.ingress.0.ports.0.endPort']);
  assert.match(problemsOf(ingress([{ port: '8080' }]))[0]!.message, /write the number 8080 without quotes/);
  assert.equal(fieldsOf(ingress([{ port: 'Not_A_Name' }])), ['spec.network.ingress.0.ports.0.port']);
  assert.equal(fieldsOf(ingress([{ port: 'a-very-long-port-name' }])), ['spec.network.ingress.0.ports.0.port']);
  assert.equal(fieldsOf({ network: { egress: [{ ports: [{ protocol: 'UDP', port: -1 }] }] } }), ['spec.network.egress.0.ports.0.port']);
  assert.equal(
    fieldsOf(ingress([{ port: 1 }, { port: 65535 }, { port: 'metrics' }, { port: 1000, endPort: 2000 }])),
    [],
    'valid ones pass',
  );
});

test('CIDRs that do not parse, or are ambiguous, are refused, naming the field', () => {
  const egress = (ipBlock: unknown) => ({ network: { egress: [{ to: [{ podSelector: {} }, { ipBlock }] }] } });
  for (const cidr of [
    '10.0.0.0',
    '10.0.0/8',
    '300.0.0.0/8',
    '10.0.0.0/33',
    '010.0.0.0/8',
    '10.0.0.0/08',
    'fe80::/129',
    '::ffff:10.0.0.0/104',
    'fe80::1%eth0/64',
    'banana',
    '',
  ]) {
    assert.equal(fieldsOf(egress({ cidr })), ['spec.network.egress.0.to.1.ipBlock.cidr'], cidr);
  }
  assert.match(
    problemsOf(egress({ cidr: '10.0.0.1/8' }))[0]!.message,
    /bits set beyond the \/8 prefix: write "10\.0\.0\.0\/8" for the range, or \/32/,
  );
  assert.match(problemsOf(egress({ cidr: '2001:db8::1/32' }))[0]!.message, /write "2001:db8::\/32"/);
  assert.equal(fieldsOf(egress({ cidr: '10.0.0.0/8', except: ['10.1.0.0/16', '11.0.0.0/16'] })), [
    'spec.network.egress.0.to.1.ipBlock.except.1',
  ]);
  assert.equal(
    fieldsOf(egress({ cidr: '10.0.0.0/8', except: ['10.0.0.0/8'] })),
    ['spec.network.egress.0.to.1.ipBlock.except.0'],
    'except must be smaller',
  );
  assert.equal(fieldsOf(egress({ cidr: '10.0.0.0/8', except: ['2001:db8::/64'] })), ['spec.network.egress.0.to.1.ipBlock.except.0']);
  assert.equal(fieldsOf(egress({ cidr: '10.0.0.0/8', except: ['nope'] })), ['spec.network.egress.0.to.1.ipBlock.except.0']);
  for (const cidr of ['0.0.0.0/0', '10.0.0.0/8', '192.168.1.7/32', '::/0', '2001:db8::/32', 'fd00:1:2::/48', '::1/128']) {
    assert.equal(fieldsOf(egress({ cidr })), [], cidr);
  }
});

test('peers and selectors the API server would refuse are refused, naming the field', () => {
  const ingressFrom = (peer: unknown) => ({ network: { ingress: [{ from: [peer] }] } });
  assert.equal(fieldsOf(ingressFrom({})), ['spec.network.ingress.0.from.0']);
  assert.equal(fieldsOf(ingressFrom({ ipBlock: { cidr: '10.0.0.0/8' }, podSelector: {} })), ['spec.network.ingress.0.from.0.ipBlock']);
  assert.equal(fieldsOf(ingressFrom({ podSelector: { matchExpressions: [{ key: 'a', operator: 'In' }] } })), [
    'spec.network.ingress.0.from.0.podSelector.matchExpressions.0.values',
  ]);
  assert.equal(fieldsOf(ingressFrom({ podSelector: { matchExpressions: [{ key: 'a', operator: 'Exists', values: ['x'] }] } })), [
    'spec.network.ingress.0.from.0.podSelector.matchExpressions.0.values',
  ]);
  assert.equal(fieldsOf(ingressFrom({ namespaceSelector: { matchLabels: { 'bad key!': 'x' } } })), [
    'spec.network.ingress.0.from.0.namespaceSelector.matchLabels',
  ]);
  assert.equal(fieldsOf(ingressFrom({ namespaceSelector: { matchLabels: { team: '-x' } } })), [
    'spec.network.ingress.0.from.0.namespaceSelector.matchLabels',
  ]);
  assert.equal(fieldsOf(ingressFrom({ podSelector: { matchExpressions: [{ key: 'Example.com/x', operator: 'Exists' }] } })), [
    'spec.network.ingress.0.from.0.podSelector.matchExpressions.0.key',
  ]);
  assert.equal(fieldsOf(ingressFrom({ podSelector: { matchLabels: { 'example.com/tier': 'web', app: '' } } })), [], 'valid selectors pass');
});

test('the older top-level spelling is named where it was written', () => {
  assert.equal(fieldsOf({ ingress: [{ ports: [{ port: 0 }] }] }), ['spec.ingress.0.ports.0.port']);
  assert.equal(fieldsOf({ egress: [{ to: [{ ipBlock: { cidr: 'x' } }] }] }), ['spec.egress.0.to.0.ipBlock.cidr']);
});

test('on a cluster node, an ingress rule that reaches 50052 is refused: only the cluster may', () => {
  const node = (ports: unknown[]) => ({ cluster: scheduler(), network: { ingress: [{ ports }] } });
  assert.equal(fieldsOf(node([{ port: 8090 }, { port: 50052 }])), ['spec.network.ingress.0.ports.1.port']);
  assert.match(
    problemsOf(node([{ port: 50000, endPort: 50100 }]))[0]!.message,
    /covers 50000-50100, which includes the internal cluster port 50052/,
  );
  assert.equal(fieldsOf(node([{ port: 'cluster' }])), ['spec.network.ingress.0.ports.0.port']);
  assert.equal(fieldsOf(node([{ protocol: 'TCP' }])), ['spec.network.ingress.0.ports.0.port'], 'every TCP port includes 50052');
  assert.equal(fieldsOf(node([{ protocol: 'UDP', port: 50052 }])), [], 'UDP 50052 is not the cluster port');
  assert.equal(fieldsOf({ network: { ingress: [{ ports: [{ port: 50052 }] }] } }), [], 'a plain set may open 50052');
  assert.equal(
    fieldsOf({ cluster: scheduler(), network: { egress: [{ ports: [{ port: 50052 }] }] } }),
    [],
    'egress to 50052 opens nothing on this node',
  );
  assert.equal(fieldsOf({ cluster: scheduler(), httpPort: 50052 }), ['spec.httpPort']);
});

test("the peer rule the docs tell users to write is accepted: peers that are only this cluster's pods may reach 50052", async () => {
  const rule = (from: unknown[], ports: unknown[] = [{ port: 50052 }]) => ({ from, ports });
  const pinned = (labels: Record<string, string> = {}) => ({ podSelector: { matchLabels: { 'spice.ai/cluster': 'q', ...labels } } });
  const node = (...ingress: unknown[]) => ({ cluster: executor(), network: { ingress } });
  assert.equal(fieldsOf(node(rule([pinned()]))), [], 'podSelector spice.ai/cluster=q');
  assert.equal(fieldsOf(node(rule([pinned({ 'spice.ai/cluster-role': 'scheduler' })]))), [], 'with more labels');
  assert.equal(
    fieldsOf(node(rule([{ podSelector: { matchExpressions: [{ key: 'spice.ai/cluster', operator: 'In', values: ['q'] }] } }]))),
    [],
    'as an In expression',
  );
  assert.equal(fieldsOf(node(rule([pinned()], [{ protocol: 'TCP' }]))), [], 'every TCP port, from the cluster only');
  assert.equal(fieldsOf(node(rule([pinned(), pinned({ 'spice.ai/cluster-role': 'executor' })], [{ port: 8090 }, { port: 50052 }]))), []);
  // Anyone else stays out, and the field is named.
  for (const from of [
    [{ podSelector: { matchLabels: { 'spice.ai/cluster': 'other' } } }],
    [pinned(), { namespaceSelector: { matchLabels: { team: 'x' } } }],
    [{ ...pinned(), namespaceSelector: {} }],
    [{ podSelector: {} }],
    [{ podSelector: { matchExpressions: [{ key: 'spice.ai/cluster', operator: 'In', values: ['q', 'r'] }] } }],
    [{ podSelector: { matchExpressions: [{ key: 'spice.ai/cluster', operator: 'NotIn', values: ['r'] }] } }],
  ]) {
    assert.equal(fieldsOf(node(rule(from))), ['spec.network.ingress.0.ports.0.port'], JSON.stringify(from));
  }
  assert.match(
    problemsOf(node(rule([{ podSelector: {} }])))[0]!.message,
    /or admit only the cluster's pods \(every peer podSelector: \{matchLabels: \{spice\.ai\/cluster: q\}\}, without namespaceSelector or ipBlock\)/,
  );
  // The rule reaches the policy as written, next to the operator's own.
  const p = await policyOf(node(rule([pinned()])), 'q-executor');
  assert.equal(p.spec.ingress, [{ from: [pinned()], ports: [{ port: 50052 }] }, peersIn('q')]);
  // On a SpicepodCluster the rule must pin the cluster's own name.
  const cluster = (name: string) => ({
    schedulerSetSpec: { replicas: 1, spicepod: schedulerSpicepod },
    executorSetSpec: { replicas: 1, network: { ingress: [rule([{ podSelector: { matchLabels: { 'spice.ai/cluster': name } } }])] } },
  });
  assert.ok(normalizeSpicepodClusterSpec(cluster('q'), 'q').ok);
  const other = normalizeSpicepodClusterSpec(cluster('r'), 'q');
  assert.not.ok(other.ok);
  if (!other.ok)
    assert.equal(
      other.problems.map((x) => x.field),
      ['spec.executorSetSpec.network.ingress.0.ports.0.port'],
    );
  const d = await reconcileSpicepodCluster({
    parent: {
      apiVersion: 'spice.ai/v1alpha1',
      kind: 'SpicepodCluster',
      metadata: { name: 'q', namespace: 'ns', uid: 'c', generation: 1 },
      spec: cluster('q'),
    },
    children: [],
    related: {},
    now,
    config,
  });
  assert.is(d.apply.length, 2, 'the cluster with the peer rule gets its child sets');
});

test('a SpicepodCluster names the role spec of the bad rule, and the cluster handler reports InvalidSpec', async () => {
  const raw = {
    schedulerSetSpec: { replicas: 1, spicepod: schedulerSpicepod, metricsPort: 50052 },
    executorSetSpec: {
      replicas: 1,
      network: { ingress: [{ ports: [{ port: 50052 }] }], egress: [{ to: [{ ipBlock: { cidr: '10.0.0.0/33' } }] }] },
    },
  };
  const r = normalizeSpicepodClusterSpec(raw);
  assert.not.ok(r.ok);
  if (r.ok) return;
  assert.equal(
    r.problems.map((p) => p.field),
    [
      'spec.schedulerSetSpec.metricsPort',
      'spec.executorSetSpec.network.ingress.0.ports.0.port',
      'spec.executorSetSpec.network.egress.0.to.0.ipBlock.cidr',
    ],
  );
  const d = await reconcileSpicepodCluster({
    parent: {
      apiVersion: 'spice.ai/v1alpha1',
      kind: 'SpicepodCluster',
      metadata: { name: 'q', namespace: 'ns', uid: 'c', generation: 1 },
      spec: raw,
    },
    children: [],
    related: {},
    now,
    config,
  });
  assert.equal(d.apply, []);
  const ready = (d.status!.conditions as any[]).find((c) => c.type === 'Ready');
  assert.is(ready.reason, 'InvalidSpec');
  assert.match(ready.message, /spec\.executorSetSpec\.network\.ingress\.0\.ports\.0\.port/);
});

test('an invalid spec: the workloads handler reports InvalidSpec naming the field; this handler keeps its policy as it is', async () => {
  const good = await reconcile(setObject({ network: { ingress: [fromMonitoring] } }));
  const policy = good.apply[0]!;
  const bad = setObject({ network: { ingress: [{ ports: [{ port: 99999 }] }] } }, 'app', 2);
  const d = await reconcile(bad, [policy]);
  assert.equal(d.apply, []);
  assert.equal(d.keep, [{ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', namespace: 'ns', name: 'app' }]);
  assert.is(d.status, undefined, 'the workloads handler owns Ready');
  const w = await reconcileSpicepodSet({ parent: bad, children: [], related: {}, now, config });
  const ready = (w.status!.conditions as any[]).find((c) => c.type === 'Ready');
  assert.equal([ready.status, ready.reason], ['False', 'InvalidSpec']);
  assert.match(ready.message, /spec\.network\.ingress\.0\.ports\.0\.port must be between 1 and 65535 \(got 99999\)/);
  assert.equal(
    w.events?.map((e) => e.reason),
    ['InvalidSpec'],
  );
});

// ---- CIDR parsing ------------------------------------------------------------

test('parseCidr: families, prefixes and containment', () => {
  const v4 = parseCidr('10.0.0.0/8');
  assert.ok(v4.ok && v4.cidr.family === 4 && v4.cidr.prefix === 8);
  const v6 = parseCidr('2001:db8::/32');
  assert.ok(v6.ok && v6.cidr.family === 6 && v6.cidr.prefix === 32);
  const inner = parseCidr('10.1.2.0/24');
  const other = parseCidr('11.0.0.0/24');
  assert.ok(v4.ok && inner.ok && other.ok && v6.ok);
  if (!(v4.ok && inner.ok && other.ok && v6.ok)) return;
  assert.ok(strictlyContains(v4.cidr, inner.cidr));
  assert.not.ok(strictlyContains(inner.cidr, v4.cidr));
  assert.not.ok(strictlyContains(v4.cidr, v4.cidr));
  assert.not.ok(strictlyContains(v4.cidr, other.cidr));
  assert.not.ok(strictlyContains(v6.cidr, inner.cidr));
  assert.not.ok(parseCidr(undefined).ok);
  assert.not.ok(parseCidr('10.0.0.0/8/8').ok);
  assert.not.ok(parseCidr(' 10.0.0.0/8').ok);
});

test.run();
