// Handlers served as hooks, on the real control plane. Every handler hooked
// (workloads, cluster and pki on `spiceai-operator serve` over mutual TLS,
// network-policy on `deno serve`) converges the examples to exactly the
// objects the in-process operator makes: each one taking over what the other
// built writes nothing. A failing hook (500, garbage, past its deadline,
// killed) applies and deletes nothing, the parent's condition names the hook,
// and the set converges once the hook is back. Two processes with different
// --handlers both lead their own handlers and write only their own objects.
import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parse, stringify } from 'yaml';
import { applyShippedCrds, auditWrites, eventually, freshNamespace, kubectl, kubectlJson, kubectlOk } from '../harness/kube.ts';
import { startOperator, type OperatorProcess } from '../harness/operator.ts';
import { FaultProxyProcess } from '../hooks/fault-proxy.ts';
import { startDenoHook, startNodeHook, type HookServer } from '../hooks/servers.ts';
import { hookClientArgs, hookTlsFiles, type HookTlsFiles } from '../hooks/tls-files.ts';

const OPERATOR_NS = 'spiceai-operator-system';
const LEASE = `hooks-test-${Math.random().toString(36).slice(2, 7)}`;
const ALL = 'workloads,cluster,network-policy,pki';
let ns = '';
let tls: HookTlsFiles;
const servers: HookServer[] = [];
let proxy: FaultProxyProcess;
let hookArgs: string[] = [];
const running: OperatorProcess[] = [];

const start = async (args: string[]) => {
  const op = await startOperator([
    '--namespaces',
    ns,
    '--operator-namespace',
    OPERATOR_NS,
    '--lease-name',
    LEASE,
    '--secret-propagation-seconds',
    '0',
    ...args,
  ]);
  running.push(op);
  return op;
};
const stop = async (op: OperatorProcess) => {
  assert.is(await op.stop(), 0);
  running.splice(running.indexOf(op), 1);
};
const agentOf = (op: OperatorProcess) => (e: { userAgent?: string }) =>
  !!e.userAgent?.startsWith('spiceai-operator (') && e.userAgent.includes(`-${op.child.pid})`);
/** Writes to the cluster's state (not the Lease, not Events) by one operator since a time. */
const writesBy = (op: OperatorProcess, since: number) =>
  auditWrites(since, (e) => agentOf(op)(e) && e.objectRef?.resource !== 'leases' && e.objectRef?.resource !== 'events');

/** The examples, in our namespace, their names prefixed (set 1: none; set 2: "hk-"). */
function examples(prefix: string): string {
  const docs: string[] = [];
  for (const file of ['spicepodset-minimal.yaml', 'spicepodset-full.yaml', 'spicepodcluster.yaml']) {
    const obj = parse(readFileSync(new URL(`../../examples/${file}`, import.meta.url), 'utf8'));
    obj.metadata = { name: `${prefix}${obj.metadata.name}`, namespace: ns };
    docs.push(stringify(obj));
  }
  // With network rules, so network-policy has something to write.
  docs.push(
    stringify({
      apiVersion: 'spice.ai/v1',
      kind: 'SpicepodSet',
      metadata: { name: `${prefix}web`, namespace: ns },
      spec: {
        spicepod: { version: 'v1', kind: 'Spicepod', name: 'web' },
        network: { ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: 'a' } } }], ports: [{ port: 8090 }] }] },
      },
    }),
  );
  return docs.join('---\n');
}
const PARENTS = (prefix: string) => [
  `${prefix}my-spicepod`,
  `${prefix}taxi`,
  `${prefix}web`,
  `${prefix}my-cluster-scheduler`,
  `${prefix}my-cluster-executor`,
];

