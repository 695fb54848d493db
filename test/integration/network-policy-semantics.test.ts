// What the operator's NetworkPolicies mean, judged by an evaluator nobody here
// wrote: cyclonus's policy engine (test/harness/netpol.ts). The policies are
// the ones the operator created on the real control plane, read back from the
// API server; the pods are the real pods (kwok runs them, with IPs, labels and
// container ports), plus a few stand-ins the test cluster has no use for
// running: a kube-dns pod, an operator pod, and hosts outside the cluster.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { stringify } from 'yaml';
import { applyShippedCrds, eventually, freshNamespace, kubectl, kubectlJson, kubectlOk } from '../harness/kube.ts';
import { evaluate, netpolEvaluator, type ModelPod, type Query, type Verdict } from '../harness/netpol.ts';
import { startOperator, type OperatorProcess } from '../harness/operator.ts';

const OPERATOR_NS = 'spiceai-operator-system';
const spicepod = { version: 'v1', kind: 'Spicepod', name: 'app' };
const schedulerSpicepod = {
  version: 'v1',
  kind: 'Spicepod',
  name: 'app',
  runtime: { scheduler: { state_location: 'file:///tmp/spice-cluster' } },
};
let ns = '';
let monitoring = '';
let operator: OperatorProcess | undefined;

const apply = (namespace: string, object: Record<string, unknown>) =>
  kubectlOk(['apply', '--server-side', '--field-manager', 'np-test', '-n', namespace, '-f', '-'], stringify(object));
const fromMonitoring = () => ({
  from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': monitoring } } }],
  ports: [{ port: 8090 }],
});
const plainPod = (name: string, labels: Record<string, string>) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, labels },
  spec: { containers: [{ name: 'main', image: 'registry.k8s.io/pause:3.10', ports: [{ name: 'web', containerPort: 8080 }] }] },
});

// The stand-ins: labels as real clusters have them.
const KUBE_DNS: ModelPod = {
  id: 'kube-dns',
  namespace: 'kube-system',
  labels: { 'k8s-app': 'kube-dns' },
  ip: '10.244.200.10',
  ports: [
    { name: 'dns', containerPort: 53, protocol: 'UDP' },
    { name: 'dns-tcp', containerPort: 53, protocol: 'TCP' },
  ],
};
// The operator's pod carries the label --operator-pod-labels names (the default, the chart's); another pod of its namespace does not.
const OPERATOR_POD: ModelPod = {
  id: 'operator',
  namespace: OPERATOR_NS,
  labels: { 'app.kubernetes.io/name': 'spiceai-operator' },
  ip: '10.244.200.20',
};
const OPERATOR_NEIGHBOUR: ModelPod = {
  id: 'operator-neighbour',
  namespace: OPERATOR_NS,
  labels: { app: 'something-else' },
  ip: '10.244.200.21',
};
const EXTERNAL: ModelPod[] = [
  { id: 'internet', ip: '8.8.8.8' },
  { id: 'database', ip: '10.20.3.4' },
  { id: 'excluded-database', ip: '10.20.1.5' },
];

let pods: ModelPod[] = [];
let policies: any[] = [];
let namespaces: Record<string, Record<string, string>> = {};

