import { spawnSync } from 'node:child_process';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  createCA,
  createCSR,
  csrPublicKey,
  decodePem,
  decodePemBlocks,
  encodePem,
  issueLeaf,
  joinPemCertificates,
  keyMatchesCertificate,
  loadCA,
  needsRenewal,
  normalizeIpAddress,
  parseCertificate,
  PkiError,
  renewalTime,
  sansEqual,
  splitPemCertificates,
  verifyIssuedBy,
} from '../../core/pki/index.ts';
import { nameDer, readCertificate } from '../../core/pki/certificate.ts';
import { generateKeyPair } from '../../core/pki/keys.ts';

const DAY = 24 * 60 * 60 * 1000;
const FIVE_MIN = 5 * 60 * 1000;
const now = new Date('2026-03-01T12:00:00.000Z');
const sans = { dnsNames: ['node-0.nodes.ns.svc.cluster.local', 'localhost'], ipAddresses: ['127.0.0.1', 'FD00:0:0::0:1'] };

const ca = await createCA({ commonName: 'Spice.ai cluster CA', organizationalUnit: 'spiceai-operator', now });
const otherCa = await createCA({ commonName: 'Spice.ai cluster CA', organizationalUnit: 'spiceai-operator', now });
const leaf = await issueLeaf({ ca, commonName: 'node-0', ...sans, now });

async function rejects(promise: Promise<unknown>, pattern: RegExp): Promise<void> {
  try {
    await promise;
  } catch (error) {
    assert.instance(error, PkiError, `expected a PkiError, got ${String(error)}`);
    assert.match((error as Error).message, pattern);
    return;
  }
  assert.unreachable(`expected an error matching ${pattern}`);
}

// ---- CA ----------------------------------------------------------------------

test('CA: self-signed, CA:TRUE pathlen 0, keyCertSign + cRLSign, 10 years backdated 5 minutes', async () => {
  const info = await parseCertificate(ca.certPem);
  assert.is(info.subject, 'CN=Spice.ai cluster CA, OU=spiceai-operator');
  assert.is(info.issuer, info.subject);
  assert.is(info.isCA, true);
  assert.is(info.pathLength, 0);
  assert.equal(info.keyUsages, ['digitalSignature', 'keyCertSign', 'cRLSign']);
  assert.equal(info.extKeyUsages, []);
  assert.is(info.notBefore.getTime(), now.getTime() - FIVE_MIN);
  assert.is(info.notAfter.getTime(), now.getTime() + 3650 * DAY);
  assert.ok(info.subjectKeyId && info.subjectKeyId.length === 40);
  assert.is(info.authorityKeyId, info.subjectKeyId);
  assert.ok(await verifyIssuedBy(ca.certPem, ca.certPem), 'the CA signature verifies with its own key');
  assert.match(ca.keyPem, /^-----BEGIN PRIVATE KEY-----\n/);
});

test('CA: random 128-bit positive serials that differ between CAs', async () => {
  const a = await parseCertificate(ca.certPem);
  const b = await parseCertificate(otherCa.certPem);
  for (const s of [a.serialHex, b.serialHex]) {
    assert.is(s.length, 32, `serial ${s} is 128 bits`);
    assert.ok(parseInt(s[0]!, 16) >= 8, 'the top bit is set so the length never varies');
  }
  assert.is.not(a.serialHex, b.serialHex);
  assert.is.not(a.fingerprintSha256, b.fingerprintSha256);
  assert.match(a.fingerprintSha256, /^[0-9a-f]{64}$/);
});

test('CA: times from 2050 on are GeneralizedTime and read back exactly', async () => {
  const later = new Date('2045-06-01T00:00:00.000Z');
  const info = await parseCertificate((await createCA({ commonName: 'late', now: later })).certPem);
  assert.is(info.notAfter.toISOString(), new Date(later.getTime() + 3650 * DAY).toISOString());
  assert.ok(info.notAfter.getUTCFullYear() >= 2050);
});