async function reconcileCount(op: OperatorProcess, controller: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${op.metricsPort}/metrics`)).text();
  let n = 0;
  for (const line of text.split('\n'))
    if (line.startsWith('spiceai_operator_reconcile_total{') && line.includes(`controller="${controller}"`))
      n += Number(line.split(' ').pop());
  return n;
}

/** controller_runtime_max_concurrent_reconciles of one controller: its workers. */
async function workersOf(op: OperatorProcess, controller: string): Promise<number | undefined> {
  const text = await (await fetch(`http://127.0.0.1:${op.metricsPort}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`controller_runtime_max_concurrent_reconciles{controller="${controller}"}`));
  return line === undefined ? undefined : Number(line.split(' ').pop());
}

/** Every parent current (observedGeneration) and then no writes by the operator for 4 s. */
async function converged(op: OperatorProcess, prefix: string) {
  await eventually(
    `${prefix || 'set 1'} parents reconciled`,
    () => {
      const sets = kubectlJson(['get', 'spicepodsets', '-n', ns]).items.filter((s: any) => PARENTS(prefix).includes(s.metadata.name));
      const clusters = kubectlJson(['get', 'spicepodclusters', '-n', ns]).items.filter(
        (s: any) => s.metadata.name === `${prefix}my-cluster`,
      );
      return (
        sets.length === 5 &&
        clusters.length === 1 &&
        [...sets, ...clusters].every((o: any) => o.status?.observedGeneration === o.metadata.generation)
      );
    },
    180_000,
    1000,
  );
  await eventually('no writes for 4 s', () => writesBy(op, Date.now() - 4000).length === 0 || undefined, 180_000, 1000);
}

/**
 * What an operator taking over must leave as it is: every object the operator manages (by its
 * resourceVersion: not one rewritten) and every parent's status (but the hook conditions a hook
 * that was slow to answer its first calls may set and then clear).
 */
function state(): { objects: Record<string, string>; statuses: Record<string, unknown> } {
  const objects: Record<string, string> = {};
  // spicepodsets at v1, the version they are stored in (harness/kube.ts pins a lone `spicepodsets`, not one in a list):
  // nobody serves the conversion webhook here.
  const items = kubectlJson([
    'get',
    'deployments,statefulsets,services,configmaps,serviceaccounts,roles,rolebindings,networkpolicies,secrets,spicepodsets.v1.spice.ai',
    '-n',
    ns,
    '-l',
    'app.kubernetes.io/managed-by=spiceai-operator',
  ]).items;
  for (const o of items) objects[`${o.kind}/${o.metadata.name}`] = o.metadata.resourceVersion;
  const statuses: Record<string, unknown> = {};
  for (const o of [...kubectlJson(['get', 'spicepodsets', '-n', ns]).items, ...kubectlJson(['get', 'spicepodclusters', '-n', ns]).items]) {
    const status = { ...o.status, conditions: (o.status?.conditions ?? []).filter((c: any) => !c.type.endsWith('HookReady')) };
    statuses[`${o.kind}/${o.metadata.name}`] = status;
  }
  return { objects, statuses };
}
const noHookConditions = () =>
  [...kubectlJson(['get', 'spicepodsets', '-n', ns]).items, ...kubectlJson(['get', 'spicepodclusters', '-n', ns]).items].every(
    (o: any) => !(o.status?.conditions ?? []).some((c: any) => c.type.endsWith('HookReady')),
  ) || undefined;

/** Waits until the operator has reconciled every parent of each handler at least once since it started. */
async function reconciledEverything(op: OperatorProcess) {
  const sets = kubectlJson(['get', 'spicepodsets', '-n', ns]).items.length;
  const clusters = kubectlJson(['get', 'spicepodclusters', '-n', ns]).items.length;
  for (const [c, n] of [
    ['workloads', sets],
    ['network-policy', sets],
    ['cluster', clusters],
    ['pki', clusters],
  ] as const) {
    await eventually(`${c} to reconcile ${n} parents`, async () => (await reconcileCount(op, c)) >= n || undefined, 120_000, 500);
  }
  await new Promise((r) => setTimeout(r, 3000)); // writes of the last reconciles reach the audit log
}

