// The fetch adapter of node:http (shim/http.ts): a body over the limit is
// refused with 413 before the handler sees it, whether its size was declared
// (content-length) or not (chunked, read until it goes over).
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

test.run();
