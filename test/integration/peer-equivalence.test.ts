// The controller-runtime peer (bench/peer, what bench/scale.ts measures ours against) writes the
// same objects as ours, so the comparison is fair: both operators run on the real control plane,
// each watching its own namespace, the benchmark's specs are applied in both, and once every set
// is settled (Ready, or Paused when scaled to zero) the children and the parents' status are
// compared as the API server stores them. Left out of the comparison, and why:
//  - what the API server assigns: uid, resourceVersion, creationTimestamp, generation,
//    managedFields (the field managers' names differ by design), the owner reference's uid (each
//    names its own parent), a Service's clusterIP(s) (allocated);
//  - the children's status: the controller-manager's and kwok's, not the operators';
//  - the annotation spice.ai/applied-hash: ours' shim records what it applied there to skip
//    no-op applies; the peer applies every time and lets the API server find nothing changed;
//  - the conditions' lastTransitionTime: when each operator saw the change.
// Everything else is compared: names, labels, annotations (the pod template's revision and
// Spicepod checksum included), owner references, every spec field, and the parents' status.
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parse, stringify } from 'yaml';
import { eventually, freshNamespace, kubectl, kubectlJson, kubectlOk, testKubeconfig } from '../harness/kube.ts';
import { startOperator, type OperatorProcess } from '../harness/operator.ts';

const OPERATOR_NS = 'spiceai-operator-system';
const root = new URL('../..', import.meta.url).pathname;
const full = parse(readFileSync(join(root, 'examples/spicepodset-full.yaml'), 'utf8'));
const spicepod = { version: 'v1', kind: 'Spicepod', name: 'app' };

/** The benchmark's shapes (bench/scale.ts --shape), and a ServiceAccount and a richer Spicepod. */
const SPECS: Record<string, Record<string, unknown>> = {
  paused: { spicepod, replicas: 0 },
  minimal: { spicepod },
  three: { spicepod, replicas: 3 },
  'three-parallel': { spicepod, replicas: 3, updateStrategy: { type: 'Parallel' } },
  accounted: {
    spicepod: full.spec.spicepod,
    serviceAccount: { enabled: true, create: true, annotations: { 'eks.amazonaws.com/role-arn': 'arn:aws:iam::123456789012:role/spice' } },
    annotations: { 'rollout-trigger': '2024-06-01T12:00:00Z' },
    labels: { team: 'data' },
    image: { tag: '1.9.0-models', pullSecret: 'pull' },
    httpPort: 8091,
  },
};
const KINDS = ['configmap', 'service', 'serviceaccount', 'role', 'rolebinding', 'deployment', 'statefulset'];

let oursNs = '';
let peerNs = '';
let ours: OperatorProcess | undefined;
let peer: ReturnType<typeof spawn> | undefined;
let peerLog = '';

function applySet(namespace: string, name: string, spec: Record<string, unknown>) {
  kubectlOk(
    ['apply', '--server-side', '-n', namespace, '-f', '-'],
    stringify({ apiVersion: 'spice.ai/v1', kind: 'SpicepodSet', metadata: { name }, spec }),
  );
}

/** An object as both operators should have written it: without what the API server or others set. */
function comparable(obj: any) {
  const {
    uid: _u,
    resourceVersion: _r,
    creationTimestamp: _c,
    generation: _g,
    managedFields: _m,
    namespace: _n,
    ...metadata
  } = obj.metadata;
  if (metadata.annotations) {
    delete metadata.annotations['spice.ai/applied-hash'];
    if (!Object.keys(metadata.annotations).length) delete metadata.annotations;
  }
  metadata.ownerReferences = metadata.ownerReferences?.map(({ uid: _uid, ...ref }: any) => ref);
  const { status: _s, ...rest } = obj;
  const copy = structuredClone({ ...rest, metadata });
  if (copy.kind === 'Service') {
    if (copy.spec.clusterIP !== 'None') delete copy.spec.clusterIP;
    if (copy.spec.clusterIPs?.[0] !== 'None') delete copy.spec.clusterIPs;
  }
  return copy;
}

/** The set's children, each operator's namespace written as NAMESPACE (a RoleBinding's subject names it). */
function children(namespace: string, set: string): Map<string, any> {
  const out = new Map<string, any>();
  for (const kind of KINDS) {
    for (const o of kubectlJson(['get', kind, '-n', namespace, '-l', `spice.ai/app=${set}`]).items) {
      if (!o.metadata.ownerReferences?.some((r: any) => r.kind === 'SpicepodSet' && r.name === set)) continue;
      out.set(`${o.kind}/${o.metadata.name}`, JSON.parse(JSON.stringify(comparable(o)).replaceAll(`"${namespace}"`, '"NAMESPACE"')));
    }
  }
  return out;
}

