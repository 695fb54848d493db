// `spiceai-operator serve <handler>` through its real executable: refusals
// at start, HTTPS with mutual TLS (a client the CA did not certify is refused
// in the handshake), and the token check.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { connect } from 'node:tls';
import { createCA, issueLeaf } from '../../core/pki/index.ts';
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
    [
      ['workloads', '--listen', '0.0.0.0:8443'],
      /--listen 0\.0\.0\.0:8443: without --tls-cert\/--tls-key a hook is served on a loopback address only/,
    ],
    [['workloads', '--listen', 'nowhere'], /--listen: nowhere is not host:port/],
    [['workloads', '--tls-cert', '/x.crt'], /--tls-cert and --tls-key go together/],
    [['workloads', '--listen', '127.0.0.1:0', '--client-ca', '/x'], /--client-ca needs --tls-cert and --tls-key/],
    [['workloads', '--tls-cert', '/nonexistent.crt', '--tls-key', '/nonexistent.key'], /--tls-cert \/nonexistent\.crt: no such file/],
    [
      ['workloads', '--listen', '127.0.0.1:0', '--reload-seconds', 'often'],
      /--reload-seconds often: expected a whole number of seconds >= 0/,
    ],
  ];
  for (const [args, message] of cases) {
    const r = serve(args);
    assert.is(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.is(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, message);
  }
});

test("over mutual TLS: the operator's client certificate is served, a stranger's and none are refused in the handshake", async () => {
  const hook = await startNodeHook('network-policy', [
    '--tls-cert',
    files.serverCert,
    '--tls-key',
    files.serverKey,
    '--client-ca',
    files.caCert,
  ]);
  try {
    assert.match(hook.url, /^https:\/\/127\.0\.0\.1:\d+$/);
    const ok = await rawRequest(hook.url, 'GET', '/healthz', {}, undefined, {
      ca: files.pem.ca,
      cert: files.pem.clientCert,
      key: files.pem.clientKey,
    });
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

/** The fingerprint of the certificate the server presents to a client with this identity, or the error. */
function served(port: number, tls: { ca: string; cert?: string; key?: string }): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port, ...tls }, () => {
      // TLS 1.3: the server checks the client's certificate after the client's side completes; a request tells.
      socket.write('GET /healthz HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n');
    });
    let text = '';
    socket.on('data', (c) => (text += c));
    socket.on('end', () =>
      resolve(/^HTTP\/1\.1 200/.test(text) ? socket.getPeerCertificate().fingerprint256 : `answered ${text.slice(0, 20)}`),
    );
    socket.on('error', (e) => resolve(`refused: ${e.message}`));
  });
}

test('a renewed certificate and CA in the files (a mounted Secret updated by the kubelet) are served without a restart', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'serve-reload-'));
  const paths = { cert: join(dir, 'tls.crt'), key: join(dir, 'tls.key'), ca: join(dir, 'ca.crt') };
  copyFileSync(files.serverCert, paths.cert);
  copyFileSync(files.serverKey, paths.key);
  copyFileSync(files.caCert, paths.ca);
  const hook = await startNodeHook('workloads', [
    '--tls-cert',
    paths.cert,
    '--tls-key',
    paths.key,
    '--client-ca',
    paths.ca,
    '--reload-seconds',
    '1',
  ]);
  try {
    const oldClient = { ca: files.pem.ca, cert: files.pem.clientCert, key: files.pem.clientKey };
    const first = await served(hook.port, oldClient);
    assert.match(first, /^[0-9A-F:]{95}$/, first);
    const ca = await createCA({ commonName: 'renewed-ca', validityDays: 30 });
    const leaf = await issueLeaf({ ca, commonName: 'hook', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'], validityDays: 30 });
    const client = await issueLeaf({
      ca,
      commonName: 'spiceai-operator',
      dnsNames: ['spiceai-operator'],
      ipAddresses: [],
      validityDays: 30,
    });
    writeFileSync(paths.ca, ca.certPem);
    writeFileSync(paths.cert, leaf.certPem);
    writeFileSync(paths.key, leaf.keyPem!);
    const newClient = { ca: ca.certPem, cert: client.certPem, key: client.keyPem! };
    let now = '';
    for (let i = 0; i < 100 && !/^[0-9A-F:]{95}$/.test(now); i++) {
      await new Promise((r) => setTimeout(r, 200));
      now = await served(hook.port, newClient);
    }
    assert.match(now, /^[0-9A-F:]{95}$/, `the new certificate and client CA are served: ${now}\n${hook.output()}`);
    assert.is.not(now, first);
    assert.not.match(
      await served(hook.port, { ca: ca.certPem, cert: files.pem.clientCert, key: files.pem.clientKey }),
      /^[0-9A-F:]{95}$/,
      'a client of the old CA is refused',
    );
    assert.not.match(await served(hook.port, { ca: ca.certPem }), /^[0-9A-F:]{95}$/, 'no client certificate is refused');
    assert.match(hook.output(), /"hook certificate reloaded"/);
    assert.is(hook.child.exitCode, null, 'the same process');
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
