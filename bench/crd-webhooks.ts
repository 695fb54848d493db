// Benchmark of the CRDs' own webhooks (prints figures, asserts nothing): conversion (`POST /convert`,
// ConversionReview) and validating admission (`POST /validate`, AdmissionReview), on loopback HTTPS,
// each server in its own Node process with the same certificate:
//  - served: the webhook server exactly as `run` serves it by default (shim/webhook/injector-server.ts
//    and shim/webhook/injector.ts: the injector's fetch handler with /mutate, /convert and /validate as
//    text routes, shim/crd-webhooks.ts's conversionRoute and validationRoute, JSON logs to a discarding
//    sink), with an in-memory StorageClass lookup instead of the API server read;
//  - bare: node:https reading the body and answering constant bytes: for each kind of review, what the
//    served webhook answers to it (picked by a request header the served server ignores), so answers are
//    equal in size.
// Reviews, as the API server sends them: a realistic stored SpicepodSet (examples/spicepodset-full.yaml
// with its metadata, managedFields and status) and SpicepodCluster (examples/spicepodcluster.yaml),
// converted v1 -> v2 and v2 -> v1 (v1alpha1 for the cluster), one object per review (a get or a watch
// event); CREATE of each kind and an UPDATE of the set, for validation.
//  1. fixed rate: --rate requests/s (default 200), open loop, for --seconds, latency measured from the
//     scheduled send time (no coordinated omission), and each request's time inside the server (parsed
//     headers to response written, and the handler's own time, body read to answer handed to the socket:
//     target p99 < 2 ms), and the CPU time the server process used per
//     request (robust to a busy machine, where the in-server time includes waiting for a core);
//  2. saturation: --concurrency requests in flight, closed loop: the most each sustains, and the ratio
//     to bare.
// Rounds alternate which server goes first; the load average is printed, as the figures mean little on
// a busy machine.
//
//   node --import tsx bench/crd-webhooks.ts [--rate 200] [--seconds 10] [--rounds 2] [--concurrency 16]
import type { Server } from 'node:https';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { parse } from 'yaml';
import { createCA, issueLeaf } from '../core/pki/index.ts';
import { convertObject, type KubeObject } from '../functions/conversion/index.ts';
import { conversionRoute, validationRoute } from '../shim/crd-webhooks.ts';
import { serveFetchTls } from '../shim/http.ts';
import { jsonLogger } from '../shim/log.ts';
import { OperatorMetrics } from '../shim/metrics.ts';
import { createWebhookHandler } from '../shim/webhook/index.ts';
import {
  bareServer,
  fixedRate,
  keepAliveAgent,
  loadAverage,
  mean,
  ms,
  percentile,
  resetInServer,
  saturation,
  serverReport,
  serveUntilKilled,
  startServerProcess,
  tlsFromArgs,
  type LoadRequest,
  loadBenchArgs,
} from './https-load.ts';

const values = loadBenchArgs({ rate: '200' });

// ---------------------------------------------------------------- the reviews

const example = (file: string) => parse(readFileSync(new URL(`../examples/${file}`, import.meta.url), 'utf8')) as KubeObject;
const condition = (type: string, reason: string) => ({
  type,
  status: 'True',
  reason,
  message: `${type}: ${reason}`,
  lastTransitionTime: '2026-01-01T00:00:00Z',
  observedGeneration: 4,
});

/** What the API server holds for an object applied with kubectl and reconciled: metadata, managedFields, status. */
function stored(o: KubeObject, status: Record<string, unknown>): KubeObject {
  const meta = o.metadata as Record<string, unknown>;
  return {
    ...o,
    metadata: {
      ...meta,
      namespace: 'shop',
      uid: '5b7f0c3e-2a1d-4c9b-8e6f-0123456789ab',
      resourceVersion: '123456',
      generation: 4,
      creationTimestamp: '2026-01-01T00:00:00Z',
      labels: { 'app.kubernetes.io/part-of': 'shop', team: 'data' },
      annotations: {
        'kubectl.kubernetes.io/last-applied-configuration': JSON.stringify({
          apiVersion: o.apiVersion,
          kind: o.kind,
          metadata: { name: meta.name, namespace: 'shop' },
          spec: o.spec,
        }),
      },
      managedFields: [
        {
          manager: 'kubectl-client-side-apply',
          operation: 'Update',
          apiVersion: o.apiVersion,
          time: '2026-01-01T00:00:00Z',
          fieldsType: 'FieldsV1',
          fieldsV1: {
            'f:metadata': { 'f:annotations': { '.': {}, 'f:kubectl.kubernetes.io/last-applied-configuration': {} } },
            'f:spec': { '.': {} },
          },
        },
        {
          manager: 'spiceai-operator',
          operation: 'Apply',
          apiVersion: o.apiVersion,
          time: '2026-01-01T00:05:00Z',
          fieldsType: 'FieldsV1',
          fieldsV1: { 'f:status': { 'f:conditions': {}, 'f:observedGeneration': {}, 'f:readyReplicas': {}, 'f:replicas': {} } },
          subresource: 'status',
        },
      ],
    },
    status,
  };
}