function parentStatus(namespace: string, set: string) {
  const status = structuredClone(kubectlJson(['get', 'spicepodset', set, '-n', namespace]).status ?? {});
  for (const c of status.conditions ?? []) delete c.lastTransitionTime;
  // A time both write on their own clocks: compared as present or not.
  if (status.lastUpdated !== undefined)
    status.lastUpdated =
      typeof status.lastUpdated === 'string' && !Number.isNaN(Date.parse(status.lastUpdated)) ? 'a time' : status.lastUpdated;
  return status;
}

/** Settled: the status is for this generation and Ready (Paused when scaled to zero). */
function settled(namespace: string, name: string, spec: Record<string, unknown>) {
  const set = kubectlJson(['get', 'spicepodset', name, '-n', namespace]);
  const ready = set.status?.conditions?.find((c: any) => c.type === 'Ready');
  const want = spec.replicas === 0 ? { status: 'False', reason: 'Paused' } : { status: 'True', reason: 'AllReplicasReady' };
  return set.status?.observedGeneration === set.metadata.generation && ready?.status === want.status && ready?.reason === want.reason;
}

test.before(async () => {
  kubectlOk(['apply', '--server-side', '-f', '-'], readFileSync(join(root, 'crds/spicepodsets.spice.ai.yaml'), 'utf8'));
  kubectl(['create', 'namespace', OPERATOR_NS]);
  oursNs = freshNamespace('eq-ours');
  peerNs = freshNamespace('eq-peer');
  const bin = execFileSync('bash', [join(root, 'bench/peer/build.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] })
    .trim()
    .split('\n')
    .pop()!;
  peer = spawn(
    join(bin, 'spicepodset-peer'),
    [
      '--namespaces',
      peerNs,
      '--leader-election-namespace',
      OPERATOR_NS,
      '--max-concurrent-reconciles',
      '4',
      '--health-probe-bind-address',
      '127.0.0.1:0',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, KUBECONFIG: testKubeconfig() } },
  );
  peer.stderr!.on('data', (d) => (peerLog = (peerLog + d).slice(-20_000)));
  ours = await startOperator(['--namespaces', oursNs, '--handlers', 'workloads', '--operator-namespace', OPERATOR_NS]);
  await eventually('the peer to start its workers', () => peerLog.includes('"msg":"Starting workers"'), 60_000);
});

test.after(async () => {
  peer?.kill('SIGTERM');
  await ours?.stop();
});

test('for the benchmark specs, the peer writes the same children and the same status as ours', async () => {
  for (const [name, spec] of Object.entries(SPECS)) {
    applySet(oursNs, name, spec);
    applySet(peerNs, name, spec);
  }
  for (const [name, spec] of Object.entries(SPECS)) {
    await eventually(
      `${name} settled under both operators`,
      () => settled(oursNs, name, spec) && settled(peerNs, name, spec),
      120_000,
      500,
    );
  }
  for (const name of Object.keys(SPECS)) {
    const mine = children(oursNs, name);
    const theirs = children(peerNs, name);
    assert.equal([...theirs.keys()].sort(), [...mine.keys()].sort(), `${name}: the same children`);
    assert.ok(mine.size >= 3, `${name}: children found`);
    for (const [key, obj] of mine) assert.equal(theirs.get(key), obj, `${name}: ${key}`);
    assert.equal(parentStatus(peerNs, name), parentStatus(oursNs, name), `${name}: status`);
  }
});

test('after a Spicepod change both roll the 3-replica set to the same new revision', async () => {
  const spec = { ...SPECS.three!, spicepod: { ...spicepod, datasets: [{ from: 'spice.ai:path', name: 'a' }] } };
  const revision = (ns: string) =>
    kubectlJson(['get', 'statefulset', 'three-2', '-n', ns]).spec.template.metadata.annotations['spice.ai/revision'];
  const before = revision(oursNs);
  applySet(oursNs, 'three', spec);
  applySet(peerNs, 'three', spec);
  const rolled = (ns: string) => {
    const set = kubectlJson(['get', 'spicepodset', 'three', '-n', ns]);
    return (
      settled(ns, 'three', spec) &&
      set.status.conditions.find((c: any) => c.type === 'Progressing')?.message !== `revision ${before} is rolled out`
    );
  };
  await eventually('three rolled under both', () => rolled(oursNs) && rolled(peerNs), 180_000, 500).catch((error) => {
    throw new Error(
      `${error.message}\nours: ${JSON.stringify(parentStatus(oursNs, 'three'))}\npeer: ${JSON.stringify(parentStatus(peerNs, 'three'))}\npeer log: ${peerLog.slice(-3000)}`,
    );
  });
  const mine = children(oursNs, 'three');
  const theirs = children(peerNs, 'three');
  assert.is.not(revision(oursNs), before);
  for (const [key, obj] of mine) assert.equal(theirs.get(key), obj, `three: ${key}`);
  assert.equal(parentStatus(peerNs, 'three'), parentStatus(oursNs, 'three'));
});

test.run();