test.before(async () => {
  // Built before anything else, so a first build (minutes) does not eat into the waits below.
  netpolEvaluator();
  applyShippedCrds();
  kubectl(['create', 'namespace', OPERATOR_NS]);
  ns = freshNamespace('nps');
  monitoring = freshNamespace('npm');
  operator = await startOperator([
    '--namespaces',
    ns,
    '--handlers',
    'workloads,cluster,network-policy',
    '--operator-namespace',
    OPERATOR_NS,
  ]);

  // qa restricts: scheduler ingress from the monitoring namespace on 8090 and no egress but what it needs;
  // executor egress to a database range. qb restricts nothing. web is a plain set with both restricted.
  apply(ns, {
    apiVersion: 'spice.ai/v1alpha1',
    kind: 'SpicepodCluster',
    metadata: { name: 'qa' },
    spec: {
      schedulerSetSpec: { replicas: 1, spicepod: schedulerSpicepod, network: { ingress: [fromMonitoring()], egress: [] } },
      executorSetSpec: {
        replicas: 2,
        network: { egress: [{ to: [{ ipBlock: { cidr: '10.20.0.0/16', except: ['10.20.1.0/24'] } }], ports: [{ port: 5432 }] }] },
      },
    },
  });
  apply(ns, {
    apiVersion: 'spice.ai/v1alpha1',
    kind: 'SpicepodCluster',
    metadata: { name: 'qb' },
    spec: { schedulerSetSpec: { replicas: 1, spicepod: schedulerSpicepod }, executorSetSpec: { replicas: 1 } },
  });
  // qc writes the peer rule the product's docs tell users to write (its own pods, here on 50052 and Flight),
  // next to a rule for the monitoring namespace.
  const qcPeers = { from: [{ podSelector: { matchLabels: { 'spice.ai/cluster': 'qc' } } }], ports: [{ port: 50052 }, { port: 50051 }] };
  apply(ns, {
    apiVersion: 'spice.ai/v1alpha1',
    kind: 'SpicepodCluster',
    metadata: { name: 'qc' },
    spec: {
      schedulerSetSpec: { replicas: 1, spicepod: schedulerSpicepod, network: { ingress: [qcPeers, fromMonitoring()] } },
      executorSetSpec: { replicas: 1, network: { ingress: [qcPeers] } },
    },
  });
  // qd moves its internal port to 6000 on both roles (cluster.bindAddress).
  const port6000 = { bindAddress: '0.0.0.0:6000' };
  apply(ns, {
    apiVersion: 'spice.ai/v1alpha1',
    kind: 'SpicepodCluster',
    metadata: { name: 'qd' },
    spec: {
      schedulerSetSpec: { replicas: 1, spicepod: schedulerSpicepod, cluster: port6000 },
      executorSetSpec: { replicas: 1, cluster: port6000, network: { egress: [] } },
    },
  });
  apply(ns, {
    apiVersion: 'spice.ai/v1',
    kind: 'SpicepodSet',
    metadata: { name: 'web' },
    spec: { spicepod, network: { ingress: [fromMonitoring()], egress: [] } },
  });
  apply(ns, plainPod('plain', { app: 'plain' }));
  apply(monitoring, plainPod('prom', { app: 'prometheus' }));

  const expectedPods = [
    'qa-scheduler-0-0',
    'qa-executor-0-0',
    'qa-executor-1-0',
    'qb-scheduler-0-0',
    'qb-executor-0-0',
    'qc-scheduler-0-0',
    'qc-executor-0-0',
    'qd-scheduler-0-0',
    'qd-executor-0-0',
    'plain',
  ];
  await eventually(
    'the pods to run with IPs',
    () => {
      const running = kubectlJson(['get', 'pods', '-n', ns]).items.filter((p: any) => p.status?.phase === 'Running' && p.status.podIP);
      const names = running.map((p: any) => p.metadata.name);
      return expectedPods.every((n) => names.includes(n)) && running.some((p: any) => p.metadata.labels?.['spice.ai/app'] === 'web');
    },
    180_000,
    1000,
  );
  await eventually('prom to run', () => kubectlJson(['get', 'pod', 'prom', '-n', monitoring]).status?.podIP);
  await eventually(
    'the nine policies',
    () => {
      const names = kubectlJson(['get', 'networkpolicies', '-n', ns]).items.map((p: any) => p.metadata.name);
      return [
        'qa-scheduler',
        'qa-executor',
        'qb-scheduler',
        'qb-executor',
        'qc-scheduler',
        'qc-executor',
        'qd-scheduler',
        'qd-executor',
        'web',
      ].every((n) => names.includes(n));
    },
    120_000,
    500,
  );

  // The model: everything as the API server has it.
  policies = kubectlJson(['get', 'networkpolicies', '--all-namespaces']).items;
  namespaces = Object.fromEntries(kubectlJson(['get', 'namespaces']).items.map((n: any) => [n.metadata.name, n.metadata.labels ?? {}]));
  const real = [...kubectlJson(['get', 'pods', '-n', ns]).items, ...kubectlJson(['get', 'pods', '-n', monitoring]).items].filter(
    (p: any) => p.status?.podIP,
  );
  pods = [
    ...real.map(
      (p: any): ModelPod => ({
        // The Deployment's pod has a generated name; it is "web" here.
        id: p.metadata.labels?.['spice.ai/app'] === 'web' ? 'web' : p.metadata.name,
        namespace: p.metadata.namespace,
        labels: p.metadata.labels ?? {},
        ip: p.status.podIP,
        ports: p.spec.containers
          .flatMap((c: any) => c.ports ?? [])
          .map((cp: any) => ({ name: cp.name, containerPort: cp.containerPort, protocol: cp.protocol })),
      }),
    ),
    KUBE_DNS,
    OPERATOR_POD,
    OPERATOR_NEIGHBOUR,
    ...EXTERNAL,
  ];
});

type Case = [from: string, to: string, port: number, protocol: 'TCP' | 'UDP', allowed: boolean, why: string];

