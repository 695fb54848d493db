import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ownStatusCurrent, onlyStatusOrAddedAnnotations } from '../../shim/controller.ts';
import { sameJson, satisfies } from '../../core/diff.ts';

test('fields the server adds do not count as a difference', () => {
  const desired = { spec: { replicas: 1, template: { spec: { containers: [{ name: 'a', image: 'x' }] } } } };
  const observed = {
    spec: {
      replicas: 1,
      revisionHistoryLimit: 10,
      template: {
        spec: { containers: [{ name: 'a', image: 'x', terminationMessagePath: '/dev/termination-log' }], dnsPolicy: 'ClusterFirst' },
      },
    },
    status: {},
  };
  assert.ok(satisfies(desired, observed));
});

test('a changed value, a missing field or a different list length is a difference', () => {
  assert.not.ok(satisfies({ spec: { replicas: 2 } }, { spec: { replicas: 1 } }));
  assert.not.ok(satisfies({ data: { a: '1' } }, { data: {} }));
  assert.not.ok(satisfies({ ports: [1, 2] }, { ports: [1] }));
  assert.not.ok(satisfies({ ports: [1] }, { ports: [1, 2] }));
  assert.not.ok(satisfies({ a: { b: 1 } }, { a: 'x' }));
  assert.not.ok(satisfies({ a: null }, { a: 1 }));
});

test('values compare by meaning: quantities and int-or-string', () => {
  assert.ok(satisfies({ cpu: '1000m' }, { cpu: '1' }));
  assert.ok(satisfies({ memory: '1Gi' }, { memory: '1024Mi' }));
  assert.ok(satisfies({ port: 8090 }, { port: '8090' }));
  assert.not.ok(satisfies({ memory: '1Gi' }, { memory: '1G' }));
  assert.not.ok(satisfies({ name: 'http' }, { name: 'https' }));
});

test('sameJson ignores undefined and key order, nothing else', () => {
  assert.ok(sameJson({ a: 1, b: undefined, c: { d: [1] } }, { c: { d: [1] }, a: 1 }));
  assert.not.ok(sameJson({ a: 1 }, { a: 1, b: 2 }));
});

test('a handler compares only its own status keys and condition types', () => {
  const observed = {
    replicas: '1/1',
    rootCertificateReady: true,
    conditions: [
      { type: 'Ready', status: 'True' },
      { type: 'CertificatesReady', status: 'True' },
    ],
  };
  const owned = ['Ready', 'Progressing'];
  assert.ok(
    ownStatusCurrent({ replicas: '1/1', conditions: [{ type: 'Ready', status: 'True' }] }, observed, owned),
    "another handler's fields are not a difference",
  );
  assert.not.ok(ownStatusCurrent({ replicas: '2/2', conditions: [{ type: 'Ready', status: 'True' }] }, observed, owned));
  assert.not.ok(
    ownStatusCurrent({ replicas: '1/1', pauseReason: undefined, conditions: [] }, { ...observed, pauseReason: 'X' }, owned),
    'a key set to undefined must be absent',
  );
  assert.not.ok(ownStatusCurrent({ conditions: [] }, observed, owned), 'an owned condition type that is no longer wanted must go');
  assert.ok(ownStatusCurrent({ conditions: [{ type: 'Ready', status: 'True' }] }, observed, owned));
  assert.not.ok(
    ownStatusCurrent(
      {
        conditions: [
          { type: 'Ready', status: 'True' },
          { type: 'Progressing', status: 'False' },
        ],
      },
      observed,
      owned,
    ),
  );
});

test('onlyStatusOrAddedAnnotations: a new status, resourceVersion or added annotation is no change; spec, labels, changed annotations or owners are', () => {
  const deployment = (change: (d: any) => void = () => {}) => {
    const d: any = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: {
        name: 'app',
        namespace: 'n',
        resourceVersion: '1',
        generation: 1,
        labels: { a: '1' },
        annotations: { b: '2' },
        ownerReferences: [{ uid: 'u' }],
      },
      spec: { replicas: 1 },
      status: { replicas: 0 },
    };
    change(d);
    return d;
  };
  assert.ok(
    onlyStatusOrAddedAnnotations(
      deployment(),
      deployment((d) => ((d.metadata.resourceVersion = '2'), (d.status = { replicas: 1, readyReplicas: 1 }))),
    ),
  );
  assert.ok(
    onlyStatusOrAddedAnnotations(
      deployment(),
      deployment((d) => delete d.status),
    ),
  );
  assert.not.ok(
    onlyStatusOrAddedAnnotations(
      deployment(),
      deployment((d) => (d.spec.replicas = 5)),
    ),
  );
  assert.not.ok(
    onlyStatusOrAddedAnnotations(
      deployment(),
      deployment((d) => (d.metadata.labels.a = 'x')),
    ),
  );
  // The API server counts a Deployment's annotation changes in its generation.
  assert.ok(
    onlyStatusOrAddedAnnotations(
      deployment(),
      deployment((d) => ((d.metadata.annotations['deployment.kubernetes.io/revision'] = '1'), (d.metadata.generation = 2))),
    ),
  );
  assert.not.ok(
    onlyStatusOrAddedAnnotations(
      deployment(),
      deployment((d) => (d.metadata.annotations = {})),
    ),
    'an annotation removed',
  );
  assert.not.ok(
    onlyStatusOrAddedAnnotations(
      deployment(),
      deployment((d) => (d.metadata.annotations.b = '3')),
    ),
    'an annotation changed',
  );
  assert.not.ok(
    onlyStatusOrAddedAnnotations(
      deployment(),
      deployment((d) => (d.metadata.ownerReferences = [])),
    ),
  );
  assert.not.ok(
    onlyStatusOrAddedAnnotations(
      deployment(),
      deployment((d) => (d.metadata.deletionTimestamp = '2026-01-01T00:00:00Z')),
    ),
  );
  assert.not.ok(
    onlyStatusOrAddedAnnotations(
      deployment(),
      deployment((d) => (d.data = { x: '1' })),
    ),
    'a top-level field other than status',
  );
});

test.run();
