// The requests every hook server must answer alike: each example of
// examples/ as its handlers receive it (first pass: nothing exists yet;
// second pass: the first pass's objects exist), and every kind of bad input.
// The unit test checks the answers' meaning; the runtime test sends the same
// requests to the Node and the Deno server and compares the bytes.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { HandlerConfig, KubeObject, Observed } from '../../core/handler.ts';
import { HOOK_API_VERSION, KIND_REQUEST, DEFAULT_MAX_REQUEST_BYTES } from '../../core/hook-protocol/version.ts';

export const config: HandlerConfig = {
  operatorNamespace: 'spiceai-operator-system',
  clusterDomain: 'cluster.local',
  pauseCrashloopingPodsThreshold: 10,
  telemetryProperties: {},
};
export const NOW = Date.parse('2026-12-01T00:00:00Z');

export interface HookCase {
  name: string;
  /** The handler whose server gets it. */
  handler: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string | Uint8Array;
  /** What a correct server answers. */
  expect: { status: number; reason?: string; field?: string };
}

const root = new URL('../../', import.meta.url).pathname;

/** Every object of examples/, given the metadata the API server adds. */
export function exampleParents(): KubeObject[] {
  const out: KubeObject[] = [];
  for (const file of readdirSync(join(root, 'examples')).sort()) {
    for (const doc of parseAllDocuments(readFileSync(join(root, 'examples', file), 'utf8'))) {
      const obj = doc.toJS() as KubeObject | null;
      if (!obj) continue;
      out.push({
        ...obj,
        metadata: {
          ...obj.metadata,
          namespace: obj.metadata.namespace ?? 'default',
          uid: `uid-${obj.metadata.name}`,
          generation: 1,
          resourceVersion: '1',
        },
      });
    }
  }
  return out;
}

/** Which hookable handlers reconcile a parent of this kind. pki generates keys, so its answers are not comparable byte for byte. */
export const HANDLERS_OF_KIND: Record<string, string[]> = {
  SpicepodSet: ['workloads', 'network-policy'],
  SpicepodCluster: ['cluster', 'pod-monitor'],
};

export const observedOf = (parent: KubeObject, children: KubeObject[] = []): Observed => ({
  parent,
  children,
  related: {},
  now: NOW,
  config,
  failedWrites: [],
});

export const request = (handler: string, observed: unknown, apiVersion: unknown = HOOK_API_VERSION) => ({
  apiVersion,
  kind: KIND_REQUEST,
  handler,
  observed,
});

const post = (
  name: string,
  handler: string,
  body: string | Uint8Array,
  expect: HookCase['expect'],
  headers: Record<string, string> = { 'content-type': 'application/json' },
): HookCase => ({
  name,
  handler,
  method: 'POST',
  path: '/reconcile',
  headers,
  body,
  expect,
});

/**
 * Valid requests: each example's first pass. `secondPass` turns a first pass's answer into the
 * next request (the objects it applied, now existing), given by the caller that has the answers.
 */
export function exampleCases(): HookCase[] {
  return exampleParents().flatMap((parent) =>
    (HANDLERS_OF_KIND[parent.kind] ?? []).map((handler) =>
      post(`${handler}: ${parent.kind} ${parent.metadata.name}`, handler, JSON.stringify(request(handler, observedOf(parent))), {
        status: 200,
      }),
    ),
  );
}