test('CA: milliseconds of now are dropped', async () => {
  const info = await parseCertificate(
    (await createCA({ commonName: 'ms', now: new Date('2026-03-01T12:00:00.789Z'), validityDays: 1 })).certPem,
  );
  assert.is(info.notBefore.toISOString(), '2026-03-01T11:55:00.000Z');
  assert.is(info.notAfter.toISOString(), '2026-03-02T12:00:00.000Z');
});

test('CA renewal with the same key and names: leaves of the old certificate verify against the new one', async () => {
  const later = new Date(now.getTime() + 3000 * DAY);
  const renewed = await createCA({
    commonName: 'Spice.ai cluster CA',
    organizationalUnit: 'spiceai-operator',
    now: later,
    keyPem: ca.keyPem,
  });
  const [before, after] = [await parseCertificate(ca.certPem), await parseCertificate(renewed.certPem)];
  assert.is(after.subject, before.subject);
  assert.is(after.subjectKeyId, before.subjectKeyId);
  assert.is(after.publicKeyPem, before.publicKeyPem);
  assert.is.not(after.serialHex, before.serialHex);
  assert.is(after.notAfter.getTime(), later.getTime() + 3650 * DAY);
  assert.is(renewed.keyPem, ca.keyPem);
  assert.ok(await verifyIssuedBy(leaf.certPem, renewed.certPem));
  assert.ok(await keyMatchesCertificate(ca.keyPem, renewed.certPem));
  await rejects(createCA({ commonName: 'x', keyPem: 'not a key' }), /expected a PEM PRIVATE KEY/);
});

// ---- leaf --------------------------------------------------------------------

test('leaf: usages, EKUs, SANs (IPv6 normalised), 1 year, CA:FALSE', async () => {
  const info = await parseCertificate(leaf.certPem);
  assert.is(info.subject, 'CN=node-0');
  assert.is(info.isCA, false);
  assert.is(info.pathLength, undefined);
  assert.equal(info.keyUsages, ['digitalSignature', 'keyEncipherment']);
  assert.equal(info.extKeyUsages, ['serverAuth', 'clientAuth']);
  assert.equal(info.dnsNames, ['node-0.nodes.ns.svc.cluster.local', 'localhost']);
  assert.equal(info.ipAddresses, ['127.0.0.1', 'fd00::1']);
  assert.is(info.notBefore.getTime(), now.getTime() - FIVE_MIN);
  assert.is(info.notAfter.getTime(), now.getTime() + 365 * DAY);
  assert.is((await parseCertificate(leaf.certPem)).serialHex.length, 32);
  assert.is.not(info.serialHex, (await parseCertificate((await issueLeaf({ ca, commonName: 'node-0', ...sans, now })).certPem)).serialHex);
  assert.ok(leaf.keyPem && (await keyMatchesCertificate(leaf.keyPem, leaf.certPem)));
});

test('leaf: issuer DN is the CA subject DN, byte for byte, and AKI is the CA SKI', async () => {
  const caInfo = await parseCertificate(ca.certPem);
  const info = await parseCertificate(leaf.certPem);
  assert.is(info.issuer, caInfo.subject);
  assert.is(info.authorityKeyId, caInfo.subjectKeyId);
  assert.equal(nameDer(readCertificate(leaf.certPem).cert.issuer), nameDer(readCertificate(ca.certPem).cert.subject));
});

test('leaf: verifyIssuedBy is true for its CA, false for another CA with the same name, true for a bundle holding its CA', async () => {
  assert.is(await verifyIssuedBy(leaf.certPem, ca.certPem), true);
  assert.is(await verifyIssuedBy(leaf.certPem, otherCa.certPem), false);
  assert.is(await verifyIssuedBy(leaf.certPem, otherCa.certPem + ca.certPem), true);
  assert.is(await verifyIssuedBy(leaf.certPem, leaf.certPem), false);
});

