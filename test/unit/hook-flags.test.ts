// `run --handler-url` and its companions, as parsed at start: what is refused
// (and says why), and what a hook is called with.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseHookFlags } from '../../shim/cli/hook-flags.ts';
import { reconcileUrl } from '../../shim/hook-client.ts';
import { isLoopbackHost } from '../../shim/loopback.ts';

const ALL = ['workloads', 'network-policy', 'cluster', 'pki'];
const parse = (values: Record<string, unknown>, handlers = ALL) => parseHookFlags({ 'handler-timeout-seconds': '10', ...values }, handlers);
const refused = (values: Record<string, unknown>, message: RegExp, handlers = ALL) => {
  try {
    parse(values, handlers);
  } catch (error) {
    assert.match((error as Error).message, message);
    return;
  }
  assert.unreachable(`accepted ${JSON.stringify(values)}`);
};

test('a plain-http hook is refused unless it is on loopback', () => {
  refused({ 'handler-url': ['pki=http://pki-hook.ops.svc:8443'] }, /plain http is refused except on loopback .*CA keys.*use https/);
  refused({ 'handler-url': ['workloads=http://10.0.0.7:8443'] }, /plain http is refused except on loopback/);
  for (const url of ['http://127.0.0.1:9000', 'http://localhost:9000', 'http://[::1]:9000', 'https://hook.ops.svc:8443']) {
    assert.is(parse({ 'handler-url': [`workloads=${url}`] }).workloads!.url, url);
  }
});

test('hooks only for handlers this process runs, each once, with a clean URL', () => {
  refused({ 'handler-url': ['injection=https://h'] }, /injection is not a handler this process runs/);
  refused({ 'handler-url': ['pki=https://h'] }, /pki is not a handler this process runs \(--handlers: workloads\)/, ['workloads']);
  refused({ 'handler-url': ['workloads=https://a', 'workloads=https://b'] }, /workloads is given twice/);
  refused({ 'handler-url': ['https://a'] }, /expected NAME=URL/);
  refused({ 'handler-url': ['workloads=not a url'] }, /is not a URL/);
  refused({ 'handler-url': ['workloads=https://user:pw@h'] }, /without user, query or fragment/);
  refused({ 'handler-url': ['workloads=ftp://h'] }, /expected an https URL/);
  refused({ 'handler-timeout-seconds': '0' }, /--handler-timeout-seconds 0/);
  refused({ 'handler-client-cert': '/x' }, /--handler-client-cert and --handler-client-key go together/);
  refused({ 'handler-ca': '/nonexistent/ca.crt' }, /--handler-ca \/nonexistent\/ca\.crt: no such file/);
});

test('what a hook is called with: CA, client certificate, token, deadline', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hook-flags-'));
  for (const [f, text] of [
    ['ca.crt', 'CA'],
    ['c.crt', 'CERT'],
    ['c.key', 'KEY'],
    ['token', ' tok \n'],
  ])
    writeFileSync(join(dir, f), text);
  const hooks = parse({
    'handler-url': ['pki=https://pki.ops.svc:8443'],
    'handler-ca': join(dir, 'ca.crt'),
    'handler-client-cert': join(dir, 'c.crt'),
    'handler-client-key': join(dir, 'c.key'),
    'handler-token-file': join(dir, 'token'),
    'handler-timeout-seconds': '2.5',
  });
  assert.equal(hooks, {
    pki: { url: 'https://pki.ops.svc:8443', caPem: 'CA', clientCertPem: 'CERT', clientKeyPem: 'KEY', token: 'tok', timeoutMs: 2500 },
  });
  assert.equal(parse({}), {});
});

test("--handler-service: the Service is dialled by its cluster name (or --handler-url), over https, with the operator's own TLS instead of the CA and client-certificate flags", () => {
  const dir = mkdtempSync(join(tmpdir(), 'hook-flags-'));
  writeFileSync(join(dir, 'ca.crt'), 'CA');
  const hooks = parseHookFlags(
    {
      'handler-timeout-seconds': '10',
      'handler-service': ['workloads=ops-workloads-hook', 'pki=ops-pki-hook'],
      'handler-url': ['pki=https://127.0.0.1:9443', 'cluster=https://cluster.example:8443'],
      'handler-ca': join(dir, 'ca.crt'),
    },
    ALL,
    'ops',
  );
  assert.equal(hooks, {
    workloads: { url: 'https://ops-workloads-hook.ops.svc', timeoutMs: 10_000, token: undefined, service: 'ops-workloads-hook' },
    pki: { url: 'https://127.0.0.1:9443', timeoutMs: 10_000, token: undefined, service: 'ops-pki-hook' },
    cluster: {
      url: 'https://cluster.example:8443',
      caPem: 'CA',
      clientCertPem: undefined,
      clientKeyPem: undefined,
      token: undefined,
      timeoutMs: 10_000,
    },
  });
  refused(
    { 'handler-service': ['workloads=Not_A_Service'] },
    /--handler-service workloads=Not_A_Service: "Not_A_Service" is not a Service name/,
  );
  refused({ 'handler-service': ['pki=h'] }, /pki is not a handler this process runs/, ['workloads']);
  refused({ 'handler-service': ['workloads=a', 'workloads=b'] }, /--handler-service workloads=b: workloads is given twice/);
  refused({ 'handler-service': ['ops-hook'] }, /--handler-service ops-hook: expected NAME=SERVICE/);
  refused(
    { 'handler-service': ['workloads=h'], 'handler-url': ['workloads=http://127.0.0.1:9000'] },
    /--handler-service workloads=h issues the hook a certificate: use https/,
  );
});

test('the reconcile URL: a base gets /reconcile, a full URL is kept', () => {
  assert.is(reconcileUrl('https://h:8443').href, 'https://h:8443/reconcile');
  assert.is(reconcileUrl('https://h:8443/hooks/workloads/').href, 'https://h:8443/hooks/workloads/reconcile');
  assert.is(reconcileUrl('https://h/reconcile').href, 'https://h/reconcile');
  assert.ok(isLoopbackHost('127.9.0.1') && isLoopbackHost('[::1]') && !isLoopbackHost('127.0.0.1.nip.io') && !isLoopbackHost('10.0.0.1'));
});

test.run();
