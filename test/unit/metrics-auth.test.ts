// --metrics-secure's decision (shim/metrics-auth.ts), with the API server's two
// reviews answered by a table; test/integration/metrics-secure.test.ts asks the real one.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { metricsAuthorizer, metricsCertificate, NO_BEARER_TOKEN, NOT_AUTHENTICATED, NOT_AUTHORIZED } from '../../shim/metrics-auth.ts';
import { parseCertificate } from '../../core/pki/index.ts';

function reviews(users: Record<string, { username: string; allowed: boolean }>) {
  const calls: string[] = [];
  const client = {
    create: async (obj: any) => {
      calls.push(obj.kind);
      if (obj.kind === 'TokenReview') {
        const user = users[obj.spec.token];
        return {
          ...obj,
          status: user ? { authenticated: true, user: { username: user.username, groups: ['g'] } } : { authenticated: false },
        };
      }
      const user = Object.values(users).find((u) => u.username === obj.spec.user)!;
      assert.equal(obj.spec.nonResourceAttributes, { path: '/metrics', verb: 'get' });
      return { ...obj, status: { allowed: user.allowed } };
    },
  };
  return { client, calls };
}

test('401 without a bearer token or with one the API server does not authenticate, 403 without the grant, 200 with it', async () => {
  const { client } = reviews({
    good: { username: 'system:serviceaccount:mon:prometheus', allowed: true },
    nosy: { username: 'alice', allowed: false },
  });
  const authorize = metricsAuthorizer({ client: client as never });
  assert.equal(await authorize(null, '/metrics'), { status: 401, reason: NO_BEARER_TOKEN });
  assert.equal(await authorize('Basic abc', '/metrics'), { status: 401, reason: NO_BEARER_TOKEN });
  assert.equal(await authorize('Bearer forged', '/metrics'), { status: 401, reason: NOT_AUTHENTICATED });
  assert.equal(await authorize('Bearer nosy', '/metrics'), { status: 403, reason: NOT_AUTHORIZED });
  assert.equal(await authorize('bearer good', '/metrics'), { status: 200 });
});

test('an answer is reused for the same token for ttlMs, then asked again', async () => {
  const { client, calls } = reviews({ good: { username: 'p', allowed: true } });
  let now = 0;
  const authorize = metricsAuthorizer({ client: client as never, ttlMs: 60_000, now: () => now });
  await authorize('Bearer good', '/metrics');
  await authorize('Bearer good', '/metrics');
  assert.equal(calls, ['TokenReview', 'SubjectAccessReview']);
  now = 61_000;
  await authorize('Bearer good', '/metrics');
  assert.is(calls.length, 4);
});

test('without --metrics-cert-dir, a self-signed certificate for localhost and 127.0.0.1', async () => {
  const cert = await metricsCertificate(undefined);
  const parsed = await parseCertificate(cert.certPem);
  assert.ok(parsed.dnsNames.includes('localhost'), JSON.stringify(parsed.dnsNames));
  assert.equal(parsed.ipAddresses, ['127.0.0.1']);
  assert.match(cert.keyPem, /PRIVATE KEY/);
});

test.run();
