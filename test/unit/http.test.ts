// The fetch adapter of node:http (shim/http.ts): a body over the limit is
// refused with 413 before the handler sees it, whether its size was declared
// (content-length) or not (chunked, read until it goes over); plain routes
// answer before the fetch handler, from method, path and headers.
import { request } from 'node:http';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { serveFetch } from '../../shim/http.ts';

const LIMIT = 1024;

/** POSTs `chunks` to the server, chunked (no content-length) unless `declared`. */
function post(port: number, chunks: string[], declared = false): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const total = chunks.reduce((n, c) => n + Buffer.byteLength(c), 0);
    const req = request(
      { host: '127.0.0.1', port, path: '/hook', method: 'POST', headers: declared ? { 'content-length': total } : {} },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    // The server may answer 413 and close while chunks are still going out.
    req.on('error', (error) => (String(error).includes('EPIPE') || String(error).includes('ECONNRESET') ? undefined : reject(error)));
    for (const c of chunks) req.write(c);
    req.end();
  });
}

test('a chunked body over the limit gets 413 in the served answer, and the handler is not called', async () => {
  let calls = 0;
  const server = await serveFetch(
    async (r) => {
      calls++;
      return new Response(`${(await r.text()).length}`);
    },
    '127.0.0.1:0',
    { maxBodyBytes: LIMIT, tooLarge: { contentType: 'application/json', body: '{"code":413}' } },
  );
  try {
    const under = await post(server.port, ['a'.repeat(600), 'b'.repeat(400)]);
    assert.equal(under, { status: 200, body: '1000' }, 'chunked, under the limit');
    assert.is(calls, 1);
    const over = await post(
      server.port,
      Array.from({ length: 8 }, () => 'c'.repeat(512)),
    );
    assert.is(over.status, 413, 'chunked, over the limit');
    assert.is(over.body, '{"code":413}');
    const declared = await post(server.port, ['d'.repeat(2 * LIMIT)], true);
    assert.is(declared.status, 413, 'declared over the limit');
    assert.is(calls, 1, 'the handler saw only the body under the limit');
  } finally {
    await server.close();
  }
});

/** One request; the answer's status, the headers named in `keep`, and the body. */
function call(port: number, method: string, path: string, headers: Record<string, string> = {}, keep = ['content-type']) {
  return new Promise<{ status: number; headers: Record<string, string>; body: string }>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: Object.fromEntries(keep.map((k) => [k, String(res.headers[k])])), body }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

test('a plain route answers from method, path and headers before the fetch handler; what it passes on reaches the handler', async () => {
  const seen: string[] = [];
  const server = await serveFetch(async (r) => new Response(`fetch ${new URL(r.url).pathname}`), '127.0.0.1:0', {
    plain: (method, path, headers) => {
      seen.push(`${method} ${path}`);
      return path === '/plain'
        ? { status: 203, headers: { 'content-type': 'text/x-plain', 'x-who': String(headers['x-who']) }, body: 'plain é\n' }
        : undefined;
    },
  });
  try {
    const plain = await call(server.port, 'GET', '/plain?q=1', { 'x-who': 'me' }, ['content-type', 'x-who', 'content-length']);
    assert.equal(plain, {
      status: 203,
      headers: { 'content-type': 'text/x-plain', 'x-who': 'me', 'content-length': '9' },
      body: 'plain é\n',
    });
    assert.equal(await call(server.port, 'HEAD', '/plain'), { status: 203, headers: { 'content-type': 'text/x-plain' }, body: '' });
    assert.equal(await call(server.port, 'GET', '/other'), {
      status: 200,
      headers: { 'content-type': 'text/plain;charset=UTF-8' },
      body: 'fetch /other',
    });
    assert.equal(seen, ['GET /plain', 'HEAD /plain', 'GET /other'], 'the path without its query');
  } finally {
    await server.close();
  }
});

test('with no fetch handler, what the plain route passes on is 404', async () => {
  const server = await serveFetch(undefined, '127.0.0.1:0', {
    plain: async (_method, path) =>
      path === '/metrics' ? { status: 200, headers: { 'content-type': 'text/plain' }, body: 'm 1\n' } : undefined,
  });
  try {
    assert.equal(await call(server.port, 'GET', '/metrics'), { status: 200, headers: { 'content-type': 'text/plain' }, body: 'm 1\n' });
    assert.equal(await call(server.port, 'GET', '/nothing'), {
      status: 404,
      headers: { 'content-type': 'text/plain' },
      body: 'not found\n',
    });
  } finally {
    await server.close();
  }
});

test.run();
