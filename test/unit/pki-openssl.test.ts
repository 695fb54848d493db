// core/pki checked by independent implementations: the openssl CLI (chain
// verification with -x509_strict, text dumps, key and CSR parsing), real
// mutual-TLS handshakes through node:tls (OpenSSL), and a rustls client (Deno's
// TLS, the same verifier family spiced uses) against a node:tls server.
import { spawn, spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tls from 'node:tls';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  createCA,
  createCSR,
  issueLeaf,
  keyMatchesCertificate,
  parseCertificate,
  verifyIssuedBy,
  type CertificateAndKey,
} from '../../core/pki/index.ts';
import { nameDer, readCertificate } from '../../core/pki/certificate.ts';

const dir = mkdtempSync(join(tmpdir(), 'pki-openssl-'));
const root = new URL('../../', import.meta.url).pathname;

function write(name: string, content: string): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

function openssl(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function opensslOk(args: string[]): string {
  const r = openssl(args);
  assert.is(r.status, 0, `openssl ${args.join(' ')} failed:\n${r.stderr}`);
  return r.stdout;
}

const ca = await createCA({ commonName: 'Spice.ai cluster CA', organizationalUnit: 'spiceai-operator' });
const otherCa = await createCA({ commonName: 'Spice.ai cluster CA', organizationalUnit: 'spiceai-operator' });
const nodeA = await issueLeaf({
  ca,
  commonName: 'node-0',
  dnsNames: ['node-0.svc.example', 'localhost'],
  ipAddresses: ['127.0.0.1', 'fd00::1'],
});
const nodeB = await issueLeaf({ ca, commonName: 'node-1', dnsNames: ['node-1.svc.example'], ipAddresses: [] });
const foreign = await issueLeaf({ ca: otherCa, commonName: 'node-1', dnsNames: ['node-1.svc.example'], ipAddresses: [] });
write('ca.crt', ca.certPem);
write('other-ca.crt', otherCa.certPem);
write('ca.key', ca.keyPem);
write('a.crt', nodeA.certPem);
write('a.key', nodeA.keyPem!);
write('foreign.crt', foreign.certPem);

test.after(() => rmSync(dir, { recursive: true, force: true }));

test('openssl is OpenSSL 3', () => {
  assert.match(opensslOk(['version']), /^OpenSSL 3\./);
});

// ---- openssl verify / x509 / pkey / req ----------------------------------------

test('openssl verify (-x509_strict, both TLS purposes) accepts our leaves and refuses a leaf of another CA', () => {
  for (const purpose of ['sslserver', 'sslclient']) {
    assert.match(opensslOk(['verify', '-x509_strict', '-purpose', purpose, '-CAfile', 'ca.crt', 'a.crt']), /a\.crt: OK/);
  }
  const r = openssl(['verify', '-x509_strict', '-CAfile', 'ca.crt', 'foreign.crt']);
  assert.is.not(r.status, 0);
  assert.match(r.stdout + r.stderr, /unable to get local issuer certificate|certificate signature failure/);
});

test('openssl verify: a bundle of both CAs (rotation) verifies both leaves; a CA renewed with the same key verifies the old leaves', async () => {
  write('bundle.crt', otherCa.certPem + ca.certPem);
  assert.match(opensslOk(['verify', '-CAfile', 'bundle.crt', 'foreign.crt']), /OK/);
  assert.match(opensslOk(['verify', '-CAfile', 'bundle.crt', 'a.crt']), /OK/);
  const renewed = await createCA({ commonName: 'Spice.ai cluster CA', organizationalUnit: 'spiceai-operator', keyPem: ca.keyPem });
  write('renewed.crt', renewed.certPem);
  assert.match(opensslOk(['verify', '-x509_strict', '-CAfile', 'renewed.crt', 'a.crt']), /a\.crt: OK/);
});

test('openssl x509 -text shows the CA and leaf extensions', async () => {
  const caText = opensslOk(['x509', '-in', 'ca.crt', '-noout', '-text']);
  assert.match(caText, /X509v3 Basic Constraints: critical\s+CA:TRUE, pathlen:0/);
  assert.match(caText, /X509v3 Key Usage: critical\s+Digital Signature, Certificate Sign, CRL Sign/);
  assert.match(caText, /Subject: CN = Spice.ai cluster CA, OU = spiceai-operator/);
  assert.match(caText, /Signature Algorithm: ecdsa-with-SHA256/);
  assert.match(caText, /NIST CURVE: P-256/);
  assert.match(caText, /X509v3 Subject Key Identifier/);

  const leafText = opensslOk(['x509', '-in', 'a.crt', '-noout', '-text']);
  assert.match(leafText, /X509v3 Basic Constraints: critical\s+CA:FALSE/);
  assert.match(leafText, /X509v3 Key Usage: critical\s+Digital Signature, Key Encipherment/);
  assert.match(leafText, /X509v3 Extended Key Usage: \s*TLS Web Server Authentication, TLS Web Client Authentication/);
  assert.match(leafText, /DNS:node-0\.svc\.example, DNS:localhost, IP Address:127\.0\.0\.1, IP Address:FD00:0:0:0:0:0:0:1/);
  assert.match(leafText, /Issuer: CN = Spice.ai cluster CA, OU = spiceai-operator/);
  assert.match(leafText, /Subject: CN = node-0/);
  assert.match(leafText, /X509v3 Authority Key Identifier/);
  const issuer = opensslOk(['x509', '-in', 'a.crt', '-noout', '-issuer']).replace(/^issuer=/, '');
  const subject = opensslOk(['x509', '-in', 'ca.crt', '-noout', '-subject']).replace(/^subject=/, '');
  assert.is(issuer, subject);
  // Serial, dates and fingerprint agree with parseCertificate.
  const dates = opensslOk(['x509', '-in', 'a.crt', '-noout', '-serial', '-fingerprint', '-sha256', '-enddate']);
  const info = await parseCertificate(nodeA.certPem);
  assert.match(dates, new RegExp(`serial=${info.serialHex.toUpperCase()}`));
  assert.ok(dates.replace(/:/g, '').toLowerCase().includes(info.fingerprintSha256));
  assert.is(new Date(/notAfter=(.+)/.exec(dates)![1]!).getTime(), info.notAfter.getTime());
});

test("openssl pkey reads the PKCS#8 keys, and their public halves are the certificates'", async () => {
  for (const [key, cert] of [
    ['a.key', nodeA.certPem],
    ['ca.key', ca.certPem],
  ] as const) {
    assert.match(opensslOk(['pkey', '-in', key, '-noout', '-text']), /ASN1 OID: prime256v1/);
    assert.match(opensslOk(['pkey', '-in', key, '-check', '-noout']), /Key is valid/);
    assert.is(opensslOk(['pkey', '-in', key, '-pubout']), (await parseCertificate(cert)).publicKeyPem);
  }
});

test('node:crypto X509Certificate (OpenSSL) matches the SANs: DNS, IPv4 and IPv6', () => {
  const x = new X509Certificate(nodeA.certPem);
  assert.is(x.checkHost('node-0.svc.example'), 'node-0.svc.example');
  assert.is(x.checkHost('node-9.svc.example'), undefined);
  assert.is(x.checkIP('127.0.0.1'), '127.0.0.1');
  assert.ok(x.checkIP('fd00::1'));
  assert.is(x.checkIP('10.0.0.1'), undefined);
  assert.ok(x.checkIssued(new X509Certificate(ca.certPem)));
  assert.ok(x.verify(new X509Certificate(ca.certPem).publicKey));
  assert.not.ok(x.verify(new X509Certificate(otherCa.certPem).publicKey));
});

test("CSRs: openssl verifies ours; we certify openssl's (and openssl verifies the result)", async () => {
  const ours = await createCSR({ commonName: 'node-2', dnsNames: ['node-2.svc.example'], ipAddresses: ['10.1.2.3'] });
  write('ours.csr', ours.csrPem);
  const req = openssl(['req', '-in', 'ours.csr', '-noout', '-verify', '-text']);
  assert.is(req.status, 0, req.stderr);
  assert.match(req.stdout + req.stderr, /verify OK/);
  assert.match(req.stdout, /DNS:node-2\.svc\.example, IP Address:10\.1\.2\.3/);

  opensslOk([
    'req',
    '-new',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-keyout',
    'theirs.key',
    '-subj',
    '/CN=ignored',
    '-out',
    'theirs.csr',
  ]);
  const issued = await issueLeaf({
    ca,
    commonName: 'node-3',
    dnsNames: ['node-3.svc.example'],
    ipAddresses: [],
    csrPem: readFileSync(join(dir, 'theirs.csr'), 'utf8'),
  });
  write('theirs.crt', issued.certPem);
  assert.match(opensslOk(['verify', '-x509_strict', '-CAfile', 'ca.crt', 'theirs.crt']), /OK/);
  assert.ok(await keyMatchesCertificate(readFileSync(join(dir, 'theirs.key'), 'utf8'), issued.certPem));
});

// ---- a CA brought by the user, made by openssl -------------------------------------

const CA_EXT = `[v3]\nbasicConstraints = critical, CA:TRUE\nkeyUsage = critical, keyCertSign, cRLSign\nsubjectKeyIdentifier = hash\n`;

for (const [label, keygen] of [
  ['EC P-256, SEC1 "EC PRIVATE KEY"', ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'user.key']],
  ['EC P-384, PKCS#8', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-384', '-out', 'user.key']],
  ['RSA 2048, PKCS#1 "RSA PRIVATE KEY"', ['genrsa', '-traditional', '-out', 'user.key', '2048']],
] as const) {
  test(`a user CA from openssl (${label}, PrintableString and multi-valued RDN subject) signs leaves that verify`, async () => {
    opensslOk([...keygen]);
    // string_mask=default: PrintableString where possible, not UTF8String as ours.
    write('user.cnf', `[req]\ndistinguished_name = dn\nstring_mask = default\n[dn]\n${CA_EXT}`);
    opensslOk([
      'req',
      '-x509',
      '-new',
      '-key',
      'user.key',
      '-days',
      '30',
      '-multivalue-rdn',
      '-subj',
      '/C=US/O=Example Corp+OU=Platform/CN=Customer Root',
      '-config',
      'user.cnf',
      '-extensions',
      'v3',
      '-out',
      'user.crt',
    ]);
    const userCa: CertificateAndKey = {
      certPem: readFileSync(join(dir, 'user.crt'), 'utf8'),
      keyPem: readFileSync(join(dir, 'user.key'), 'utf8'),
    };
    assert.ok(await keyMatchesCertificate(userCa.keyPem, userCa.certPem));
    const issued = await issueLeaf({ ca: userCa, commonName: 'node-0', dnsNames: ['node-0.svc.example'], ipAddresses: ['127.0.0.1'] });
    write('user-leaf.crt', issued.certPem);
    assert.match(opensslOk(['verify', '-x509_strict', '-purpose', 'sslserver', '-CAfile', 'user.crt', 'user-leaf.crt']), /OK/);
    assert.equal(nameDer(readCertificate(issued.certPem).cert.issuer), nameDer(readCertificate(userCa.certPem).cert.subject));
    const caInfo = await parseCertificate(userCa.certPem);
    assert.match(caInfo.subject, /^C=US, (O=Example Corp\+OU=Platform|OU=Platform\+O=Example Corp), CN=Customer Root$/);
    assert.is((await parseCertificate(issued.certPem)).issuer, caInfo.subject);
    assert.ok(await verifyIssuedBy(issued.certPem, userCa.certPem));
    // The leaf never outlives the 30-day CA.
    assert.is((await parseCertificate(issued.certPem)).notAfter.getTime(), caInfo.notAfter.getTime());
  });
}

// ---- mutual TLS through node:tls ---------------------------------------------------

interface Server {
  port: number;
  accepted: string[];
  clientErrors: string[];
  close(): Promise<void>;
}

async function startServer(identity: { certPem: string; keyPem?: string }, caPem: string): Promise<Server> {
  const accepted: string[] = [];
  const clientErrors: string[] = [];
  const server = tls.createServer({ key: identity.keyPem, cert: identity.certPem, ca: caPem, requestCert: true, rejectUnauthorized: true });
  server.on('secureConnection', (socket) => {
    const peer = socket.getPeerCertificate();
    accepted.push(String(peer.subject?.CN));
    socket.once('data', (data) => socket.end(`pong from node-0 to ${peer.subject?.CN}: ${data}`));
    socket.on('error', () => {});
  });
  // A client certificate that fails verification is dropped by Node after the
  // handshake ("socket hang up"); the reason is on the socket.
  server.on('tlsClientError', (error, socket) => clientErrors.push(`${error.message} ${String(socket.authorizationError ?? '')}`.trim()));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return { port, accepted, clientErrors, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

interface ClientResult {
  data: string;
  error?: string;
  checkedHost?: string;
}

function connect(port: number, options: tls.ConnectionOptions): Promise<ClientResult> {
  return new Promise((resolve) => {
    const result: ClientResult = { data: '' };
    const socket = tls.connect({
      host: '127.0.0.1',
      port,
      ...options,
      checkServerIdentity: (host, cert) => {
        result.checkedHost = host;
        return tls.checkServerIdentity(host, cert);
      },
    });
    socket.on('secureConnect', () => socket.write('ping'));
    socket.on('data', (d) => (result.data += d.toString()));
    socket.on('error', (e: Error & { code?: string }) => (result.error = `${e.code ?? ''} ${e.message}`));
    socket.on('close', () => resolve(result));
  });
}

const clientB = { ca: ca.certPem, cert: nodeB.certPem, key: nodeB.keyPem! };

test('mTLS: node B connects to node A by its DNS SAN (hostname verified) and data flows both ways, TLS 1.3 and 1.2', async () => {
  const server = await startServer(nodeA, ca.certPem);
  try {
    for (const maxVersion of ['TLSv1.3', 'TLSv1.2'] as const) {
      const r = await connect(server.port, { ...clientB, servername: 'node-0.svc.example', maxVersion });
      assert.is(r.error, undefined);
      assert.is(r.checkedHost, 'node-0.svc.example');
      assert.is(r.data, 'pong from node-0 to node-1: ping');
    }
    assert.equal(server.accepted, ['node-1', 'node-1']);
    // By IP: no SNI, the IP SAN is checked.
    const byIp = await connect(server.port, { ...clientB });
    assert.is(byIp.error, undefined);
    assert.is(byIp.checkedHost, '127.0.0.1');
    assert.is(byIp.data, 'pong from node-0 to node-1: ping');
  } finally {
    await server.close();
  }
});

test('mTLS: a name that is not among the SANs is refused by the client', async () => {
  const server = await startServer(nodeA, ca.certPem);
  try {
    const r = await connect(server.port, { ...clientB, servername: 'node-7.svc.example' });
    assert.match(r.error ?? '', /ERR_TLS_CERT_ALTNAME_INVALID/);
    assert.is(r.data, '');
  } finally {
    await server.close();
  }
});

test('mTLS: a client without a certificate is refused', async () => {
  const server = await startServer(nodeA, ca.certPem);
  try {
    const r = await connect(server.port, { ca: ca.certPem, servername: 'node-0.svc.example' });
    assert.is(r.data, '');
    assert.ok(r.error, 'the client sees the handshake fail');
    assert.equal(server.accepted, []);
    assert.match(server.clientErrors.join('\n'), /peer did not return a certificate|certificate required/i);
  } finally {
    await server.close();
  }
});

test('mTLS: a client whose certificate comes from another CA is refused', async () => {
  const server = await startServer(nodeA, ca.certPem);
  try {
    const r = await connect(server.port, { ca: ca.certPem, cert: foreign.certPem, key: foreign.keyPem!, servername: 'node-0.svc.example' });
    assert.is(r.data, '', 'no data reaches a client the server refused');
    assert.equal(server.accepted, []);
    assert.match(
      server.clientErrors.join('\n'),
      /UNABLE_TO_GET_ISSUER_CERT_LOCALLY|UNABLE_TO_VERIFY_LEAF_SIGNATURE|CERT_SIGNATURE_FAILURE/,
    );
  } finally {
    await server.close();
  }
});

test('mTLS: a client trusting another CA refuses the server; trusting a bundle of both (rotation) accepts it', async () => {
  const server = await startServer(nodeA, ca.certPem);
  try {
    const r = await connect(server.port, { ...clientB, ca: otherCa.certPem, servername: 'node-0.svc.example' });
    // Same CA name, different key: OpenSSL reports it as an untrusted self-signed chain or an unverifiable leaf.
    assert.match(r.error ?? '', /UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_GET_ISSUER_CERT_LOCALLY/);
    assert.is(r.data, '');
    assert.equal(server.accepted, []);
    const rotated = await connect(server.port, { ...clientB, ca: otherCa.certPem + ca.certPem, servername: 'node-0.svc.example' });
    assert.is(rotated.error, undefined);
    assert.is(rotated.data, 'pong from node-0 to node-1: ping');
  } finally {
    await server.close();
  }
});

// ---- rustls (Deno) as the mTLS client ------------------------------------------------

function denoClient(
  port: number,
  hostname: string,
  caPem: string,
  client: { certPem: string; keyPem?: string },
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const script = `
    const conn = await Deno.connectTls({ hostname: ${JSON.stringify(hostname)}, port: ${port}, caCerts: [Deno.env.get('CA')], cert: Deno.env.get('CERT'), key: Deno.env.get('KEY') });
    await conn.write(new TextEncoder().encode('ping'));
    const buf = new Uint8Array(256);
    let text = '';
    for (;;) { const n = await conn.read(buf); if (n === null) break; text += new TextDecoder().decode(buf.subarray(0, n)); }
    console.log(text);`;
  const env = {
    ...process.env,
    DENO_DIR: join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'spiceai-operator', 'deno'),
    NO_COLOR: '1',
    CA: caPem,
    CERT: client.certPem,
    KEY: client.keyPem ?? '',
  };
  // Asynchronous: the node:tls server runs in this process's event loop.
  return new Promise((resolve) => {
    const child = spawn(join(root, 'node_modules', '.bin', 'deno'), ['eval', script], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

test('rustls (Deno.connectTls) verifies our server certificate by IP and DNS SAN and presents our client certificate', async () => {
  const server = await startServer(nodeA, ca.certPem);
  try {
    for (const host of ['127.0.0.1', 'localhost']) {
      const r = await denoClient(server.port, host, ca.certPem, nodeB);
      assert.is(r.status, 0, `deno client to ${host} failed:\n${r.stderr}`);
      assert.is(r.stdout.trim(), 'pong from node-0 to node-1: ping');
    }
    const refused = await denoClient(server.port, '127.0.0.1', otherCa.certPem, nodeB);
    assert.is.not(refused.status, 0);
    assert.match(refused.stderr, /UnknownIssuer|invalid peer certificate/i);
  } finally {
    await server.close();
  }
});

test.run();
