// Benchmark of the sidecar injector's admission path (prints figures, asserts nothing).
//
// HTTPS servers on loopback, each in its own Node process, same certificate:
//  - served: the injector exactly as `run` serves it (shim/webhook/injector-server.ts: functions/injection's
//    admission with metrics and JSON logs to a discarding sink, POST /mutate on the server's
//    text route), with an in-memory getConfigMap instead of the API server read;
//  - fetch: the same, but every request through the fetch handler (Request/Response objects),
//    as on a fetch runtime;
//  - bare: node:https reading the body and answering a constant AdmissionReview (the same
//    bytes the injector answers, so responses are equal in size);
//  - parse: bare, but the body is kept and parsed (JSON.parse) before the constant is answered:
//    the least any injector does, since the API server sends the whole Pod and the decision
//    needs it read. served/parse is how much the injector's own work costs on top of that, and
//    parse/bare what reading the Pod alone costs on this machine;
//  - go-bare: the same in Go (net/http, bench/peer/webhookbare, built and cached by
//    bench/peer/build.sh): what a webhook with no work to do costs in the language a Go team
//    would write it in;
//  - deno-fetch: the fetch route on Deno (bench/injection-deno.ts: functions/injection's fetch handler
//    unchanged under Deno.serve, the edge path as an edge runtime runs it), and deno-bare: Deno.serve
//    answering the constant; both over plain HTTP (Deno.serve's TLS leaves Nagle's algorithm on: about
//    40 ms per request), so deno-fetch is compared with deno-bare, the same runtime with no work to do.
// The Node servers run on the image's Node with its node flags (bench/https-load.ts), or on BENCH_SERVER_NODE.
// The load generator (this process) replays a realistic Pod CREATE AdmissionReview
// (an annotated ReplicaSet Pod, ~4 KB) that the injector injects.
//  1. fixed rate: --rate requests/s, open loop, for --seconds, latency measured from the
//     scheduled send time (no coordinated omission): throughput ratio to bare (target >= 0.9)
//     and p99 (target < 2 ms at 500/s);
//  2. saturation: --concurrency requests in flight, closed loop: the most each sustains.
// Each Node server also reports the CPU its process used per request at the fixed rate: on a busy
// machine the saturation figures swing with the other processes, the CPU per request much less.
// At saturation each reports its CPU per request again, with V8's collections in it (pauses and
// scavenges): the image's --optimize-for-size holds V8's young generation at 1 MiB, so a server
// that allocates more per request collects more often.
// Rounds alternate the servers to spread drift; the machine's load is printed, as the
// figures mean little on a busy machine.
//
//   node --import tsx bench/injection.ts [--rate 500] [--seconds 10] [--rounds 2] [--concurrency 16] [--kinds bare,parse,go-bare,served,fetch,deno-fetch,deno-bare]
import { spawn, type ChildProcess } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { availableParallelism } from 'node:os';
import { createCA, issueLeaf } from '../core/pki/index.ts';
import { denoBin, denoEnv } from '../test/hooks/servers.ts';
import { serveFetchTls } from '../shim/http.ts';
import { jsonLogger } from '../shim/log.ts';
import { OperatorMetrics } from '../shim/metrics.ts';
import { createWebhookHandler } from '../shim/webhook/index.ts';
import {
  bareServer,
  fixedRate,
  keepAliveAgent,
  loadAverage as load,
  mean,
  ms,
  percentile,
  resetInServer,
  saturation,
  serverReport,
  serveUntilKilled,
  startServerProcess,
  tlsFromArgs,
  waitForPort,
  type LoadRequest,
  loadBenchArgs,
} from './https-load.ts';

const values = loadBenchArgs(
  { rate: '500' },
  { kinds: { type: 'string', default: 'bare,parse,go-bare,served,fetch,deno-fetch,deno-bare' } },
);

