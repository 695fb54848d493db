// The shim's Controller in-process against a real kube-apiserver, with the workloads handler,
// when the parent's watch lags behind the children's (as it does on a busy API server): a
// reconcile the children's events start before the cache has seen the status just written
// must neither write that status again nor record its Events twice.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { workloadsHandler } from '../../functions/workloads/index.ts';
import { Controller } from '../../shim/controller.ts';
import { KubeClient, type WatchEvent, type WatchOptions } from '../../shim/kube/client.ts';
import type { ResourceLike } from '../../shim/kube/resources.ts';
import { loadKubeConfig } from '../../shim/kube/kubeconfig.ts';
import { jsonLogger } from '../../shim/log.ts';
import { applyShippedCrds, eventually, freshNamespace, kubectl, kubectlJson, kubectlOk, testKubeconfig } from '../harness/kube.ts';

const LAG_MS = 2000;

/** Delivers every SpicepodSet watch event LAG_MS late (in order); other kinds on time. */
class LaggingClient extends KubeClient {
  override watch(resource: ResourceLike, options: WatchOptions, onEvent: (event: WatchEvent) => void, signal: AbortSignal): Promise<void> {
    if (resource.kind !== 'SpicepodSet') return super.watch(resource, options, onEvent, signal);
    return super.watch(resource, options, (event) => void setTimeout(() => onEvent(event), LAG_MS), signal);
  }
}

let ns = '';
const client = new LaggingClient(loadKubeConfig(testKubeconfig()), { userAgent: 'controller-test' });
let controller: Controller;

test.before(async () => {
  applyShippedCrds();
  ns = freshNamespace('shim-controller');
  controller = new Controller({
    client,
    handler: workloadsHandler,
    config: {
      operatorNamespace: 'spiceai-operator-system',
      clusterDomain: 'cluster.local',
      pauseCrashloopingPodsThreshold: 10,
      telemetryProperties: {},
    },
    log: jsonLogger({ write: () => {} }),
    namespaces: [ns],
    workers: 2,
  });
  await controller.start();
});

test.after(async () => {
  await controller.stop();
  client.close();
  kubectl(['delete', 'namespace', ns, '--wait=false']);
});

test('a stale parent in the cache: the status and the Event are written once, and the status holds', async () => {
  kubectlOk(
    ['apply', '-n', ns, '-f', '-'],
    JSON.stringify({
      apiVersion: 'spice.ai/v1',
      kind: 'SpicepodSet',
      metadata: { name: 'lagging' },
      spec: { spicepod: { version: 'v1', kind: 'Spicepod', name: 'app' }, replicas: 0 },
    }),
  );
  await eventually(
    'the children',
    () => kubectl(['get', '-n', ns, 'deployment/lagging', 'service/lagging', 'configmap/lagging-spicepod']).code === 0,
  );
  // The children's watch events start reconciles while the parent's lag; wait until the lagging events are in.
  await new Promise((r) => setTimeout(r, 2 * LAG_MS + 1000));
  const set = kubectlJson<any>(['get', '-n', ns, 'spicepodset/lagging']);
  assert.is(set.status.conditions.find((c: any) => c.type === 'Paused')?.status, 'True');
  const events = kubectlJson<any>([
    'get',
    '-n',
    ns,
    'events',
    '--field-selector',
    'involvedObject.kind=SpicepodSet,involvedObject.name=lagging',
  ]).items;
  assert.equal(
    events.map((e: any) => e.reason),
    ['Paused'],
    'one Paused Event',
  );
  assert.is(controller.writes.status, 1, 'one status write');
  assert.is(controller.writes.event, 1);
});

test.run();
