// Reading a watch (shim/kube/watch-stream.ts, through KubeClient.watch)
// against a loopback HTTP server that answers as the API server does:
// newline-delimited events split anywhere across chunks, BOOKMARKs, an
// ERROR event with a Status, an answer that is not 2xx, an undecodable line,
// a connection cut mid-stream, and an abort.
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { KubeConfig } from '@kubernetes/client-node';
import { ApiError, KubeClient, type WatchEvent } from '../../shim/kube/client.ts';

/** What the server does with the next watch request. */
let answer: (res: ServerResponse) => void = (res) => res.end();
const queries: string[] = [];
const server = createServer((req, res) => {
  queries.push(req.url ?? '');
  answer(res);
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const kc = new KubeConfig();
kc.loadFromOptions({
  clusters: [{ name: 'c', server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, skipTLSVerify: true }],
  users: [{ name: 'u', token: 't' }],
  contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
  currentContext: 'x',
});
const requests: string[] = [];
const client = new KubeClient(kc, { onRequest: (r) => requests.push(`${r.verb} ${r.kind} ${r.code}`) });

const line = (type: string, object: unknown) => `${JSON.stringify({ type, object })}\n`;
const pod = (name: string, rv: string) => ({ metadata: { name, namespace: 'apps', resourceVersion: rv } });
const watchPods = (onEvent: (e: WatchEvent) => void, signal = new AbortController().signal) =>
  client.watch(
    { apiVersion: 'v1', kind: 'Pod' },
    { namespace: 'apps', labelSelector: 'a=b', resourceVersion: '5', timeoutSeconds: 30, allowWatchBookmarks: true },
    onEvent,
    signal,
  );

test('events arrive in order, whole, typed, however the stream is cut; BOOKMARKs pass through; the end of the stream resolves', async () => {
  const text =
    line('ADDED', pod('a', '6')) +
    line('BOOKMARK', { metadata: { resourceVersion: '7' } }) +
    line('MODIFIED', pod('a', '8')) +
    line('DELETED', pod('a', '9')).trimEnd();
  answer = (res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    // cut in the middle of lines, and the last one without its newline
    for (let i = 0; i < text.length; i += 7) res.write(text.slice(i, i + 7));
    res.end();
  };
  const events: WatchEvent[] = [];
  await watchPods((e) => events.push(e));
  assert.equal(
    events.map((e) => [e.type, e.object.metadata.resourceVersion]),
    [
      ['ADDED', '6'],
      ['BOOKMARK', '7'],
      ['MODIFIED', '8'],
      ['DELETED', '9'],
    ],
  );
  assert.equal([events[0]!.object.apiVersion, events[0]!.object.kind], ['v1', 'Pod'], 'objects typed from the request');
  assert.is(events[1]!.object.kind, undefined, 'a BOOKMARK is not an object');
  const q = new URL(queries.at(-1)!, 'http://x');
  assert.equal(Object.fromEntries(q.searchParams), {
    watch: 'true',
    resourceVersion: '5',
    allowWatchBookmarks: 'true',
    timeoutSeconds: '30',
    labelSelector: 'a=b',
  });
  assert.is(q.pathname, '/api/v1/namespaces/apps/pods');
  assert.is(requests.at(-1), 'watch Pod 200');
});

test('an ERROR event is delivered, then ends the watch with its Status as an ApiError', async () => {
  answer = (res) => {
    res.writeHead(200);
    res.write(line('ADDED', pod('a', '6')));
    res.write(line('ERROR', { kind: 'Status', code: 410, reason: 'Expired', message: 'too old resource version: 5 (9)' }));
    res.write(line('ADDED', pod('b', '10'))); // never delivered
    res.end();
  };
  const events: string[] = [];
  const error = await watchPods((e) => events.push(e.type)).then(
    () => undefined,
    (e) => e,
  );
  assert.instance(error, ApiError);
  assert.equal([error.status, error.reason, error.message, error.verb], [410, 'Expired', 'too old resource version: 5 (9)', 'watch']);
  assert.equal(events, ['ADDED', 'ERROR']);
});

test('a non-2xx answer, an undecodable line, a cut connection and a throwing onEvent each end the watch with an error', async () => {
  answer = (res) => {
    res.writeHead(403, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ kind: 'Status', code: 403, reason: 'Forbidden', message: 'pods is forbidden' }));
  };
  const forbidden = await watchPods(() => {}).then(
    () => undefined,
    (e) => e,
  );
  assert.equal([forbidden?.status, forbidden?.reason], [403, 'Forbidden']);
  assert.is(requests.at(-1), 'watch Pod 403');

  answer = (res) => {
    res.writeHead(200);
    res.end('{not json\n');
  };
  assert.match(
    (
      await watchPods(() => {}).then(
        () => undefined,
        (e) => e,
      )
    )?.message,
    /watch Pod: undecodable event \(9 bytes\)/,
  );

  answer = (res) => {
    res.writeHead(200);
    res.write(line('ADDED', pod('a', '6')));
    setTimeout(() => res.socket?.destroy(), 20);
  };
  const seen: string[] = [];
  const cut = await watchPods((e) => seen.push(e.type)).then(
    () => undefined,
    (e) => e,
  );
  assert.ok(cut instanceof Error, 'a connection closed mid-stream is an error, not an end');
  assert.equal(seen, ['ADDED']);

  answer = (res) => {
    res.writeHead(200);
    res.end(line('ADDED', pod('a', '6')) + line('ADDED', pod('b', '7')));
  };
  const mine = new Error('handler broke');
  assert.is(
    await watchPods(() => {
      throw mine;
    }).then(
      () => undefined,
      (e) => e,
    ),
    mine,
  );
});

test('an abort ends the watch quietly, events stop', async () => {
  let response: ServerResponse | undefined;
  answer = (res) => {
    res.writeHead(200);
    res.write(line('ADDED', pod('a', '6')));
    response = res;
  };
  const abort = new AbortController();
  const events: string[] = [];
  const watching = watchPods((e) => {
    events.push(e.object.metadata.name);
    abort.abort();
  }, abort.signal);
  assert.is(await watching, undefined);
  response?.end(line('ADDED', pod('b', '7')));
  assert.equal(events, ['a']);
  assert.is(await watchPods(() => {}, abort.signal), undefined, 'an aborted signal never opens a watch');
});

test.after(() => {
  client.close();
  server.closeAllConnections();
  server.close();
});

test.run();