test.before(async () => {
  applyShippedCrds();
  kubectl(['create', 'namespace', OPERATOR_NS]);
  ns = freshNamespace('hooks');
  tls = await hookTlsFiles();
  const mtls = ['--tls-cert', tls.serverCert, '--tls-key', tls.serverKey, '--client-ca', tls.caCert];
  const started = await Promise.allSettled([
    startNodeHook('workloads', mtls),
    startNodeHook('cluster', mtls),
    startNodeHook('pki', mtls),
    startDenoHook('network-policy'),
  ]);
  for (const s of started) if (s.status === 'fulfilled') servers.push(s.value);
  const failed = started.find((s) => s.status === 'rejected');
  if (failed) {
    console.error('a hook server did not start:', (failed as PromiseRejectedResult).reason);
    throw (failed as PromiseRejectedResult).reason;
  }
  const [workloads, cluster, pki, netpol] = servers as [HookServer, HookServer, HookServer, HookServer];
  proxy = new FaultProxyProcess({ url: workloads.url, ca: tls.pem.ca, cert: tls.pem.clientCert, key: tls.pem.clientKey }, 30_000);
  await proxy.start();
  hookArgs = [
    '--handler-url',
    `workloads=${proxy.url}`,
    '--handler-url',
    `cluster=${cluster.url}`,
    '--handler-url',
    `pki=${pki.url}`,
    '--handler-url',
    `network-policy=${netpol.url}`,
    // The 'sleep' fault sleeps past the deadline these set.
    ...hookClientArgs(tls),
  ];
});

test.after(async () => {
  for (const op of [...running]) await op.kill();
  await proxy?.stop();
  await Promise.all(servers.map((s) => s.stop()));
  if (ns) kubectl(['delete', 'namespace', ns, '--wait=false']);
});

let inProcess: OperatorProcess;
let hooked: OperatorProcess;

test('in-process, then all hooked: the hooked operator finds nothing to change in what in-process built, and builds the same anew', async () => {
  inProcess = await start(['--handlers', ALL]);
  kubectlOk(['apply', '--server-side', '--field-manager', 'hooks-test', '-f', '-'], examples(''));
  await converged(inProcess, '');
  const inProcessWorkers = await workersOf(inProcess, 'workloads');
  await stop(inProcess);
  const built = state();
  assert.ok(Object.keys(built.objects).length >= 20, Object.keys(built.objects).join());

  hooked = await start(['--handlers', ALL, ...hookArgs]);
  const since = Date.now();
  await reconciledEverything(hooked);
  await eventually('no hook condition left', noHookConditions, 120_000, 1000);
  const after = state();
  const rewrites = writesBy(hooked, since)
    .filter((e) => !(e.verb === 'patch' && e.objectRef?.subresource === 'status'))
    .map((e) => `${e.verb} ${e.objectRef?.resource}/${e.objectRef?.name}`);
  const failures = JSON.stringify(hooked.logs.filter((l) => l.msg === 'reconcile failed').slice(0, 3));
  const calls = await proxy.calls();
  const hookedWorkers = await workersOf(hooked, 'workloads');

  // What the hooks build anew (checked after, so a difference above does not stop the scenarios below).
  kubectlOk(['apply', '--server-side', '--field-manager', 'hooks-test', '-f', '-'], examples('hk-'));
  await converged(hooked, 'hk-');
  const made = writesBy(hooked, since);

  assert.ok(calls > 0, 'the workloads hook was called');
  // A hooked reconcile mostly waits for its hook: --handler-workers (16), not --workers (4).
  assert.equal([inProcessWorkers, hookedWorkers], [4, 16], 'workers of the workloads controller, in process and hooked');
  assert.equal(rewrites, [], `the hooked operator rewrites nothing in-process built; failed calls: ${failures}`);
  const mine = (s: ReturnType<typeof state>) => ({
    objects: Object.fromEntries(Object.entries(s.objects).filter(([k]) => !k.includes('/hk-') && !k.includes('/two'))),
    statuses: Object.fromEntries(Object.entries(s.statuses).filter(([k]) => !k.includes('/hk-') && !k.includes('/two'))),
  });
  assert.equal(mine(after), mine(built), `the hooked operator changes nothing in-process built; failed calls: ${failures}`);
  for (const kind of ['deployments', 'networkpolicies', 'spicepodsets', 'secrets', 'services']) {
    assert.ok(
      made.some((e) => e.objectRef?.resource === kind && e.objectRef?.name?.startsWith('hk-')),
      `the hooked operator built ${kind}`,
    );
  }
});

