// The shim's EventRecorder against a real kube-apiserver: repeated Events are counted on the one
// already written, the spam filter caps them, an expired one is written anew, and a write the API
// server refuses or cannot take is logged, never thrown, and does not hold up the others.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { EventRecorder } from '../../shim/events.ts';
import { KubeClient, type KObject } from '../../shim/kube/client.ts';
import { loadKubeConfig } from '../../shim/kube/kubeconfig.ts';
import { jsonLogger } from '../../shim/log.ts';
import { freshNamespace, kubectl, kubectlJson, kubectlOk, testKubeconfig } from '../harness/kube.ts';

let ns = '';
const client = new KubeClient(loadKubeConfig(testKubeconfig()), { userAgent: 'events-test' });
let involved: KObject;

function recorder(options: { burst?: number } = {}) {
  const lines: any[] = [];
  const writes: string[] = [];
  const r = new EventRecorder({
    client,
    component: 'events-test',
    log: jsonLogger({ verbose: true, write: (l) => void lines.push(JSON.parse(l)) }),
    onWrite: (how) => void writes.push(how),
    ...options,
  });
  return { r, lines, writes };
}

function eventsOf(name: string): any[] {
  return kubectlJson<any>(['get', '-n', ns, 'events', '--field-selector', `involvedObject.kind=ConfigMap,involvedObject.name=${name}`])
    .items;
}

async function configMap(name: string): Promise<KObject> {
  return client.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: ns } });
}

test.before(async () => {
  ns = freshNamespace('shim-events');
  involved = await configMap('subject');
});

test.after(() => {
  client.close();
  kubectl(['delete', 'namespace', ns, '--wait=false']);
});

test('the same Event three times: one Event with count 3; another message: a second Event', async () => {
  const { r, writes } = recorder();
  for (let i = 0; i < 3; i++) r.record(involved, { type: 'Warning', reason: 'InvalidSpec', message: 'spec.replicas: must be at least 0' });
  r.record(involved, { type: 'Normal', reason: 'Paused', message: 'replicas is 0' });
  await r.flush();
  const events = eventsOf('subject').sort((a, b) => a.reason.localeCompare(b.reason));
  assert.equal(
    events.map((e) => [e.reason, e.type, e.count]),
    [
      ['InvalidSpec', 'Warning', 3],
      ['Paused', 'Normal', 1],
    ],
  );
  const [invalid] = events;
  assert.is(invalid.message, 'spec.replicas: must be at least 0');
  assert.is(invalid.involvedObject.uid, involved.metadata.uid);
  assert.is(invalid.source.component, 'events-test');
  assert.ok(invalid.firstTimestamp <= invalid.lastTimestamp);
  assert.equal(writes, ['create', 'patch', 'patch', 'create']);
});

test('the spam filter: past the burst, the same Event is dropped (and logged at debug)', async () => {
  const subject = await configMap('spammy');
  const { r, lines } = recorder({ burst: 5 });
  for (let i = 0; i < 8; i++) r.record(subject, { type: 'Warning', reason: 'CrashLooping', message: 'pods keep failing' });
  await r.flush();
  assert.equal(
    eventsOf('spammy').map((e) => e.count),
    [5],
  );
  assert.is(lines.filter((l) => l.msg === 'event dropped by the spam filter').length, 3);
});

test('an Event deleted (expired) since it was written is written anew', async () => {
  const subject = await configMap('expiring');
  const { r } = recorder();
  r.record(subject, { type: 'Normal', reason: 'Resized', message: 'PVC grown' });
  await r.flush();
  const [first] = eventsOf('expiring');
  kubectlOk(['delete', '-n', ns, 'event', first.metadata.name]);
  r.record(subject, { type: 'Normal', reason: 'Resized', message: 'PVC grown' });
  await r.flush();
  const events = eventsOf('expiring');
  assert.is(events.length, 1);
  assert.is.not(events[0].metadata.name, first.metadata.name);
  assert.is(events[0].count, 1);
});

test('a refused write is logged, not thrown, and the next Event is still written', async () => {
  const { r, lines } = recorder();
  const gone = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'elsewhere', namespace: `${ns}-missing`, uid: 'x' } } as KObject;
  r.record(gone, { type: 'Normal', reason: 'Nowhere', message: 'its namespace does not exist' });
  const subject = await configMap('after-refusal');
  r.record(subject, { type: 'Normal', reason: 'Written', message: 'still written' });
  await r.flush();
  assert.ok(
    lines.some((l) => l.level === 'warn' && l.msg === 'could not record an event' && l.reason === 'Nowhere'),
    'the refusal is logged',
  );
  assert.equal(
    eventsOf('after-refusal').map((e) => e.reason),
    ['Written'],
  );
});

test('flush gives up after its timeout when the API server cannot be reached', async () => {
  const kc = loadKubeConfig(testKubeconfig());
  kc.clusters = kc.clusters.map((c) => ({ ...c, server: 'https://127.0.0.1:1' }));
  const unreachable = new KubeClient(kc, { userAgent: 'events-test' });
  const lines: any[] = [];
  const r = new EventRecorder({
    client: unreachable,
    component: 'events-test',
    log: jsonLogger({ write: (l) => void lines.push(JSON.parse(l)) }),
  });
  r.record(involved, { type: 'Normal', reason: 'Unwritten', message: 'no API server' });
  const started = Date.now();
  await r.flush(300);
  assert.ok(Date.now() - started < 1000, 'flush returned at its timeout, before the retries end');
  assert.ok(lines.some((l) => l.msg === 'events not written before stopping'));
  await r.flush(); // let the retries end, so that nothing is left running
  assert.ok(lines.some((l) => l.msg === 'could not record an event' && l.reason === 'Unwritten'));
  unreachable.close();
});

test.run();