test('leaf: notAfter is capped at the CA notAfter when the CA expires sooner', async () => {
  const shortCa = await createCA({ commonName: 'short', validityDays: 30, now });
  const info = await parseCertificate(
    (await issueLeaf({ ca: shortCa, commonName: 'n', dnsNames: ['n.example'], ipAddresses: [], now })).certPem,
  );
  assert.is(info.notAfter.getTime(), (await parseCertificate(shortCa.certPem)).notAfter.getTime());
  const later = await issueLeaf({
    ca: shortCa,
    commonName: 'n',
    dnsNames: ['n.example'],
    ipAddresses: [],
    now: new Date(now.getTime() + 29 * DAY),
  });
  assert.is((await parseCertificate(later.certPem)).notAfter.getTime(), now.getTime() + 30 * DAY);
});

test('leaf: notBefore is never before the CA notBefore', async () => {
  const info = await parseCertificate(
    (await issueLeaf({ ca, commonName: 'n', dnsNames: ['n.example'], ipAddresses: [], now: new Date(now.getTime() - 60_000) })).certPem,
  );
  assert.is(info.notBefore.getTime(), now.getTime() - FIVE_MIN);
});

test('leaf: an expired CA refuses to sign', async () => {
  await rejects(
    issueLeaf({ ca, commonName: 'n', dnsNames: ['n.example'], ipAddresses: [], now: new Date(now.getTime() + 3651 * DAY) }),
    /CA certificate expired at/,
  );
});

test('leaf: a loaded CA signs the same way, and loadCA picks the certificate of a bundle that matches the key', async () => {
  const loaded = await loadCA({ certPem: otherCa.certPem + ca.certPem, keyPem: ca.keyPem });
  const issued = await issueLeaf({ ca: loaded, commonName: 'n', dnsNames: ['n.example'], ipAddresses: [], now });
  assert.ok(await verifyIssuedBy(issued.certPem, ca.certPem));
  assert.not.ok(await verifyIssuedBy(issued.certPem, otherCa.certPem));
});

test('loadCA: a key of another CA, or a leaf used as CA, is refused', async () => {
  await rejects(loadCA({ certPem: ca.certPem, keyPem: otherCa.keyPem }), /CA private key does not match the CA certificate/);
  await rejects(loadCA({ certPem: leaf.certPem, keyPem: leaf.keyPem! }), /not a CA/);
  await rejects(loadCA({ certPem: ca.certPem, keyPem: 'garbage' }), /PEM PRIVATE KEY/);
});

// ---- CSR and explicit public keys ---------------------------------------------

test('CSR: the leaf certifies the CSR public key, with the SANs passed in rather than the requested ones', async () => {
  const csr = await createCSR({ commonName: 'requested', dnsNames: ['evil.example'], ipAddresses: ['10.0.0.1'] });
  const issued = await issueLeaf({ ca, commonName: 'node-1', dnsNames: ['node-1.example'], ipAddresses: ['::1'], csrPem: csr.csrPem, now });
  assert.is(issued.keyPem, undefined);
  const info = await parseCertificate(issued.certPem);
  assert.is(info.publicKeyPem, encodePem('PUBLIC KEY', await csrPublicKey(csr.csrPem)));
  assert.is(info.subject, 'CN=node-1');
  assert.equal(info.dnsNames, ['node-1.example']);
  assert.equal(info.ipAddresses, ['::1']);
  assert.ok(await keyMatchesCertificate(csr.keyPem, issued.certPem));
  assert.ok(await verifyIssuedBy(issued.certPem, ca.certPem));
});

test('CSR: a tampered CSR is refused', async () => {
  const csr = await createCSR({ commonName: 'node-0', dnsNames: ['node-0.example'], ipAddresses: [] });
  const der = decodePem(csr.csrPem, 'CERTIFICATE REQUEST').der;
  const at = new TextDecoder('latin1').decode(der).indexOf('node-0');
  assert.ok(at > 0);
  der[at + 5] = '1'.charCodeAt(0); // CN=node-1: still valid DER, signature no longer matches
  const tampered = encodePem('CERTIFICATE REQUEST', der);
  await rejects(
    issueLeaf({ ca, commonName: 'node-1', dnsNames: ['node-1.example'], ipAddresses: [], csrPem: tampered, now }),
    /signature does not verify/,
  );
  await rejects(csrPublicKey(encodePem('CERTIFICATE REQUEST', new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x00]))), /not a PKCS#10/);
});