test('fault: 500, garbage, past the deadline, killed: nothing applied or deleted, the condition names the hook, convergence after', async () => {
  const set = 'hk-my-spicepod';
  const children = () =>
    kubectlJson(['get', 'deployments,services,configmaps,serviceaccounts,networkpolicies', '-n', ns, '-l', `spice.ai/handler=workloads`])
      .items.filter((o: any) => o.metadata.ownerReferences?.some((r: any) => r.name === set))
      .map((o: any) => `${o.kind}/${o.metadata.name}${o.metadata.deletionTimestamp ? ' (deleting)' : ''}`)
      .sort();
  // A change the workloads handler applies to the Deployment in place (more replicas would move the set to
  // per-replica StatefulSets: core/manifests/spicepodset.ts workloadMode): the set's annotations.
  const applied = () => Number(kubectlJson(['get', 'deployment', set, '-n', ns]).metadata.annotations?.['hooks-test/pass'] ?? 0);
  const hookCondition = () =>
    kubectlJson(['get', 'spicepodset', set, '-n', ns]).status?.conditions?.find((c: any) => c.type === 'WorkloadsHookReady');
  const before = children();
  assert.ok(before.length >= 3, before.join());
  let want = applied();
  for (const [mode, reason] of [
    ['error500', 'HookError'],
    ['garbage', 'HookInvalidAnswer'],
    ['sleep', 'HookTimeout'],
    ['down', 'HookUnreachable'],
  ] as const) {
    const since = Date.now();
    if (mode === 'down') await proxy.kill();
    else await proxy.setMode(mode);
    want += 1;
    kubectlOk([
      'patch',
      'spicepodset',
      set,
      '-n',
      ns,
      '--type',
      'merge',
      '-p',
      JSON.stringify({ spec: { annotations: { 'hooks-test/pass': String(want) } } }),
    ]);
    const c = await eventually(
      `${mode}: the WorkloadsHookReady condition`,
      () => (hookCondition()?.reason === reason ? hookCondition() : undefined),
      60_000,
      500,
    );
    assert.is(c.status, 'False');
    assert.match(c.message, /^hook workloads at http:\/\/127\.0\.0\.1:\d+ /);
    assert.match(c.message, /nothing from this pass was applied or deleted/);
    assert.equal(children(), before, `${mode}: every child still there`);
    assert.is(applied(), want - 1, `${mode}: the change was not applied`);
    const events = kubectlJson(['get', 'events', '-n', ns, '--field-selector', `involvedObject.name=${set},reason=HookFailed`]).items;
    assert.ok(
      events.some((e: any) => e.type === 'Warning' && e.message.includes('hook workloads')),
      `${mode}: a HookFailed Event`,
    );
    assert.equal(
      writesBy(hooked, since).filter((e) => e.verb === 'delete'),
      [],
      `${mode}: no deletion`,
    );

    if (mode === 'down') await proxy.revive();
    else await proxy.setMode('pass');
    await eventually(`${mode}: recovery`, () => (!hookCondition() && applied() === want) || undefined, 120_000, 500);
    assert.equal(children(), before);
  }
});