/** The second pass of a case: the applied objects exist (with the uid and owner the shim gives them). */
export function secondPassCase(first: HookCase, answer: { desired: { apply: KubeObject[] } }): HookCase {
  const req = JSON.parse(first.body as string) as ReturnType<typeof request> & { observed: Observed };
  const parent = req.observed.parent;
  const children = answer.desired.apply.map((o, i) => ({
    ...o,
    metadata: {
      ...o.metadata,
      namespace: o.metadata.namespace ?? parent.metadata.namespace,
      uid: `child-${i}`,
      resourceVersion: '2',
      ownerReferences: [
        {
          apiVersion: parent.apiVersion,
          kind: parent.kind,
          name: parent.metadata.name,
          uid: parent.metadata.uid!,
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    },
  }));
  return { ...first, name: `${first.name} (second pass)`, body: JSON.stringify(request(req.handler, observedOf(parent, children))) };
}

/** Every kind of bad input, sent to the workloads server, each with the answer it must get. */
export function badCases(): HookCase[] {
  const parent = exampleParents().find((p) => p.kind === 'SpicepodSet')!;
  const good = request('workloads', observedOf(parent));
  const w = 'workloads';
  const big = new Uint8Array(DEFAULT_MAX_REQUEST_BYTES + 1).fill(0x20);
  return [
    {
      name: 'GET /reconcile',
      handler: w,
      method: 'GET',
      path: '/reconcile',
      headers: {},
      expect: { status: 405, reason: 'MethodNotAllowed' },
    },
    {
      name: 'unknown path',
      handler: w,
      method: 'POST',
      path: '/mutate',
      headers: { 'content-type': 'application/json' },
      body: '{}',
      expect: { status: 404, reason: 'NotFound' },
    },
    post('text/plain body', w, JSON.stringify(good), { status: 415, reason: 'UnsupportedMediaType' }, { 'content-type': 'text/plain' }),
    post('no content type', w, new TextEncoder().encode(JSON.stringify(good)), { status: 415, reason: 'UnsupportedMediaType' }, {}),
    post('body over the limit', w, big, { status: 413, reason: 'BodyTooLarge' }),
    post('not JSON', w, '{"apiVersion": "hooks.spice.ai/v1", "kind": ', { status: 400, reason: 'MalformedJSON' }),
    post('not UTF-8', w, new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]), { status: 400, reason: 'MalformedJSON' }),
    post('empty body', w, '', { status: 400, reason: 'MalformedJSON' }),
    post('a JSON array', w, '[]', { status: 422, reason: 'InvalidRequest' }),
    post('no apiVersion', w, JSON.stringify({ ...good, apiVersion: undefined }), {
      status: 422,
      reason: 'InvalidRequest',
      field: 'apiVersion',
    }),
    post('unknown apiVersion', w, JSON.stringify(request(w, observedOf(parent), 'hooks.spice.ai/v9')), {
      status: 400,
      reason: 'UnsupportedVersion',
      field: 'apiVersion',
    }),
    post('wrong kind', w, JSON.stringify({ ...good, kind: 'AdmissionReview' }), { status: 422, reason: 'InvalidRequest', field: 'kind' }),
    post('no observed', w, JSON.stringify({ ...good, observed: undefined }), { status: 422, reason: 'InvalidRequest', field: 'observed' }),
    post('parent without a name', w, JSON.stringify(request(w, observedOf({ ...parent, metadata: { ...parent.metadata, name: '' } }))), {
      status: 422,
      reason: 'InvalidRequest',
      field: 'observed.parent.metadata.name',
    }),
    post('children not a list', w, JSON.stringify(request(w, { ...observedOf(parent), children: {} })), {
      status: 422,
      reason: 'InvalidRequest',
      field: 'observed.children',
    }),
    post('now not a number', w, JSON.stringify(request(w, { ...observedOf(parent), now: '2026-12-01' })), {
      status: 422,
      reason: 'InvalidRequest',
      field: 'observed.now',
    }),
    post(
      'config without operatorNamespace',
      w,
      JSON.stringify(request(w, { ...observedOf(parent), config: { ...config, operatorNamespace: undefined } })),
      { status: 422, reason: 'InvalidRequest', field: 'observed.config.operatorNamespace' },
    ),
    post('request for another handler', w, JSON.stringify(request('pki', observedOf(parent))), {
      status: 400,
      reason: 'WrongHandler',
      field: 'handler',
    }),
    post(
      'a spec the handler refuses (an answer, not an error)',
      w,
      JSON.stringify(request(w, observedOf({ ...parent, spec: { replicas: -3 } }))),
      { status: 200 },
    ),
  ];
}
