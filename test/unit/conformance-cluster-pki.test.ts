// The conformance kit's certificate rules (test/conformance/spiced-cluster-pki.ts)
// on hand-made files: what spiced loads and what rustls accepts between nodes.
// These guard the kit itself: a judge that accepts everything proves nothing.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createCA, issueLeaf, joinPemCertificates, renewCA } from '../../core/pki/index.ts';
import { peerHandshakes, spicedLoadsClusterPki } from '../conformance/spiced-cluster-pki.ts';

const DAY = 24 * 3600 * 1000;

async function setup() {
  const a = await createCA({ commonName: 'A' });
  const b = await createCA({ commonName: 'B' });
  const leafA = await issueLeaf({ ca: a, commonName: 'n1', dnsNames: ['n1.example'], ipAddresses: ['127.0.0.1'] });
  const leafB = await issueLeaf({ ca: b, commonName: 'n2', dnsNames: ['n2.example'], ipAddresses: ['127.0.0.1'] });
  return { a, b, leafA, leafB };
}

test('load rule: the issuing CA first loads; the same CAs in the other order are refused, as spiced refuses them', async () => {
  const { a, b, leafA } = await setup();
  assert.equal(await spicedLoadsClusterPki({ ca: a.certPem, cert: leafA.certPem, key: leafA.keyPem! }), { ok: true });
  assert.equal(await spicedLoadsClusterPki({ ca: joinPemCertificates([a.certPem, b.certPem]), cert: leafA.certPem, key: leafA.keyPem! }), {
    ok: true,
  });
  const refused = await spicedLoadsClusterPki({ ca: joinPemCertificates([b.certPem, a.certPem]), cert: leafA.certPem, key: leafA.keyPem! });
  assert.equal(refused, {
    ok: false,
    error: 'The node certificate was not issued by the provided CA, expected CN=B but found issuer CN=A',
  });
});

test('load rule: a CA with the same name but another key fails the signature check', async () => {
  const { leafA } = await setup();
  const impostor = await createCA({ commonName: 'A' });
  const r = await spicedLoadsClusterPki({ ca: impostor.certPem, cert: leafA.certPem, key: leafA.keyPem! });
  assert.equal(r.ok, false);
  assert.match((r as { error: string }).error, /signature verification failed for issuer CN=A/);
});

test('load rule: unreadable CA or node files, no key, and an unusable key fail', async () => {
  const { a, leafA } = await setup();
  assert.equal((await spicedLoadsClusterPki({ ca: 'garbage', cert: leafA.certPem, key: leafA.keyPem! })).ok, false);
  assert.equal((await spicedLoadsClusterPki({ ca: a.certPem, cert: leafA.keyPem!, key: leafA.keyPem! })).ok, false);
  assert.equal((await spicedLoadsClusterPki({ ca: a.certPem, cert: leafA.certPem, key: '' })).ok, false);
  const bogusKey = '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n';
  assert.equal((await spicedLoadsClusterPki({ ca: a.certPem, cert: leafA.certPem, key: bogusKey })).ok, false);
});

test('load rule: validity is not checked at load (an expired CA first still loads: spiced only compares names and the signature)', async () => {
  const old = await createCA({ commonName: 'Old', validityDays: 1, now: new Date(Date.now() - 10 * DAY) });
  const leaf = await issueLeaf({ ca: old, commonName: 'n', dnsNames: ['n'], ipAddresses: [], now: new Date(Date.now() - 10 * DAY + 1000) });
  assert.equal(await spicedLoadsClusterPki({ ca: old.certPem, cert: leaf.certPem, key: leaf.keyPem! }), { ok: true });
});

test("rustls: a peer is accepted when its CA is anywhere in the verifier's ca.crt, by name when dialled, and refused otherwise", async () => {
  const { a, b, leafA, leafB } = await setup();
  const n1 = { ca: a.certPem, cert: leafA.certPem, key: leafA.keyPem! };
  const n2 = { ca: joinPemCertificates([b.certPem, a.certPem]), cert: leafB.certPem, key: leafB.keyPem! };
  const results = peerHandshakes([
    { verifier: n1, presenter: n1, serverName: 'n1.example' },
    { verifier: n1, presenter: n1, serverName: 'other.example' },
    { verifier: n2, presenter: n1, serverName: 'n1.example' },
    { verifier: n2, presenter: n1 },
    { verifier: n1, presenter: n2 },
  ]);
  assert.is(results[0], null);
  assert.match(results[1]!, /not valid for name "other.example"/);
  assert.is(results[2], null);
  assert.is(results[3], null);
  assert.match(results[4]!, /UnknownIssuer/);
});

test('rustls: a CA re-signed with its key and subject trusts the leaves of the old certificate, and the reverse', async () => {
  const { a, leafA } = await setup();
  const renewed = await renewCA(a, { now: new Date(Date.now() + 1000) });
  const leafNew = await issueLeaf({ ca: renewed, commonName: 'n3', dnsNames: ['n3.example'], ipAddresses: [] });
  const oldNode = { ca: a.certPem, cert: leafA.certPem, key: leafA.keyPem! };
  const newNode = { ca: renewed.certPem, cert: leafNew.certPem, key: leafNew.keyPem! };
  assert.equal(
    peerHandshakes([
      { verifier: oldNode, presenter: newNode, serverName: 'n3.example' },
      { verifier: newNode, presenter: oldNode, serverName: 'n1.example' },
    ]),
    [null, null],
  );
  assert.equal(await spicedLoadsClusterPki({ ...oldNode, ca: renewed.certPem }), { ok: true });
});

test('rustls: an expired leaf is refused', async () => {
  const ca = await createCA({ commonName: 'C', now: new Date(Date.now() - 10 * DAY) });
  const expired = await issueLeaf({
    ca,
    commonName: 'e',
    dnsNames: ['e.example'],
    ipAddresses: [],
    validityDays: 1,
    now: new Date(Date.now() - 3 * DAY),
  });
  const node = { ca: ca.certPem, cert: expired.certPem, key: expired.keyPem! };
  const [error] = peerHandshakes([{ verifier: node, presenter: node, serverName: 'e.example' }]);
  assert.match(error!, /expired/i);
});

test.run();
