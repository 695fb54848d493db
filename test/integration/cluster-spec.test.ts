// What a SpicepodCluster spec spiced could not run becomes on the real
// control plane (a condition and a Warning Event naming the field, or a
// refusal at apply time), and the node overrides carried all the way
// through to pods, Services and certificates.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { stringify } from 'yaml';
import { applyShippedCrds, eventually, freshNamespace, kubectl, kubectlJson } from '../harness/kube.ts';
import { startOperator, type OperatorProcess } from '../harness/operator.ts';

const OPERATOR_NS = 'spiceai-operator-system';
const schedulerPod = {
  version: 'v1',
  kind: 'Spicepod',
  name: 'q',
  runtime: { scheduler: { state_location: 'file:///tmp/spice-cluster' } },
};
const plainPod = { version: 'v1', kind: 'Spicepod', name: 'q' };
let ns = '';
let operator: OperatorProcess | undefined;
const tmp = mkdtempSync(join(tmpdir(), 'cluster-spec-it-'));

const apply = (object: Record<string, unknown>) => kubectl(['apply', '--server-side', '-n', ns, '-f', '-'], stringify(object));
const cluster = (name: string, spec: Record<string, unknown>) => ({
  apiVersion: 'spice.ai/v1alpha1',
  kind: 'SpicepodCluster',
  metadata: { name },
  spec,
});
const get = (kind: string, name: string) => kubectlJson(['get', kind, name, '-n', ns]);
const condition = (o: any, type: string) => o.status?.conditions?.find((c: any) => c.type === type);
const warnings = (name: string, reason: string) =>
  kubectlJson(['get', 'events', '-n', ns, '--field-selector', `involvedObject.name=${name},reason=${reason},type=Warning`]).items.map(
    (e: any) => e.message as string,
  );
const exists = (kind: string, name: string) => kubectl(['get', kind, name, '-n', ns]).code === 0;

async function invalidSpec(kind: string, name: string, message: RegExp) {
  const ready = await eventually(`${kind} ${name} Ready=False InvalidSpec`, () => {
    const c = condition(get(kind, name), 'Ready');
    return c?.reason === 'InvalidSpec' ? c : undefined;
  });
  assert.is(ready.status, 'False');
  assert.match(ready.message, message);
  await eventually(`a Warning Event InvalidSpec on ${name}`, () => warnings(name, 'InvalidSpec').some((m: string) => message.test(m)));
  return ready;
}

test.before(async () => {
  applyShippedCrds();
  kubectl(['create', 'namespace', OPERATOR_NS]);
  ns = freshNamespace('cls');
  operator = await startOperator([
    '--namespaces',
    ns,
    '--handlers',
    'workloads,cluster,pki,network-policy',
    '--operator-namespace',
    OPERATOR_NS,
  ]);
});

test('a cluster whose scheduler Spicepod has no state_location is InvalidSpec naming the field, with a Warning Event, and no child sets; fixed, it runs', async () => {
  assert.is(apply(cluster('nostate', { schedulerSetSpec: { replicas: 1, spicepod: plainPod }, executorSetSpec: { replicas: 1 } })).code, 0);
  const ready = await invalidSpec(
    'spicepodcluster',
    'nostate',
    /^spec\.schedulerSetSpec\.spicepod\.runtime\.scheduler\.state_location is required: spiced refuses to start a scheduler without it/,
  );
  assert.not.match(ready.message, /Ready|schedulers 0/, 'not reported as waiting for nodes');
  await new Promise((r) => setTimeout(r, 2000));
  assert.not.ok(exists('spicepodset', 'nostate-scheduler'), 'no scheduler set');
  assert.not.ok(exists('spicepodset', 'nostate-executor'), 'no executor set');
  assert.is(
    apply(cluster('nostate', { schedulerSetSpec: { replicas: 1, spicepod: schedulerPod }, executorSetSpec: { replicas: 1 } })).code,
    0,
  );
  await eventually('the child sets', () => exists('spicepodset', 'nostate-scheduler') && exists('spicepodset', 'nostate-executor'));
});

test('a SpicepodSet with spec.cluster of its own is InvalidSpec naming spec.cluster, and nothing waits for a certificate', async () => {
  assert.is(
    apply({
      apiVersion: 'spice.ai/v1',
      kind: 'SpicepodSet',
      metadata: { name: 'lonely' },
      spec: { spicepod: schedulerPod, cluster: { role: 'scheduler', clusterName: 'lonely' } },
    }).code,
    0,
  );
  await invalidSpec(
    'spicepodset',
    'lonely',
    /^spec\.cluster is set by a SpicepodCluster on its own child sets only: no SpicepodCluster owns this set/,
  );
  assert.not.ok(exists('statefulset', 'lonely-0'), 'no StatefulSet mounting a Secret nobody creates');
  assert.equal(kubectlJson(['get', 'networkpolicies', '-n', ns, '-l', 'spice.ai/app=lonely']).items, []);
});

