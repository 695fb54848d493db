// Which Pods missed their sidecar (functions/injection/missed-sidecar.ts).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ANNOTATION_CONFIGMAP, ANNOTATION_INJECT, ANNOTATION_SIDECAR_INJECTED } from '../../core/annotations.ts';
import {
  MISSED_SIDECAR_CHECKS,
  missedSidecar,
  missedSidecarMessage,
  SIDECAR_CONTAINER,
  type PodLike,
} from '../../functions/injection/index.ts';

const o = {
  defaults: { image: 'spiceai/spiceai:latest-models', imagePullPolicy: 'IfNotPresent' },
  operatorNamespace: 'spiceai-operator-system',
};
const pod = (
  over: { namespace?: string; annotations?: Record<string, string>; containers?: string[]; phase?: string; deleting?: boolean } = {},
): PodLike => ({
  metadata: {
    name: 'app-1',
    namespace: over.namespace ?? 'team',
    annotations: over.annotations ?? { [ANNOTATION_INJECT]: 'true', [ANNOTATION_CONFIGMAP]: 'app-spicepod' },
    ...(over.deleting ? { deletionTimestamp: '2026-01-01T00:00:00Z' } : {}),
  },
  spec: { containers: (over.containers ?? ['app']).map((name) => ({ name })) },
  status: { phase: over.phase ?? 'Running' },
});

test('a running Pod that asked for the sidecar, has none and is not marked injected missed it', () => {
  assert.ok(missedSidecar(pod(), o));
  assert.ok(missedSidecar(pod({ annotations: { [ANNOTATION_INJECT]: 'app-spicepod' } }), o), 'the ConfigMap-name shorthand asks too');
  assert.match(missedSidecarMessage(pod()), /kubectl delete pod -n team app-1/);
});

test('each check excuses what it names, in order', () => {
  assert.equal(
    MISSED_SIDECAR_CHECKS.map((c) => c.name),
    ['NamespaceExcluded', 'Finished', 'NotRequested', 'MarkedInjected', 'HasSidecar'],
  );
  assert.not.ok(missedSidecar(pod({ namespace: 'spiceai-operator-system' }), o));
  assert.not.ok(missedSidecar(pod({ namespace: 'kube-system' }), o));
  assert.not.ok(missedSidecar(pod({ phase: 'Succeeded' }), o));
  assert.not.ok(missedSidecar(pod({ deleting: true }), o));
  assert.not.ok(missedSidecar(pod({ annotations: {} }), o));
  assert.not.ok(missedSidecar(pod({ annotations: { [ANNOTATION_INJECT]: 'false' } }), o));
  assert.not.ok(
    missedSidecar(pod({ annotations: { [ANNOTATION_INJECT]: 'true' } }), o),
    'no ConfigMap named: the webhook would have denied it, not injected it',
  );
  assert.not.ok(
    missedSidecar(
      pod({ annotations: { [ANNOTATION_INJECT]: 'true', [ANNOTATION_CONFIGMAP]: 'x', [ANNOTATION_SIDECAR_INJECTED]: 'true' } }),
      o,
    ),
  );
  assert.not.ok(missedSidecar(pod({ containers: ['app', SIDECAR_CONTAINER] }), o));
});

test.run();