/** A Pod as the ReplicaSet controller creates it, after the API server's defaulting and built-in admission. */
function admissionReview(i: number) {
  return {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: `00000000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`,
      kind: { group: '', version: 'v1', kind: 'Pod' },
      resource: { group: '', version: 'v1', resource: 'pods' },
      requestKind: { group: '', version: 'v1', kind: 'Pod' },
      requestResource: { group: '', version: 'v1', resource: 'pods' },
      namespace: 'shop',
      operation: 'CREATE',
      userInfo: {
        username: 'system:serviceaccount:kube-system:replicaset-controller',
        uid: 'u',
        groups: ['system:serviceaccounts', 'system:serviceaccounts:kube-system', 'system:authenticated'],
      },
      object: {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: {
          generateName: 'web-7d9f8c6b5-',
          namespace: 'shop',
          labels: { app: 'web', 'pod-template-hash': '7d9f8c6b5', 'app.kubernetes.io/name': 'web', 'app.kubernetes.io/part-of': 'shop' },
          annotations: {
            'spice.ai/inject': 'shop-spicepod',
            'kubectl.kubernetes.io/restartedAt': '2026-01-01T00:00:00Z',
            'prometheus.io/scrape': 'true',
          },
          ownerReferences: [
            {
              apiVersion: 'apps/v1',
              kind: 'ReplicaSet',
              name: 'web-7d9f8c6b5',
              uid: 'a3c1b2d4-0000-4000-8000-000000000001',
              controller: true,
              blockOwnerDeletion: true,
            },
          ],
          managedFields: [
            {
              manager: 'kube-controller-manager',
              operation: 'Update',
              apiVersion: 'v1',
              time: '2026-01-01T00:00:00Z',
              fieldsType: 'FieldsV1',
              fieldsV1: {
                'f:metadata': {
                  'f:generateName': {},
                  'f:labels': { '.': {}, 'f:app': {}, 'f:pod-template-hash': {} },
                  'f:ownerReferences': {},
                },
                'f:spec': { 'f:containers': {} },
              },
            },
          ],
        },
        spec: {
          volumes: [
            {
              name: 'kube-api-access-abcde',
              projected: {
                sources: [
                  { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
                  { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
                  { downwardAPI: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } },
                ],
                defaultMode: 420,
              },
            },
            { name: 'cache', emptyDir: {} },
          ],
          initContainers: [
            {
              name: 'migrate',
              image: 'shop/migrate:1.2.3',
              command: ['/migrate', '--up'],
              resources: {},
              terminationMessagePath: '/dev/termination-log',
              terminationMessagePolicy: 'File',
              imagePullPolicy: 'IfNotPresent',
            },
          ],
          containers: [
            {
              name: 'web',
              image: 'shop/web:1.2.3',
              ports: [
                { name: 'http', containerPort: 8080, protocol: 'TCP' },
                { name: 'admin', containerPort: 9901, protocol: 'TCP' },
              ],
              env: [
                { name: 'SPICE_URL', value: 'http://localhost:18090' },
                { name: 'LOG_LEVEL', value: 'info' },
                { name: 'POD_NAME', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.name' } } },
              ],
              resources: { limits: { cpu: '1', memory: '512Mi' }, requests: { cpu: '250m', memory: '256Mi' } },
              volumeMounts: [
                { name: 'cache', mountPath: '/cache' },
                { name: 'kube-api-access-abcde', readOnly: true, mountPath: '/var/run/secrets/kubernetes.io/serviceaccount' },
              ],
              livenessProbe: {
                httpGet: { path: '/healthz', port: 8080, scheme: 'HTTP' },
                timeoutSeconds: 1,
                periodSeconds: 10,
                successThreshold: 1,
                failureThreshold: 3,
              },
              readinessProbe: {
                httpGet: { path: '/ready', port: 8080, scheme: 'HTTP' },
                timeoutSeconds: 1,
                periodSeconds: 5,
                successThreshold: 1,
                failureThreshold: 3,
              },
              terminationMessagePath: '/dev/termination-log',
              terminationMessagePolicy: 'File',
              imagePullPolicy: 'IfNotPresent',
              securityContext: { runAsNonRoot: true, allowPrivilegeEscalation: false },
            },
          ],
          restartPolicy: 'Always',
          terminationGracePeriodSeconds: 30,
          dnsPolicy: 'ClusterFirst',
          serviceAccountName: 'default',
          serviceAccount: 'default',
          securityContext: { fsGroup: 2000 },
          schedulerName: 'default-scheduler',
          tolerations: [
            { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
            { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
          ],
          priority: 0,
          enableServiceLinks: true,
          preemptionPolicy: 'PreemptLowerPriority',
        },
        status: { phase: 'Pending', qosClass: 'Burstable' },
      },
      oldObject: null,
      dryRun: false,
      options: { kind: 'CreateOptions', apiVersion: 'meta.k8s.io/v1' },
    },
  };
}

const configMaps = new Map([['shop/shop-spicepod', { data: { 'spicepod.yaml': 'version: v1\nkind: Spicepod\nname: shop\n' } }]]);
const webhookHandler = () =>
  createWebhookHandler({
    defaults: { image: 'spiceai/spiceai:latest-models', imagePullPolicy: 'IfNotPresent' },
    operatorNamespace: 'spiceai-operator-system',
    telemetryProperties: {},
    getConfigMap: async (namespace, name) => configMaps.get(`${namespace}/${name}`),
    metrics: new OperatorMetrics(),
    // JSON lines are built as in the operator, then discarded instead of written to stderr.
    log: jsonLogger({ write: () => {} }).child({ component: 'sidecar-injector' }),
  });

// ---------------------------------------------------------------- server processes

if (values.serve) {
  const tls = tlsFromArgs(values);
  let port: number;
  let server: Server;
  const injector = webhookHandler();
  if (values.serve === 'served') {
    ({ port, server } = await serveFetchTls(injector.fetch, '127.0.0.1:0', tls, {
      maxBodyBytes: 8 * 1024 * 1024,
      textRoutes: { 'POST /mutate': injector.mutate },
    }));
  } else if (values.serve === 'fetch') {
    ({ port, server } = await serveFetchTls(injector.fetch, '127.0.0.1:0', tls, { maxBodyBytes: 8 * 1024 * 1024 }));
  } else {
    // The constant answer: what the injector answers to the same request.
    const answer = Buffer.from((await injector.mutate(JSON.stringify(admissionReview(0)))).body);
    // parse reads the uid, as every answer must carry it back.
    const read =
      values.serve === 'parse'
        ? (body: Buffer) => {
            if (typeof (JSON.parse(body.toString('utf8')) as { request?: { uid?: unknown } }).request?.uid !== 'string')
              throw new Error('not an AdmissionReview');
          }
        : undefined;
    ({ port, server } = await bareServer(tls, () => answer, read));
  }
  await serveUntilKilled(server, port);
}

// ---------------------------------------------------------------- load generator

const RATE = Number(values.rate);
const SECONDS = Number(values.seconds);
const ROUNDS = Number(values.rounds);
const CONCURRENCY = Number(values.concurrency);

const ca = await createCA({ commonName: 'bench-ca' });
const leaf = await issueLeaf({ ca, commonName: 'injector', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });
const bodies = Array.from({ length: 64 }, (_, i) => Buffer.from(JSON.stringify(admissionReview(i))));

type Kind = 'bare' | 'parse' | 'go-bare' | 'served' | 'fetch' | 'deno-fetch' | 'deno-bare';

const KINDS = values.kinds!.split(',') as Kind[];
// The Go server reads its certificate, key and constant answer (the injector's, as bare answers) from files.
const goBin = !KINDS.includes('go-bare')
  ? ''
  : join(
      execFileSync('bash', [new URL('./peer/build.sh', import.meta.url).pathname], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'inherit'],
      })
        .trim()
        .split('\n')
        .pop()!,
      'webhook-bare',
    );
const goFiles = mkdtempSync(join(tmpdir(), 'bench-injection-'));
writeFileSync(join(goFiles, 'tls.crt'), leaf.certPem);
writeFileSync(join(goFiles, 'tls.key'), leaf.keyPem!);
/** What the injector answers to the bench's request: the constant the bare servers answer. */
const answerBytes = (await webhookHandler().mutate(JSON.stringify(admissionReview(0)))).body;
writeFileSync(join(goFiles, 'answer.json'), answerBytes);

const tls = { certPem: leaf.certPem, keyPem: leaf.keyPem! };
const script = new URL(import.meta.url).pathname;
function startServer(kind: Kind): Promise<{ port: number; child: ChildProcess }> {
  if (kind === 'deno-fetch' || kind === 'deno-bare') {
    const b64 = (s: string) => Buffer.from(s).toString('base64');
    const child = spawn(
      denoBin,
      [
        'run',
        '--no-prompt',
        '--allow-net=127.0.0.1',
        new URL('./injection-deno.ts', import.meta.url).pathname,
        kind === 'deno-fetch' ? 'fetch' : 'bare',
        b64(answerBytes),
      ],
      { cwd: new URL('..', import.meta.url).pathname, env: denoEnv(), stdio: ['ignore', 'pipe', 'inherit'] },
    );
    return waitForPort(child, kind);
  }
  if (kind !== 'go-bare') return startServerProcess(script, kind, tls);
  const child = spawn(
    goBin,
    ['--cert', join(goFiles, 'tls.crt'), '--key', join(goFiles, 'tls.key'), '--answer', join(goFiles, 'answer.json')],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  return waitForPort(child, kind);
}
const mutate = (i: number): LoadRequest => ({ path: '/mutate', body: bodies[i % bodies.length]! });

const ALL_KINDS: Kind[] = ['bare', 'parse', 'go-bare', 'served', 'fetch', 'deno-fetch', 'deno-bare'];
const results = Object.fromEntries(
  ALL_KINDS.map((k) => [
    k,
    {
      latencies: [] as number[],
      service: [] as number[],
      inServer: [] as number[],
      throughput: [] as number[],
      saturation: [] as number[],
      cpuPerRequest: [] as number[],
      busyCpuPerRequest: [] as number[],
      busyGcPerRequest: [] as number[],
      scavengesPer1000: [] as number[],
      errors: 0,
    },
  ]),
) as Record<
  Kind,
  {
    latencies: number[];
    service: number[];
    inServer: number[];
    throughput: number[];
    saturation: number[];
    cpuPerRequest: number[];
    /** At saturation: the server's CPU per request, its GC pauses per request (ms), its scavenges per 1,000 requests. */
    busyCpuPerRequest: number[];
    busyGcPerRequest: number[];
    scavengesPer1000: number[];
    errors: number;
  }
>;
const loadBefore = load();
for (let round = 0; round < ROUNDS; round++) {
  for (const kind of KINDS) {
    const { port, child } = await startServer(kind);
    // Like the API server's webhook client: a pool of kept-alive TLS connections.
    // Deno's servers over plain HTTP (bench/injection-deno.ts says why).
    const plain = kind.startsWith('deno-');
    const agent = keepAliveAgent(ca.certPem, 16, plain);
    try {
      await fixedRate(agent, port, RATE, 2, mutate); // warm-up: JIT, TLS handshakes, connection pool
      resetInServer(child);
      const r = await fixedRate(agent, port, RATE, SECONDS, mutate);
      // The Go server does not time itself: its in-server times are left out.
      const report = await serverReport(child);
      results[kind].inServer.push(...report.times);
      results[kind].cpuPerRequest.push(report.cpuMs / report.times.length);
      results[kind].latencies.push(...r.latencies);
      results[kind].service.push(...r.service);
      results[kind].throughput.push(r.throughput);
      results[kind].errors += r.errors;
      resetInServer(child);
      results[kind].saturation.push(await saturation(ca.certPem, port, CONCURRENCY, Math.max(3, SECONDS / 2), mutate, plain));
      // What each request cost the server at saturation, and how much of it was V8's collections.
      const busy = await serverReport(child);
      results[kind].busyCpuPerRequest.push(busy.cpuMs / busy.times.length);
      results[kind].busyGcPerRequest.push(busy.gc.ms / busy.times.length);
      results[kind].scavengesPer1000.push((1000 * busy.gc.scavenges) / busy.times.length);
    } finally {
      agent.destroy();
      child.kill();
    }
  }
}

const summary = (kind: Kind) => {
  const sorted = [...results[kind].latencies].sort((a, b) => a - b);
  const service = [...results[kind].service].sort((a, b) => a - b);
  const inServer = [...results[kind].inServer].sort((a, b) => a - b);
  return {
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    max: sorted.at(-1) ?? NaN,
    serviceP99: percentile(service, 99),
    inServerP50: percentile(inServer, 50),
    inServerP99: percentile(inServer, 99),
    throughput: mean(results[kind].throughput),
    saturation: mean(results[kind].saturation),
    cpuPerRequest: mean(results[kind].cpuPerRequest),
    busyCpuPerRequest: mean(results[kind].busyCpuPerRequest),
    busyGcPerRequest: mean(results[kind].busyGcPerRequest),
    scavengesPer1000: mean(results[kind].scavengesPer1000),
    errors: results[kind].errors,
  };
};
const s = Object.fromEntries(ALL_KINDS.map((k) => [k, summary(k)])) as Record<Kind, ReturnType<typeof summary>>;
console.log(`injector admission over loopback HTTPS, ${availableParallelism()} CPUs, load average ${loadBefore} before / ${load()} after`);
console.log(
  `  served = the injector as run serves it, fetch = the same through Request/Response objects (both with an in-memory getConfigMap: no API server read), bare = node:https answering a constant AdmissionReview, parse = bare that parses the body first, go-bare = Go net/http answering the same`,
);
console.log(`fixed rate ${RATE}/s, ${SECONDS}s x ${ROUNDS} rounds:`);
for (const k of KINDS) {
  console.log(
    `  ${k.padEnd(10)} ${s[k].throughput.toFixed(1)}/s  p50 ${ms(s[k].p50)}  p99 ${ms(s[k].p99)}  max ${ms(s[k].max)}  (p99 from the actual send ${ms(s[k].serviceP99)}; in the server p50 ${ms(s[k].inServerP50)} p99 ${ms(s[k].inServerP99)}; server CPU ${ms(s[k].cpuPerRequest)}/request)  errors ${s[k].errors}`,
  );
}
for (const k of (['parse', 'served', 'fetch', 'deno-fetch'] as const).filter((k) => KINDS.includes(k))) {
  console.log(
    `  ${k}/bare: throughput ratio ${(s[k].throughput / s.bare.throughput).toFixed(3)} (target >= 0.9); p99 ${ms(s[k].p99)} (target < 2ms), p99 ratio ${(s[k].p99 / s.bare.p99).toFixed(2)}; bare's server CPU per request / ${k}'s ${(s.bare.cpuPerRequest / s[k].cpuPerRequest).toFixed(3)} (the saturation ratio a CPU-bound server would reach on a quiet machine)`,
  );
}
console.log(
  `  served/go-bare: throughput ratio ${(s.served.throughput / s['go-bare'].throughput).toFixed(3)}; p99 ratio ${(s.served.p99 / s['go-bare'].p99).toFixed(2)}`,
);
console.log(
  `saturation (${CONCURRENCY} in flight): ${KINDS.map((k) => `${k} ${s[k].saturation.toFixed(0)}/s`).join(', ')}; ` +
    `served/bare ${(s.served.saturation / s.bare.saturation).toFixed(3)}, parse/bare ${(s.parse.saturation / s.bare.saturation).toFixed(3)}, served/parse ${(s.served.saturation / s.parse.saturation).toFixed(3)}, fetch/bare ${(s.fetch.saturation / s.bare.saturation).toFixed(3)}, ` +
    `served/go-bare ${(s.served.saturation / s['go-bare'].saturation).toFixed(3)}, bare/go-bare ${(s.bare.saturation / s['go-bare'].saturation).toFixed(3)}, ` +
    `deno-fetch/bare ${(s['deno-fetch'].saturation / s.bare.saturation).toFixed(3)}, deno-fetch/deno-bare ${(s['deno-fetch'].saturation / s['deno-bare'].saturation).toFixed(3)}`,
);
const timesUs = (x: number) => (Number.isFinite(x) ? `${(x * 1000).toFixed(0)} µs` : '-');
console.log(
  `at saturation, per request in the server (Node servers): ${KINDS.filter((k) => Number.isFinite(s[k].busyCpuPerRequest))
    .map(
      (k) =>
        `${k} CPU ${timesUs(s[k].busyCpuPerRequest)}, GC ${timesUs(s[k].busyGcPerRequest)} (${s[k].scavengesPer1000.toFixed(0)} scavenges per 1,000)`,
    )
    .join('; ')}`,
);