function check(cases: Case[]) {
  const queries: Query[] = cases.map(([from, to, port, protocol]) => ({ from, to, port, protocol }));
  const { engine, results } = evaluate({ policies, namespaces, pods, queries });
  assert.match(engine, /^github\.com\/mattfenwick\/cyclonus@v/);
  const wrong = results
    .map((r: Verdict, i) => ({ r, c: cases[i]! }))
    .filter(({ r, c }) => r.allowed !== c[4])
    .map(
      ({ r, c }) =>
        `${c[0]} -> ${c[1]} ${c[3]}/${c[2]}: ${r.allowed ? 'allowed' : 'denied'} (ingress ${r.ingress}, egress ${r.egress}), expected ${c[4] ? 'allowed' : 'denied'}: ${c[5]}`,
    );
  assert.equal(wrong, []);
}

test('the evaluator is live: with no policies everything is allowed', () => {
  const { results } = evaluate({
    policies: [],
    namespaces,
    pods,
    queries: [
      { from: 'plain', to: 'qa-scheduler-0-0', port: 50052, protocol: 'TCP' },
      { from: 'qa-executor-0-0', to: 'internet', port: 443, protocol: 'TCP' },
    ],
  });
  assert.equal(
    results.map((r) => r.allowed),
    [true, true],
  );
});

test('port 50052: cluster peers reach each other; another cluster, a plain pod and another namespace do not', () => {
  check([
    ['qa-executor-0-0', 'qa-scheduler-0-0', 50052, 'TCP', true, 'executor to its scheduler'],
    ['qa-scheduler-0-0', 'qa-executor-1-0', 50052, 'TCP', true, 'scheduler to an executor of its cluster'],
    ['qa-executor-0-0', 'qa-executor-1-0', 50052, 'TCP', true, 'executors of one cluster'],
    ['qb-executor-0-0', 'qb-scheduler-0-0', 50052, 'TCP', true, 'peers of a cluster without network rules'],
    ['qb-scheduler-0-0', 'qa-scheduler-0-0', 50052, 'TCP', false, 'a pod of another cluster'],
    ['qb-executor-0-0', 'qa-executor-0-0', 50052, 'TCP', false, 'a pod of another cluster'],
    ['qa-executor-0-0', 'qb-scheduler-0-0', 50052, 'TCP', false, 'into another cluster'],
    ['plain', 'qa-scheduler-0-0', 50052, 'TCP', false, 'a plain pod of the namespace'],
    ['plain', 'qb-scheduler-0-0', 50052, 'TCP', false, 'a plain pod, to a cluster that restricts nothing else'],
    ['plain', 'qb-executor-0-0', 50052, 'TCP', false, 'a plain pod, to a cluster that restricts nothing else'],
    ['web', 'qa-scheduler-0-0', 50052, 'TCP', false, 'a plain SpicepodSet'],
    ['prom', 'qa-scheduler-0-0', 50052, 'TCP', false, 'a pod of the namespace the user rule allows (on 8090 only)'],
    ['operator', 'qa-scheduler-0-0', 50052, 'TCP', false, 'the operator namespace (HTTP only)'],
  ]);
});

test("DNS works wherever egress is restricted; the rest of egress follows the user's rules", () => {
  check([
    ['qa-scheduler-0-0', 'kube-dns', 53, 'UDP', true, 'DNS over UDP, egress: []'],
    ['qa-scheduler-0-0', 'kube-dns', 53, 'TCP', true, 'DNS over TCP, egress: []'],
    ['qa-executor-1-0', 'kube-dns', 53, 'UDP', true, 'DNS over UDP, egress restricted to a database'],
    ['qa-executor-1-0', 'kube-dns', 53, 'TCP', true, 'DNS over TCP, egress restricted to a database'],
    ['web', 'kube-dns', 53, 'UDP', true, 'DNS from a plain set'],
    ['web', 'kube-dns', 53, 'TCP', true, 'DNS from a plain set'],
    ['qb-scheduler-0-0', 'kube-dns', 53, 'UDP', true, 'egress not restricted'],
    ['qa-executor-0-0', 'database', 5432, 'TCP', true, "the user's egress rule"],
    ['qa-executor-0-0', 'excluded-database', 5432, 'TCP', false, "inside the rule's except"],
    ['qa-executor-0-0', 'database', 5433, 'TCP', false, 'a port the rule does not list'],
    ['qa-executor-0-0', 'internet', 443, 'TCP', false, 'egress restricted'],
    ['web', 'internet', 443, 'TCP', false, 'egress: []'],
    ['qa-scheduler-0-0', 'qb-scheduler-0-0', 8090, 'TCP', false, 'egress: [] allows only DNS and the cluster peers'],
    ['qa-scheduler-0-0', 'kube-dns', 8080, 'TCP', false, 'the DNS rule is for port 53 only'],
    ['qb-executor-0-0', 'internet', 443, 'TCP', true, 'a cluster without egress rules keeps its egress'],
  ]);
});

