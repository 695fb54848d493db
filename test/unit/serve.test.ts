// `spiceai-operator serve <handler>` through its real executable: refusals
// at start, HTTPS with mutual TLS (a client the CA did not certify is refused
// in the handshake), and the token check.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { rawRequest, startNodeHook } from '../hooks/servers.ts';
import { hookTlsFiles, type HookTlsFiles } from '../hooks/tls-files.ts';

const bin = new URL('../../bin/spiceai-operator.mjs', import.meta.url).pathname;
const serve = (args: string[]) => spawnSync(process.execPath, [bin, 'serve', ...args], { encoding: 'utf8', timeout: 30_000 });
let files: HookTlsFiles;

test.before(async () => {
  files = await hookTlsFiles();
});

test('serve refuses what cannot work, in one line, before listening', () => {
  const cases: [string[], RegExp][] = [
    [[], /expected one handler to serve \(workloads, network-policy, cluster, pki, pod-monitor\)/],
    [['injector'], /unknown handler injector \(known: workloads/],
    [['workloads', '--listen', '0.0.0.0:8443'], /--listen 0\.0\.0\.0:8443: without --tls-cert\/--tls-key a hook is served on a loopback address only/],
    [['workloads', '--listen', 'nowhere'], /--listen: nowhere is not host:port/],
    [['workloads', '--tls-cert', '/x.crt'], /--tls-cert and --tls-key go together/],
    [['workloads', '--listen', '127.0.0.1:0', '--client-ca', '/x'], /--client-ca needs --tls-cert and --tls-key/],
    [['workloads', '--tls-cert', '/nonexistent.crt', '--tls-key', '/nonexistent.key'], /--tls-cert \/nonexistent\.crt: no such file/],
  ];
  for (const [args, message] of cases) {
    const r = serve(args);
    assert.is(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.is(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, message);
  }
});

test('over mutual TLS: the operator\'s client certificate is served, a stranger\'s and none are refused in the handshake', async () => {
  const hook = await startNodeHook('network-policy', ['--tls-cert', files.serverCert, '--tls-key', files.serverKey, '--client-ca', files.caCert]);
  try {
    assert.match(hook.url, /^https:\/\/127\.0\.0\.1:\d+$/);
    const ok = await rawRequest(hook.url, 'GET', '/healthz', {}, undefined, { ca: files.pem.ca, cert: files.pem.clientCert, key: files.pem.clientKey });
    assert.is(ok.status, 200);
    assert.is(JSON.parse(ok.body.toString()).handler, 'network-policy');
    for (const [what, tls] of [
      ['no client certificate', { ca: files.pem.ca }],
      ['a certificate of another CA', { ca: files.pem.ca, cert: files.pem.otherClientCert, key: files.pem.otherClientKey }],
    ] as const) {
      const refused = await rawRequest(hook.url, 'GET', '/healthz', {}, undefined, tls).then(
        (r) => `answered ${r.status}`,
        (e: Error) => e.message,
      );
      assert.not.match(refused, /^answered/, `${what}: ${refused}`);
    }
  } finally {
    await hook.stop();
  }
});

test('with --token-file, a request without the token gets 401 (JSON) and the handler is not reached', async () => {
  const tokenFile = join(files.dir, 'token');
  writeFileSync(tokenFile, 's3cret-token\n');
  const hook = await startNodeHook('workloads', ['--token-file', tokenFile]);
  try {
    const none = await rawRequest(hook.url, 'GET', '/healthz', {});
    assert.is(none.status, 401);
    assert.is(JSON.parse(none.body.toString()).reason, 'Unauthorized');
    const wrong = await rawRequest(hook.url, 'GET', '/healthz', { authorization: 'Bearer s3cret-tokem' });
    assert.is(wrong.status, 401);
    const right = await rawRequest(hook.url, 'GET', '/healthz', { authorization: 'Bearer s3cret-token' });
    assert.is(right.status, 200);
  } finally {
    await hook.stop();
  }
});

test.run();