test('overrides spiced cannot use: a host name bind address is refused at apply time; differing ports and a shared advertise address are InvalidSpec', async () => {
  const hostBind = apply(
    cluster('badbind', {
      schedulerSetSpec: { replicas: 1, spicepod: schedulerPod, cluster: { bindAddress: 'localhost:50052' } },
      executorSetSpec: { replicas: 1 },
    }),
  );
  assert.is.not(hostBind.code, 0);
  assert.match(hostBind.err, /spec\.schedulerSetSpec\.cluster\.bindAddress/);
  assert.match(hostBind.err, /should match/);
  assert.is(
    apply(
      cluster('ports', {
        schedulerSetSpec: { replicas: 1, spicepod: schedulerPod, cluster: { bindAddress: '0.0.0.0:6000' } },
        executorSetSpec: { replicas: 1 },
      }),
    ).code,
    0,
  );
  await invalidSpec(
    'spicepodcluster',
    'ports',
    /spec\.executorSetSpec\.cluster\.bindAddress must use the port of spec\.schedulerSetSpec\.cluster\.bindAddress \(6000, got 50052\)/,
  );
  assert.is(
    apply(
      cluster('shared', {
        schedulerSetSpec: { replicas: 1, spicepod: schedulerPod },
        executorSetSpec: { replicas: 2, cluster: { advertiseAddress: 'executors.example.com' } },
      }),
    ).code,
    0,
  );
  await invalidSpec('spicepodcluster', 'shared', /spec\.executorSetSpec\.cluster\.advertiseAddress is the same for all 2 replicas/);
  assert.is(
    apply(
      cluster('ready', {
        schedulerSetSpec: { replicas: 1, spicepod: schedulerPod },
        executorSetSpec: { replicas: 1, probes: { readiness: { periodSeconds: 5 } } },
      }),
    ).code,
    0,
  );
  await invalidSpec('spicepodcluster', 'ready', /spec\.executorSetSpec\.probes\.readiness must not be set on executors/);
});

test('bindAddress and advertiseAddress reach the pods, the headless Services, the scheduler address, the policies and the certificates', async () => {
  assert.is(
    apply(
      cluster('ovr', {
        schedulerSetSpec: {
          replicas: 1,
          spicepod: schedulerPod,
          cluster: { bindAddress: '0.0.0.0:6000', advertiseAddress: '$(POD_NAME).sched.example.com' },
        },
        executorSetSpec: {
          replicas: 2,
          cluster: { bindAddress: '0.0.0.0:6000', advertiseAddress: '$(POD_NAME).exec.example.com' },
          probes: { liveness: { periodSeconds: 20 } },
        },
      }),
    ).code,
    0,
  );
  await eventually(
    'the cluster Ready with certificates',
    () => {
      const c = get('spicepodcluster', 'ovr');
      return condition(c, 'Ready')?.status === 'True' && condition(c, 'CertificatesReady')?.status === 'True';
    },
    180_000,
    1000,
  );
  const executor = get('pod', 'ovr-executor-1-0').spec.containers[0];
  const flag = (c: any, name: string) => c.args[c.args.indexOf(name) + 1];
  assert.is(flag(executor, '--node-bind-address'), '0.0.0.0:6000');
  assert.is(flag(executor, '--node-advertise-address'), '$(POD_NAME).exec.example.com');
  assert.is(flag(executor, '--scheduler-address'), `https://ovr-scheduler-headless.${ns}.svc.cluster.local:6000`);
  assert.ok(executor.ports.some((p: any) => p.name === 'cluster' && p.containerPort === 6000));
  assert.equal(executor.livenessProbe.httpGet, { path: '/health', port: 'http', scheme: 'HTTP' });
  assert.is(executor.livenessProbe.periodSeconds, 20);
  assert.is(executor.readinessProbe, undefined);
  for (const svc of ['ovr-scheduler-headless', 'ovr-executor-headless']) {
    assert.equal(
      get('service', svc)
        .spec.ports.filter((p: any) => p.name === 'cluster')
        .map((p: any) => [p.port, p.targetPort]),
      [[6000, 6000]],
      svc,
    );
  }
  for (const policy of ['ovr-scheduler', 'ovr-executor']) {
    assert.equal(get('networkpolicy', policy).spec.ingress[0].ports, [{ protocol: 'TCP', port: 6000 }], policy);
  }
  // Each node's certificate names the address it advertises (the kubelet expands $(POD_NAME) to the pod's name).
  for (const [secret, advertised] of [
    ['ovr-executor-1-tls', 'ovr-executor-1-0.exec.example.com'],
    ['ovr-scheduler-0-tls', 'ovr-scheduler-0-0.sched.example.com'],
  ]) {
    const crt = join(tmp, `${secret}.crt`);
    writeFileSync(crt, Buffer.from(get('secret', secret).data['tls.crt'], 'base64'));
    const shown = spawnSync('openssl', ['x509', '-in', crt, '-noout', '-ext', 'subjectAltName'], { encoding: 'utf8' }).stdout;
    assert.match(shown, new RegExp(`DNS:${advertised.replaceAll('.', '\\.')}(,|$)`), `${secret}: ${shown}`);
    assert.match(shown, /\.svc\.cluster\.local/, 'the stable name stays');
  }
});

test.after(async () => {
  await operator?.stop();
  if (ns) kubectl(['delete', 'namespace', ns, '--wait=false']);
});

test.run();