test('public key: a CryptoKey or a PEM PUBLIC KEY is certified as given', async () => {
  const keys = await generateKeyPair();
  const fromKey = await issueLeaf({ ca, commonName: 'k', dnsNames: ['k.example'], ipAddresses: [], publicKey: keys.publicKey, now });
  assert.is(fromKey.keyPem, undefined);
  const pem = (await parseCertificate(fromKey.certPem)).publicKeyPem;
  const fromPem = await issueLeaf({ ca, commonName: 'k', dnsNames: ['k.example'], ipAddresses: [], publicKey: pem, now });
  assert.is((await parseCertificate(fromPem.certPem)).publicKeyPem, pem);
  await rejects(issueLeaf({ ca, commonName: 'k', dnsNames: ['k.example'], ipAddresses: [], publicKey: pem, csrPem: 'x', now }), /not both/);
});

// ---- input validation -----------------------------------------------------------

test('inputs a user could get wrong are refused with clear messages', async () => {
  const base = { ca, commonName: 'n', dnsNames: ['n.example'], ipAddresses: [] as string[], now };
  await rejects(createCA({ commonName: '' }), /commonName must be a non-empty string/);
  await rejects(createCA({ commonName: '   ' }), /commonName must be a non-empty string/);
  await rejects(createCA({ commonName: 'x'.repeat(65) }), /longer than 64/);
  await rejects(createCA({ commonName: 'ok', organizationalUnit: '' }), /organizationalUnit must be a non-empty string/);
  await rejects(createCA({ commonName: 'ok', validityDays: 0 }), /validityDays must be a positive number/);
  await rejects(createCA({ commonName: 'ok', now: new Date('nope') }), /now must be a valid Date/);
  await rejects(issueLeaf({ ...base, commonName: '' }), /commonName must be a non-empty string/);
  await rejects(issueLeaf({ ...base, ipAddresses: ['300.1.1.1'] }), /"300.1.1.1" is not a valid IPv4 or IPv6 address/);
  await rejects(issueLeaf({ ...base, ipAddresses: ['1.2.3'] }), /not a valid IPv4 or IPv6 address/);
  await rejects(issueLeaf({ ...base, ipAddresses: ['010.0.0.1'] }), /not a valid IPv4 or IPv6 address/);
  await rejects(issueLeaf({ ...base, ipAddresses: ['1::2::3'] }), /not a valid IPv4 or IPv6 address/);
  await rejects(issueLeaf({ ...base, ipAddresses: ['fe80::1%eth0'] }), /zone index/);
  await rejects(issueLeaf({ ...base, ipAddresses: ['10.0.0.0/8'] }), /CIDR/);
  await rejects(issueLeaf({ ...base, dnsNames: ['bad_name.example'] }), /DNS name "bad_name.example" is invalid/);
  await rejects(issueLeaf({ ...base, dnsNames: ['-a.example'] }), /is invalid/);
  await rejects(issueLeaf({ ...base, dnsNames: ['a..example'] }), /is invalid/);
  await rejects(issueLeaf({ ...base, dnsNames: ['10.0.0.1'] }), /is an IP address; pass it in ipAddresses/);
  await rejects(issueLeaf({ ...base, dnsNames: [] }), /at least one DNS name or IP address/);
  await rejects(issueLeaf({ ...base, validityDays: -1 }), /validityDays must be a positive number/);
  // Wildcards and upper case are accepted; names are stored in lower case.
  const ok = await issueLeaf({ ...base, dnsNames: ['*.Nodes.Example', 'nodes.example', 'NODES.example'] });
  assert.equal((await parseCertificate(ok.certPem)).dnsNames, ['*.nodes.example', 'nodes.example']);
});

