// `run --metrics-secure`: /metrics over HTTPS for callers the real API server
// authenticates (TokenReview) and authorizes (SubjectAccessReview on the
// non-resource URL /metrics), with ServiceAccount tokens from the API server.
import { request } from 'node:https';
import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { stringify } from 'yaml';
import { NO_BEARER_TOKEN, NOT_AUTHENTICATED, NOT_AUTHORIZED } from '../../shim/metrics-auth.ts';
import { freshNamespace, kubectl, kubectlOk } from '../harness/kube.ts';
import { startOperator, type OperatorProcess } from '../harness/operator.ts';

let ns = '';
let operator: OperatorProcess | undefined;
const READER = `metrics-reader-${Math.random().toString(36).slice(2, 7)}`;

function get(path: string, token?: string): Promise<{ status: number; body: string; tls: boolean }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: operator!.metricsPort,
        path,
        rejectUnauthorized: false,
        headers: token ? { authorization: `Bearer ${token}` } : {},
      },
      (res) => {
        const tls = !!(res.socket as { encrypted?: boolean } | null)?.encrypted;
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, tls }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

test.before(async () => {
  kubectlOk(['apply', '--server-side', '-f', '-'], readFileSync(new URL('../../crds/spicepodsets.spice.ai.yaml', import.meta.url), 'utf8'));
  ns = freshNamespace('metrics-secure');
  for (const sa of ['scraper', 'stranger']) kubectlOk(['create', 'serviceaccount', sa, '-n', ns]);
  kubectlOk(
    ['apply', '-f', '-'],
    stringify({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: READER },
      rules: [{ nonResourceURLs: ['/metrics'], verbs: ['get'] }],
    }),
  );
  kubectlOk(['create', 'clusterrolebinding', READER, `--clusterrole=${READER}`, `--serviceaccount=${ns}:scraper`]);
  operator = await startOperator(['--namespaces', ns, '--handlers', 'workloads', '--metrics-secure', '--no-leader-elect']);
});

test.after(async () => {
  await operator?.stop();
  kubectl(['delete', 'clusterrolebinding', READER, '--ignore-not-found']);
  kubectl(['delete', 'clusterrole', READER, '--ignore-not-found']);
  if (ns) kubectl(['delete', 'namespace', ns, '--wait=false']);
});

test('HTTPS only; no token: 401; a token the API server does not know: 401; a known one without the grant: 403; with it: the metrics', async () => {
  const none = await get('/metrics');
  assert.ok(none.tls);
  assert.is(none.status, 401);
  assert.is(none.body.trim(), NO_BEARER_TOKEN);
  const forged = await get('/metrics', 'not-a-token');
  assert.is(forged.status, 401);
  assert.is(forged.body.trim(), NOT_AUTHENTICATED);
  const stranger = await get('/metrics', kubectlOk(['create', 'token', 'stranger', '-n', ns]).trim());
  assert.is(stranger.status, 403);
  assert.is(stranger.body.trim(), NOT_AUTHORIZED);
  const scraper = await get('/metrics', kubectlOk(['create', 'token', 'scraper', '-n', ns]).trim());
  assert.is(scraper.status, 200);
  assert.match(scraper.body, /^controller_runtime_reconcile_total\{controller="workloads",result="success"\} \d+/m);
});

test.run();
