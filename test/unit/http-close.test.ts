// The operator's servers stop on SIGTERM even when a client holds a connection
// open without a request: the API server keeps one to the webhook, and
// server.close() alone waited for it forever (found by test/integration/image.test.ts:
// the containerised operator never exited after SIGTERM once its webhook had
// been called). Requests in flight still get the grace period to finish.
import { connect as tcpConnect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { request } from 'node:https';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createCA, issueLeaf } from '../../core/pki/index.ts';
import { serveFetch, serveFetchTls } from '../../shim/http.ts';

const ca = await createCA({ commonName: 'close test CA' });
const leaf = await issueLeaf({ ca, commonName: 'localhost', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });
const certificate = { certPem: leaf.certPem, keyPem: leaf.keyPem! };
const within = <T>(ms: number, p: Promise<T>) =>
  Promise.race([p.then(() => 'closed'), new Promise((r) => setTimeout(() => r(`still open after ${ms} ms`), ms))]);

test('close() ends a TLS connection that never sent a request', async () => {
  const server = await serveFetchTls(async () => new Response('ok'), '127.0.0.1:0', certificate);
  const socket = tlsConnect({ host: '127.0.0.1', port: server.port, ca: ca.certPem });
  await new Promise((resolve) => socket.once('secureConnect', resolve));
  assert.is(await within(3000, server.close(100)), 'closed');
  socket.destroy();
});

test('close() ends a TCP connection that never finished its TLS handshake, and a plain HTTP one with half a request', async () => {
  const tls = await serveFetchTls(async () => new Response('ok'), '127.0.0.1:0', certificate);
  const raw = tcpConnect(tls.port, '127.0.0.1');
  await new Promise((resolve) => raw.once('connect', resolve));
  assert.is(await within(3000, tls.close(100)), 'closed');
  raw.destroy();
  const http = await serveFetch(async () => new Response('ok'), '127.0.0.1:0');
  const half = tcpConnect(http.port, '127.0.0.1');
  await new Promise((resolve) => half.once('connect', resolve));
  half.write('GET /ready HTTP/1.1\r\nHost: x\r\n');
  assert.is(await within(3000, http.close(100)), 'closed');
  half.destroy();
});

test('a request in flight when close() starts is answered within the grace period', async () => {
  let release!: () => void;
  const started = new Promise<void>((resolve) => {
    release = resolve;
  });
  let finish!: () => void;
  const server = await serveFetchTls(
    async () => {
      release();
      await new Promise<void>((resolve) => (finish = resolve));
      return new Response('late but whole');
    },
    '127.0.0.1:0',
    certificate,
  );
  const answer = new Promise<string>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: server.port, path: '/', ca: ca.certPem }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve(body));
    });
    req.on('error', reject);
    req.end();
  });
  await started;
  const closed = server.close(5000);
  setTimeout(() => finish(), 200);
  assert.is(await answer, 'late but whole');
  assert.is(await within(3000, closed), 'closed');
});

test.run();