test('IP addresses are normalised (RFC 5952) and SAN sets compare as sets', () => {
  assert.is(normalizeIpAddress('2001:0DB8:0000:0000:0001:0000:0000:0001'), '2001:db8::1:0:0:1');
  assert.is(normalizeIpAddress('::'), '::');
  assert.is(normalizeIpAddress('1:0:0:0:0:0:0:0'), '1::');
  assert.is(normalizeIpAddress('1:0:1:1:1:1:1:1'), '1:0:1:1:1:1:1:1');
  assert.is(normalizeIpAddress('::ffff:10.1.2.3'), '::ffff:10.1.2.3');
  assert.is(normalizeIpAddress('64:ff9b::192.0.2.33'), '64:ff9b::c000:221');
  assert.ok(sansEqual({ dnsNames: ['b', 'a', 'a'], ipAddresses: ['::0:1'] }, { dnsNames: ['A', 'b'], ipAddresses: ['::1'] }));
  assert.not.ok(sansEqual({ dnsNames: ['a'], ipAddresses: [] }, { dnsNames: ['a', 'b'], ipAddresses: [] }));
  assert.not.ok(sansEqual({ dnsNames: [], ipAddresses: ['10.0.0.1'] }, { dnsNames: [], ipAddresses: ['10.0.0.2'] }));
});

// ---- parsing and PEM ---------------------------------------------------------------

test('parseCertificate: garbage, other PEM types and broken DER throw a PkiError', async () => {
  await rejects(parseCertificate('not a certificate'), /expected a PEM certificate/);
  await rejects(parseCertificate(''), /expected a PEM certificate/);
  await rejects(parseCertificate(ca.keyPem), /expected a PEM CERTIFICATE block, found PRIVATE KEY/);
  await rejects(parseCertificate('-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n'), /not valid base64/);
  await rejects(parseCertificate(encodePem('CERTIFICATE', new Uint8Array([1, 2, 3, 4]))), /not valid DER|not an X.509 certificate/);
  await rejects(parseCertificate(encodePem('CERTIFICATE', new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x00]))), /not an X.509 certificate/);
  await rejects(parseCertificate('-----BEGIN CERTIFICATE-----\nAAAA\n-----END X509 CRL-----'), /ends with END X509 CRL/);
  await rejects(verifyIssuedBy('nope', ca.certPem), /expected a PEM certificate/);
});

test('PEM: CRLF, indentation and surrounding text are tolerated; bundles split', async () => {
  const messy = `Certificate:\r\n    Data: (text output)\r\n${ca.certPem.replace(/\n/g, '\r\n').replace(/^(?=[A-Za-z0-9+/])/gm, '  ')}trailing words`;
  assert.is((await parseCertificate(messy)).fingerprintSha256, (await parseCertificate(ca.certPem)).fingerprintSha256);
  const bundle = `# old CA\n${otherCa.certPem}\n${leaf.keyPem}# new CA\n${ca.certPem.replace(/\n/g, '\r\n')}`;
  const parts = splitPemCertificates(bundle);
  assert.equal(parts, [otherCa.certPem, ca.certPem]);
  assert.is(joinPemCertificates([otherCa.certPem, ca.certPem.replace(/\n/g, '\r\n')]), otherCa.certPem + ca.certPem);
  assert.equal(
    decodePemBlocks(bundle).map((b) => b.label),
    ['CERTIFICATE', 'PRIVATE KEY', 'CERTIFICATE'],
  );
  const der = decodePem(ca.certPem, 'CERTIFICATE').der;
  assert.is(encodePem('CERTIFICATE', der), ca.certPem);
  assert.ok(ca.certPem.split('\n').every((line) => line.length <= 64));
  assert.throws(
    () => decodePem('-----BEGIN PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\n\nAAAA\n-----END PRIVATE KEY-----', 'PRIVATE KEY'),
    /encrypted PEM is not supported/,
  );
});

// ---- keys and renewal ---------------------------------------------------------------