test('all hooked, then in-process: the in-process operator finds nothing to change in what the hooks built', async () => {
  await converged(hooked, 'hk-');
  await stop(hooked);
  const built = state();
  inProcess = await start(['--handlers', ALL]);
  const since = Date.now();
  await reconciledEverything(inProcess);
  assert.equal(
    writesBy(inProcess, since).map((e) => `${e.verb} ${e.objectRef?.resource}/${e.objectRef?.name}`),
    [],
    JSON.stringify(inProcess.logs.filter((l) => l.msg === 'reconcile failed').slice(0, 3)),
  );
  assert.equal(state(), built);
  await stop(inProcess);
});

test('one Lease per handler: `run --handlers workloads,network-policy` and `run --handlers cluster,pki` both lead, each writing only its own objects', async () => {
  for (const op of [...running]) await stop(op); // whatever a failed scenario above left running
  const since = Date.now();
  const sets = await start(['--handlers', 'workloads,network-policy']);
  const clusters = await start(['--handlers', 'cluster,pki']);
  for (const [op, handlers] of [
    [sets, ['workloads', 'network-policy']],
    [clusters, ['cluster', 'pki']],
  ] as const) {
    for (const h of handlers) await op.waitForLog((l) => l.msg === 'became leader' && l.lease === `${OPERATOR_NS}/${LEASE}-${h}`);
  }
  const docs = parse(readFileSync(new URL('../../examples/spicepodcluster.yaml', import.meta.url), 'utf8'));
  docs.metadata = { name: 'two', namespace: ns };
  kubectlOk(['apply', '--server-side', '--field-manager', 'hooks-test', '-f', '-'], stringify(docs));
  await eventually(
    "the cluster's node sets run (workloads) with their certificates (pki)",
    () => {
      const deployed = kubectl(['get', 'statefulsets,deployments', '-n', ns, '-o', 'name']).out;
      const secrets = kubectl(['get', 'secrets', '-n', ns, '-l', 'spice.ai/cluster=two', '-o', 'name']).out;
      return (deployed.includes('two-scheduler') && deployed.includes('two-executor') && secrets.trim().length > 0) || undefined;
    },
    180_000,
    1000,
  );
  const resources = (op: OperatorProcess) =>
    [
      ...new Set(
        writesBy(op, since).map((e) => `${e.objectRef?.resource}${e.objectRef?.subresource ? `/${e.objectRef.subresource}` : ''}`),
      ),
    ].sort();
  const setWrites = resources(sets);
  const clusterWrites = resources(clusters);
  assert.ok(setWrites.includes('statefulsets') || setWrites.includes('deployments'), setWrites.join());
  assert.ok(clusterWrites.includes('secrets') && clusterWrites.includes('spicepodsets'), clusterWrites.join());
  assert.not.ok(
    setWrites.includes('secrets') || setWrites.includes('spicepodclusters/status') || setWrites.includes('spicepodsets'),
    `the workloads process wrote ${setWrites.join()}`,
  );
  assert.not.ok(
    clusterWrites.some((r) => ['statefulsets', 'deployments', 'networkpolicies', 'services', 'spicepodsets/status'].includes(r)),
    `the cluster process wrote ${clusterWrites.join()}`,
  );
  // The handlers' Leases (the missed-sidecar scan holds one of its own, -sidecar-scan).
  const leases = kubectlJson(['get', 'leases', '-n', OPERATOR_NS])
    .items.filter((l: any) => l.metadata.name.startsWith(LEASE) && l.metadata.name !== `${LEASE}-sidecar-scan`)
    .map((l: any) => l.metadata.name)
    .sort();
  assert.equal(leases, [`${LEASE}-cluster`, `${LEASE}-network-policy`, `${LEASE}-pki`, `${LEASE}-workloads`]);
  await stop(sets);
  await stop(clusters);
});

test.run();
