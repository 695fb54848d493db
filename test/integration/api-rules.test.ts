// The operator refuses, as InvalidSpec, specs whose children the API server
// would refuse. Here the real API server is the judge of those rules: each
// spec of test/unit/refused-specs.ts is rendered into its children with the
// operator's checks bypassed and sent as a server-side dry run, which must
// refuse one of them; each accepted corner case must go through. Likewise
// for set names: a pod of the longest StatefulSet, as the StatefulSet
// controller would create it, is refused exactly when the operator refuses
// the name.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { KubeObject } from '../../core/handler.ts';
import { setNameProblems, STATEFULSET_NAME_MAX } from '../../core/manifests/name-limits.ts';
import { names } from '../../core/manifests/names.ts';
import {
  desiredConfigMap,
  desiredHeadlessService,
  desiredService,
  desiredServiceAccountObjects,
  desiredStatefulSet,
  type SetContext,
} from '../../core/manifests/spicepodset.ts';
import { normalizedSpicepodSetSpecSchema } from '../../core/spec/spicepodset.ts';
import { ACCEPTED_BY_THE_API_SERVER, REFUSED_BY_THE_API_SERVER } from '../unit/refused-specs.ts';
import { freshNamespace, kubectl } from '../harness/kube.ts';

const spicepod = { version: 'v1', kind: 'Spicepod', name: 'app' };
const config = {
  operatorNamespace: 'spiceai-operator-system',
  clusterDomain: 'cluster.local',
  pauseCrashloopingPodsThreshold: 10,
  telemetryProperties: {},
};
const ns = freshNamespace('api-rules');

/** Every child of a per-replica set, rendered from a spec parsed without the operator's own checks. */
function children(set: string, extra: Record<string, unknown>): KubeObject[] {
  const spec = normalizedSpicepodSetSpecSchema.parse({ spicepod, replicas: 2, ...extra });
  spec.image.pullPolicy ??= 'IfNotPresent';
  const ctx: SetContext = { set, namespace: ns, spec, config };
  return [
    desiredConfigMap(ctx),
    ...desiredServiceAccountObjects(ctx),
    desiredService(ctx),
    desiredHeadlessService(ctx),
    desiredStatefulSet(ctx, { ordinal: 0, replicas: 1 }),
  ];
}

/** The API server's answer to a dry-run create of each object: the refusals. */
function refusals(objects: KubeObject[]): string[] {
  return objects
    .map((o) => kubectl(['create', '--dry-run=server', '-n', ns, '-f', '-'], JSON.stringify(o)))
    .filter((r) => r.code !== 0)
    .map((r) => r.err.trim());
}

test("every spec the operator refuses for the API server's sake is refused by the API server", () => {
  REFUSED_BY_THE_API_SERVER.forEach(([what, extra], i) => {
    const refused = refusals(children(`refused-${i}`, extra));
    assert.ok(refused.length > 0, `${what}: the API server accepted every child`);
  });
});

test('the corner cases the operator accepts are accepted by the API server', () => {
  ACCEPTED_BY_THE_API_SERVER.forEach(([what, extra], i) => {
    assert.equal(refusals(children(`accepted-${i}`, extra)), [], what);
  });
});

/** The pod the StatefulSet controller creates for a per-replica StatefulSet, with its identity labels. */
function statefulSetPod(sts: KubeObject): KubeObject {
  const template = (sts.spec as { template: { metadata: { labels: Record<string, string> }; spec: Record<string, unknown> } }).template;
  const pod = names.statefulSetPod(sts.metadata.name);
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: pod,
      labels: {
        ...template.metadata.labels,
        // A revision hash of the 10 characters the controller may use (ControllerRevisionName).
        'controller-revision-hash': `${sts.metadata.name}-6b8f9c7d5x`,
        'statefulset.kubernetes.io/pod-name': pod,
        'apps.kubernetes.io/pod-index': '0',
      },
    },
    spec: { ...template.spec, hostname: pod, subdomain: names.headlessService(sts.metadata.name.replace(/-\d+$/, '')) },
  };
}

test("set names: the longest StatefulSet's pod is refused exactly when the operator refuses the name", () => {
  for (const length of [STATEFULSET_NAME_MAX - 2, STATEFULSET_NAME_MAX - 1]) {
    const set = 'n'.repeat(length);
    const spec = normalizedSpicepodSetSpecSchema.parse({ spicepod, replicas: 2 });
    const operatorRefuses = setNameProblems(set, spec).length > 0;
    const objects = children(set, {});
    const ctx: SetContext = { set, namespace: ns, spec, config };
    const sts = desiredStatefulSet(ctx, { ordinal: 1, replicas: 1 });
    const refused = refusals([...objects.filter((o) => o.kind !== 'StatefulSet'), sts, statefulSetPod(sts)]);
    assert.is(
      refused.length > 0,
      operatorRefuses,
      `a set name of ${length}: operator ${operatorRefuses ? 'refuses' : 'accepts'}, API server: ${refused.join('; ') || 'accepts'}`,
    );
  }
});

test.after(() => {
  kubectl(['delete', 'namespace', ns, '--wait=false']);
});

test.run();