test('keyMatchesCertificate: true for the pair, false for another key or unreadable input', async () => {
  assert.is(await keyMatchesCertificate(ca.keyPem, ca.certPem), true);
  assert.is(await keyMatchesCertificate(otherCa.keyPem, ca.certPem), false);
  assert.is(await keyMatchesCertificate(leaf.keyPem!, ca.certPem), false);
  assert.is(await keyMatchesCertificate('garbage', ca.certPem), false);
  assert.is(await keyMatchesCertificate(ca.keyPem, 'garbage'), false);
  const truncated = ca.keyPem.replace(/\n[^\n]+\n-----END/, '\n-----END');
  assert.is(await keyMatchesCertificate(truncated, ca.certPem), false);
});

test('renewalTime is notBefore + 2/3 of the lifetime, truncated to seconds; needsRenewal switches there', () => {
  const nb = new Date('2026-01-01T00:00:00.000Z');
  const na = new Date(nb.getTime() + 90 * DAY);
  assert.is(renewalTime(nb, na).toISOString(), '2026-03-02T00:00:00.000Z');
  // 10 s lifetime: 2/3 is 6.666 s, truncated to 6 s.
  assert.is(renewalTime(nb, new Date(nb.getTime() + 10_000)).toISOString(), '2026-01-01T00:00:06.000Z');
  // A leaf of 365 d + 5 min (the backdated notBefore) renews about 243 days in.
  const r = renewalTime(new Date(now.getTime() - FIVE_MIN), new Date(now.getTime() + 365 * DAY));
  assert.is(r.getTime() % 1000, 0);
  assert.ok(Math.abs(r.getTime() - (now.getTime() + (365 * DAY * 2) / 3)) < FIVE_MIN);
  const at = renewalTime(nb, na);
  assert.is(needsRenewal({ notBefore: nb, notAfter: na, now: new Date(at.getTime() - 1) }), false);
  assert.is(needsRenewal({ notBefore: nb, notAfter: na, now: at }), true);
  assert.is(needsRenewal({ notBefore: nb, notAfter: na, now: new Date(na.getTime() + 1) }), true);
  assert.is(needsRenewal({ notBefore: nb, notAfter: nb, now: nb }), true);
});

// ---- portability ----------------------------------------------------------------------

test('core/pki runs under Deno, and Node verifies what Deno issued', async () => {
  const root = new URL('../../', import.meta.url).pathname;
  const env = {
    ...process.env,
    DENO_DIR: join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'spiceai-operator', 'deno'),
    NO_COLOR: '1',
  };
  const script = `
    import * as pki from './core/pki/index.ts';
    const ca = await pki.createCA({ commonName: 'deno CA' });
    const leaf = await pki.issueLeaf({ ca, commonName: 'n', dnsNames: ['n.example'], ipAddresses: ['::1'] });
    const csr = await pki.createCSR({ commonName: 'c', dnsNames: ['c.example'], ipAddresses: [] });
    const fromCsr = await pki.issueLeaf({ ca, commonName: 'c', dnsNames: ['c.example'], ipAddresses: [], csrPem: csr.csrPem });
    console.log(JSON.stringify({ ca, leaf, csr, fromCsr, selfCheck: await pki.verifyIssuedBy(leaf.certPem, ca.certPem) }));`;
  const r = spawnSync(join(root, 'node_modules', '.bin', 'deno'), ['eval', '--ext=ts', script], { cwd: root, env, encoding: 'utf8' });
  assert.is(r.status, 0, `deno failed:\n${r.stderr}`);
  const out = JSON.parse(r.stdout);
  assert.is(out.selfCheck, true);
  assert.ok(await verifyIssuedBy(out.leaf.certPem, out.ca.certPem));
  assert.ok(await verifyIssuedBy(out.fromCsr.certPem, out.ca.certPem));
  assert.ok(await keyMatchesCertificate(out.leaf.keyPem, out.leaf.certPem));
  assert.ok(await keyMatchesCertificate(out.csr.keyPem, out.fromCsr.certPem));
  // Deno's CA can sign on Node too.
  const more = await issueLeaf({ ca: out.ca, commonName: 'x', dnsNames: ['x.example'], ipAddresses: [] });
  assert.ok(await verifyIssuedBy(more.certPem, out.ca.certPem));
});

test.run();