test("ingress: the user's rule for 8090 from a namespace is honoured, the operator may probe HTTP, public ports stay open without rules", () => {
  check([
    ['prom', 'qa-scheduler-0-0', 8090, 'TCP', true, 'the user rule: 8090 from the monitoring namespace'],
    ['prom', 'qa-scheduler-0-0', 9090, 'TCP', false, 'the user rule lists 8090 only'],
    ['plain', 'qa-scheduler-0-0', 8090, 'TCP', false, 'not in the monitoring namespace'],
    ['operator', 'qa-scheduler-0-0', 8090, 'TCP', true, 'the status API probes spiced'],
    ['operator', 'qa-scheduler-0-0', 9090, 'TCP', false, 'the operator rule is for HTTP only'],
    ['operator-neighbour', 'qa-scheduler-0-0', 8090, 'TCP', false, 'another pod of the operator namespace is not the operator'],
    ['operator-neighbour', 'web', 8090, 'TCP', false, 'another pod of the operator namespace is not the operator'],
    ['prom', 'web', 8090, 'TCP', true, 'the user rule on a plain set'],
    ['plain', 'web', 8090, 'TCP', false, 'a plain set with ingress rules'],
    ['operator', 'web', 8090, 'TCP', true, 'the status API probes a plain set'],
    ['plain', 'qb-scheduler-0-0', 8090, 'TCP', true, 'no ingress rules: the public ports are open'],
    ['plain', 'qb-executor-0-0', 50051, 'TCP', true, 'no ingress rules: Flight is open'],
    ['plain', 'qa-executor-0-0', 9090, 'TCP', true, 'qa executors have no ingress rules: metrics open'],
    ['plain', 'qb-scheduler-0-0', 12345, 'TCP', false, 'a port spiced does not serve is not opened'],
  ]);
});

test("the peer rule users are told to write admits the cluster's own pods, on 50052 and what else it lists; everyone else stays out", () => {
  check([
    ['qc-executor-0-0', 'qc-scheduler-0-0', 50052, 'TCP', true, 'executor to its scheduler'],
    ['qc-scheduler-0-0', 'qc-executor-0-0', 50052, 'TCP', true, 'scheduler to its executor'],
    ['qc-executor-0-0', 'qc-scheduler-0-0', 50051, 'TCP', true, 'the peer rule lists Flight too'],
    ['prom', 'qc-scheduler-0-0', 8090, 'TCP', true, 'the monitoring rule next to it'],
    ['prom', 'qc-scheduler-0-0', 50052, 'TCP', false, 'the monitoring namespace is not the cluster'],
    ['plain', 'qc-scheduler-0-0', 50052, 'TCP', false, 'a plain pod of the namespace'],
    ['plain', 'qc-executor-0-0', 50052, 'TCP', false, 'a plain pod of the namespace'],
    ['qa-executor-0-0', 'qc-scheduler-0-0', 50052, 'TCP', false, 'a pod of another cluster'],
    ['qa-scheduler-0-0', 'qc-executor-0-0', 50051, 'TCP', false, "the peer rule admits only qc's pods"],
    ['operator', 'qc-scheduler-0-0', 50052, 'TCP', false, 'the operator probes HTTP only'],
    ['operator', 'qc-scheduler-0-0', 8090, 'TCP', true, 'the status API probes spiced'],
    ['operator-neighbour', 'qc-scheduler-0-0', 8090, 'TCP', false, "only the operator's own pods"],
  ]);
});

test('a cluster whose bindAddress moves the internal port: peers reach each other on it, nobody else does, and 50052 is no longer opened', () => {
  check([
    ['qd-executor-0-0', 'qd-scheduler-0-0', 6000, 'TCP', true, 'executor to its scheduler on the bind port'],
    ['qd-scheduler-0-0', 'qd-executor-0-0', 6000, 'TCP', true, 'scheduler to its executor on the bind port'],
    ['plain', 'qd-scheduler-0-0', 6000, 'TCP', false, 'a plain pod'],
    ['qa-executor-0-0', 'qd-scheduler-0-0', 6000, 'TCP', false, 'a pod of another cluster'],
    ['qd-executor-0-0', 'qd-scheduler-0-0', 50052, 'TCP', false, 'the old port is not the cluster port any more'],
    ['qd-executor-0-0', 'kube-dns', 53, 'UDP', true, 'DNS with egress restricted'],
    ['qd-executor-0-0', 'qa-scheduler-0-0', 6000, 'TCP', false, 'egress to peers only, on the bind port'],
  ]);
});

test.after(async () => {
  await operator?.stop();
  for (const n of [ns, monitoring]) if (n) kubectl(['delete', 'namespace', n, '--wait=false']);
});

test.run();