const setV1 = stored(example('spicepodset-full.yaml'), {
  replicas: '3/3',
  readyReplicas: 3,
  totalReplicas: 3,
  observedGeneration: 4,
  lastUpdated: '2026-01-01T00:05:00Z',
  conditions: [condition('Ready', 'AllReplicasReady'), condition('Progressing', 'RolloutComplete')],
});
const clusterV1 = stored(example('spicepodcluster.yaml'), {
  observedGeneration: 4,
  conditions: [condition('Ready', 'AllSetsReady')],
});
const setV2 = convertObject(setV1, 'spice.ai/v2');
const clusterV2 = convertObject(clusterV1, 'spice.ai/v2');

const uid = (i: number) => `00000000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`;
const conversionReview = (i: number, desiredAPIVersion: string, object: KubeObject) => ({
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'ConversionReview',
  request: { uid: uid(i), desiredAPIVersion, objects: [object] },
});
const admissionReview = (i: number, operation: 'CREATE' | 'UPDATE', object: KubeObject, oldObject: KubeObject | null) => {
  const plural = object.kind === 'SpicepodSet' ? 'spicepodsets' : 'spicepodclusters';
  const [group, version] = (object.apiVersion as string).split('/') as [string, string];
  return {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: uid(i),
      kind: { group, version, kind: object.kind },
      resource: { group, version, resource: plural },
      requestKind: { group, version, kind: object.kind },
      requestResource: { group, version, resource: plural },
      name: (object.metadata as { name: string }).name,
      namespace: 'shop',
      operation,
      userInfo: { username: 'kubernetes-admin', groups: ['kubeadm:cluster-admins', 'system:authenticated'] },
      object,
      oldObject,
      dryRun: false,
      options: {
        kind: `${operation === 'CREATE' ? 'Create' : 'Update'}Options`,
        apiVersion: 'meta.k8s.io/v1',
        fieldManager: 'kubectl-client-side-apply',
      },
    },
  };
};
const created = (o: KubeObject) => {
  const { status: _, ...rest } = o;
  const { uid: _u, resourceVersion: _r, generation: _g, creationTimestamp: _c, ...meta } = o.metadata as Record<string, unknown>;
  return { ...rest, metadata: meta } as KubeObject;
};
const edited = (o: KubeObject) =>
  ({ ...o, metadata: { ...(o.metadata as object), generation: 5 }, spec: { ...(o.spec as object), replicas: 4 } }) as KubeObject;

/** The reviews of each route, by name; the i-th request of a route is review i % n with uid i. */
const ROUTES = {
  convert: {
    path: '/convert',
    reviews: {
      'SpicepodSet v1 -> v2': (i: number) => conversionReview(i, 'spice.ai/v2', setV1),
      'SpicepodSet v2 -> v1': (i: number) => conversionReview(i, 'spice.ai/v1', setV2),
      'SpicepodCluster v1alpha1 -> v2': (i: number) => conversionReview(i, 'spice.ai/v2', clusterV1),
      'SpicepodCluster v2 -> v1alpha1': (i: number) => conversionReview(i, 'spice.ai/v1alpha1', clusterV2),
    },
  },
  validate: {
    path: '/validate',
    reviews: {
      'SpicepodSet CREATE': (i: number) => admissionReview(i, 'CREATE', created(setV1), null),
      'SpicepodSet UPDATE': (i: number) => admissionReview(i, 'UPDATE', edited(setV1), setV1),
      'SpicepodCluster CREATE': (i: number) => admissionReview(i, 'CREATE', created(clusterV1), null),
    },
  },
} as const;
type Route = keyof typeof ROUTES;
const CASE_HEADER = 'x-bench-review';

// ---------------------------------------------------------------- server processes

