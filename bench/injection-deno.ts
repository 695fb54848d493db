// The injector's fetch route on Deno, for bench/injection.ts (kinds deno-fetch and deno-bare): the
// edge path as an edge runtime runs it. Deno.serve on loopback, over plain HTTP: Deno.serve's own TLS
// (cert and key given to it) leaves Nagle's algorithm on for the accepted connections (hyper does not
// set TCP_NODELAY), so with the client's delayed ACK every request waits about 40 ms on loopback;
// measured 91 requests/s with 4 in flight against 12,900 over plain HTTP. A TLS proxy in front is
// how Deno would be served in a cluster anyway. Prints {"port":N} and serves until killed:
//  - fetch: functions/injection's fetch handler unchanged, with the bench's in-memory ConfigMap and
//    the same injector settings as bench/injection.ts's Node servers; each admission builds its
//    JSON log line as the operator's logger would, and discards it;
//  - bare: a constant AdmissionReview (the bytes the injector answers, given base64 as an argument).
//
//   deno run --allow-net=127.0.0.1 bench/injection-deno.ts fetch|bare [ANSWER_B64]
import { createInjectionHandler } from '../functions/injection/index.ts';
import { decodeBase64 } from '../core/base64.ts';

declare const Deno: {
  args: string[];
  serve(
    options: { hostname: string; port: number; onListen(addr: { port: number }): void },
    handler: (request: Request) => Response | Promise<Response>,
  ): unknown;
};

const [kind, answerB64] = Deno.args;
const configMaps = new Map([['shop/shop-spicepod', { data: { 'spicepod.yaml': 'version: v1\nkind: Spicepod\nname: shop\n' } }]]);

let handler: (request: Request) => Response | Promise<Response>;
if (kind === 'fetch') {
  handler = createInjectionHandler({
    defaults: { image: 'spiceai/spiceai:latest-models', imagePullPolicy: 'IfNotPresent' },
    operatorNamespace: 'spiceai-operator-system',
    telemetryProperties: {},
    getConfigMap: async (namespace, name) => configMaps.get(`${namespace}/${name}`),
    onAdmission: (a) => {
      JSON.stringify({ level: 'info', time: new Date().toISOString(), component: 'sidecar-injector', msg: 'sidecar injected', ...a });
    },
  });
} else if (kind === 'bare') {
  const answer = decodeBase64(answerB64 ?? '') ?? '';
  handler = async (request) => {
    await request.arrayBuffer();
    return new Response(answer, { headers: { 'content-type': 'application/json' } });
  };
} else {
  throw new Error(`expected fetch or bare, not ${kind}`);
}

Deno.serve({ hostname: '127.0.0.1', port: 0, onListen: ({ port }) => console.log(JSON.stringify({ port })) }, handler);