/** The webhook server's routes as `run` mounts them with the injector and the CRD webhooks on (the defaults). */
function served() {
  const log = jsonLogger({ write: () => {} });
  const injector = createWebhookHandler({
    defaults: { image: 'spiceai/spiceai:latest-models', imagePullPolicy: 'IfNotPresent' },
    operatorNamespace: 'spiceai-operator-system',
    telemetryProperties: {},
    getConfigMap: async () => undefined,
    metrics: new OperatorMetrics(),
    log: log.child({ component: 'sidecar-injector' }),
  });
  const crdLog = log.child({ component: 'crd-webhooks' });
  const textRoutes = {
    'POST /mutate': injector.mutate,
    ...conversionRoute(crdLog),
    // `run --admission-policy` defaults to err; the StorageClass the full example names exists.
    ...validationRoute({ level: 'err', storageClassExists: async () => true, log: crdLog }),
  };
  return { fetch: injector.fetch, textRoutes };
}

if (values.serve) {
  const tls = tlsFromArgs(values);
  let port: number;
  let server: Server;
  const webhooks = served();
  if (values.serve === 'served') {
    ({ port, server } = await serveFetchTls(webhooks.fetch, '127.0.0.1:0', tls, {
      maxBodyBytes: 8 * 1024 * 1024,
      textRoutes: webhooks.textRoutes,
    }));
  } else {
    // The constant answers: what the served webhook answers to review 0 of each kind.
    const answers = new Map<string, Buffer>();
    for (const route of Object.values(ROUTES)) {
      for (const [name, review] of Object.entries(route.reviews)) {
        const answer = await webhooks.textRoutes[`POST ${route.path}` as keyof typeof webhooks.textRoutes]!(JSON.stringify(review(0)));
        if (answer.status !== 200) throw new Error(`${name}: HTTP ${answer.status}`);
        answers.set(name, Buffer.from(answer.body));
      }
    }
    ({ port, server } = await bareServer(tls, (req) => answers.get(String(req.headers[CASE_HEADER]))!));
  }
  await serveUntilKilled(server, port);
}

// ---------------------------------------------------------------- load generator

const RATE = Number(values.rate);
const SECONDS = Number(values.seconds);
const ROUNDS = Number(values.rounds);
const CONCURRENCY = Number(values.concurrency);

const ca = await createCA({ commonName: 'bench-ca' });
const leaf = await issueLeaf({ ca, commonName: 'webhooks', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });
const tls = { certPem: leaf.certPem, keyPem: leaf.keyPem! };

/** 64 requests per route (distinct uids), cycling through its kinds of review. */
const requests = Object.fromEntries(
  (Object.keys(ROUTES) as Route[]).map((route) => {
    const kinds = Object.entries(ROUTES[route].reviews) as [string, (i: number) => unknown][];
    return [
      route,
      Array.from(
        { length: 64 },
        (_, i): LoadRequest => ({
          path: ROUTES[route].path,
          body: Buffer.from(JSON.stringify(kinds[i % kinds.length]![1](i))),
          headers: { [CASE_HEADER]: kinds[i % kinds.length]![0] },
        }),
      ),
    ];
  }),
) as Record<Route, LoadRequest[]>;
const next = (route: Route) => (i: number) => requests[route][i % requests[route].length]!;

// Each review answers as it should (converted, allowed) before anything is timed.
{
  const webhooks = served();
  for (const [route, list] of Object.entries(requests) as [Route, LoadRequest[]][]) {
    for (const r of list.slice(0, Object.keys(ROUTES[route].reviews).length)) {
      const answer = await webhooks.textRoutes[`POST ${r.path}` as keyof typeof webhooks.textRoutes]!(r.body.toString());
      const body = JSON.parse(answer.body);
      const ok = route === 'convert' ? body.response?.result?.status === 'Success' : body.response?.allowed === true;
      if (answer.status !== 200 || !ok)
        throw new Error(`${r.headers![CASE_HEADER]}: not answered as expected: ${answer.body.slice(0, 300)}`);
    }
  }
  const sizes = (route: Route) => [...new Set(requests[route].map((r) => `${r.headers![CASE_HEADER]} ${r.body.length} B`))].join(', ');
  console.log(`reviews: convert: ${sizes('convert')}; validate: ${sizes('validate')}`);
}

type Kind = 'served' | 'bare';
const KINDS: Kind[] = ['served', 'bare'];
const blank = () => ({
  latencies: [] as number[],
  service: [] as number[],
  inServer: [] as number[],
  handler: [] as number[],
  throughput: [] as number[],
  saturation: [] as number[],
  cpuPerRequest: [] as number[],
  errors: 0,
});
const results = Object.fromEntries((Object.keys(ROUTES) as Route[]).map((route) => [route, { served: blank(), bare: blank() }])) as Record<
  Route,
  Record<Kind, ReturnType<typeof blank>>
>;
const script = new URL(import.meta.url).pathname;
const loadBefore = loadAverage();
for (let round = 0; round < ROUNDS; round++) {
  for (const kind of round % 2 ? [...KINDS].reverse() : KINDS) {
    const { port, child } = await startServerProcess(script, kind, tls);
    // Like the API server's webhook client: a pool of kept-alive TLS connections.
    const agent = keepAliveAgent(ca.certPem);
    try {
      for (const route of Object.keys(ROUTES) as Route[]) {
        const r = results[route][kind];
        await fixedRate(agent, port, RATE, 2, next(route)); // warm-up: JIT, TLS handshakes, connection pool
        resetInServer(child);
        const run = await fixedRate(agent, port, RATE, SECONDS, next(route));
        const report = await serverReport(child);
        r.inServer.push(...report.times);
        r.handler.push(...report.handlerTimes);
        r.cpuPerRequest.push(report.cpuMs / report.times.length);
        r.latencies.push(...run.latencies);
        r.service.push(...run.service);
        r.throughput.push(run.throughput);
        r.errors += run.errors;
        r.saturation.push(await saturation(ca.certPem, port, CONCURRENCY, Math.max(3, SECONDS / 2), next(route)));
      }
    } finally {
      agent.destroy();
      child.kill();
    }
  }
}

const summary = (r: ReturnType<typeof blank>) => {
  const sorted = [...r.latencies].sort((a, b) => a - b);
  const service = [...r.service].sort((a, b) => a - b);
  const inServer = [...r.inServer].sort((a, b) => a - b);
  const handler = [...r.handler].sort((a, b) => a - b);
  return {
    handlerP50: percentile(handler, 50),
    handlerP99: percentile(handler, 99),
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    max: sorted.at(-1) ?? NaN,
    serviceP99: percentile(service, 99),
    inServerP50: percentile(inServer, 50),
    inServerP99: percentile(inServer, 99),
    throughput: mean(r.throughput),
    saturation: mean(r.saturation),
    cpuPerRequest: mean(r.cpuPerRequest),
    errors: r.errors,
  };
};
console.log(`CRD webhooks over loopback HTTPS, ${availableParallelism()} CPUs, load average ${loadBefore} before / ${loadAverage()} after`);
console.log(
  `  served = the webhook server as run serves it (in-memory StorageClass lookup), bare = node:https answering the same bytes, constant per kind of review`,
);
for (const route of Object.keys(ROUTES) as Route[]) {
  const s = { served: summary(results[route].served), bare: summary(results[route].bare) };
  console.log(`${ROUTES[route].path}: fixed rate ${RATE}/s, ${SECONDS}s x ${ROUNDS} rounds:`);
  for (const k of KINDS) {
    console.log(
      `  ${k.padEnd(6)} ${s[k].throughput.toFixed(1)}/s  p50 ${ms(s[k].p50)}  p99 ${ms(s[k].p99)}  max ${ms(s[k].max)}  (p99 from the actual send ${ms(s[k].serviceP99)}; in the server p50 ${ms(s[k].inServerP50)} p99 ${ms(s[k].inServerP99)}; in the handler p50 ${ms(s[k].handlerP50)} p99 ${ms(s[k].handlerP99)}; server CPU ${ms(s[k].cpuPerRequest)}/request)  errors ${s[k].errors}`,
    );
  }
  console.log(
    `  served in the handler (body read to answer written): p99 ${ms(s.served.handlerP99)} (target < 2ms; bare ${ms(s.bare.handlerP99)}); headers to answer flushed: p99 ${ms(s.served.inServerP99)} (bare ${ms(s.bare.inServerP99)}); p99 ratio to bare ${(s.served.p99 / s.bare.p99).toFixed(2)}; server CPU per request ratio to bare ${(s.served.cpuPerRequest / s.bare.cpuPerRequest).toFixed(2)}`,
  );
  console.log(
    `  saturation (${CONCURRENCY} in flight): served ${s.served.saturation.toFixed(0)}/s, bare ${s.bare.saturation.toFixed(0)}/s, served/bare ${(s.served.saturation / s.bare.saturation).toFixed(3)}`,
  );
}
