// The chart as a user installs it, with the real helm against the real API
// server: install (after `crd --apply`, as the README's troubleshooting says),
// upgrade, uninstall with the CRDs kept. kwok plays the nodes, so the
// operator's pods are scheduled and become Ready without running (the image
// is run for real by test/integration/image.test.ts).
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parse } from 'yaml';
import { CHART_DIR, helm } from '../harness/chart.ts';
import { eventually, kubectl, kubectlJson, testKubeconfig } from '../harness/kube.ts';

const RELEASE = 'spiceai-op-it';
const NS = `chart-install-${Math.random().toString(36).slice(2, 7)}`;
const CRDS = ['spicepodsets.spice.ai', 'spicepodclusters.spice.ai'];
const appVersion = parse(readFileSync(`${CHART_DIR}/Chart.yaml`, 'utf8')).appVersion as string;
// The API server calls a webhook registered by Service at the Service's address, which goes
// nowhere here (no service network): the webhook is kept to a namespace where no Pod is created.
const QUIET_WEBHOOK = ['--set', 'namespaces={chart-install-no-pods}'];
const helmKube = (...args: string[]) => helm([...args, '--kubeconfig', testKubeconfig()]);

test.before(() => {
  // The CRDs as `spiceai-operator crd --apply` leaves them (also what other tests do first).
  const r = spawnSync(
    process.execPath,
    [new URL('../../bin/spiceai-operator.mjs', import.meta.url).pathname, 'crd', '--apply', '--kubeconfig', testKubeconfig()],
    { encoding: 'utf8' },
  );
  assert.is(r.status, 0, r.stderr);
});

test("helm install refuses CRDs created by crd --apply; --take-ownership (the README's fix) adopts them", () => {
  const refused = helmKube('install', RELEASE, CHART_DIR, '--namespace', NS, '--create-namespace', ...QUIET_WEBHOOK);
  assert.is.not(refused.code, 0);
  assert.match(
    refused.err,
    /CustomResourceDefinition "spicepod(set|cluster)s\.spice\.ai".*exists and cannot be imported into the current release/,
  );
  const installed = helmKube(
    'install',
    RELEASE,
    CHART_DIR,
    '--namespace',
    NS,
    '--create-namespace',
    '--take-ownership',
    '--wait=watcher',
    '--timeout=3m',
    ...QUIET_WEBHOOK,
  );
  assert.is(installed.code, 0, installed.err);
  // NOTES.txt: how to check the install, reach the status API, and uninstall.
  for (const line of [
    `kubectl -n ${NS} rollout status deployment/${RELEASE}-spiceai-operator`,
    'curl -s http://localhost:8090/ready',
    `helm uninstall ${RELEASE} -n ${NS}`,
  ]) {
    assert.ok(installed.out.includes(line), `NOTES has "${line}":\n${installed.out}`);
  }
});

test('the default install runs our image, two Ready replicas under a PodDisruptionBudget, owning the CRDs', async () => {
  const deployment = kubectlJson(['get', 'deployment', `${RELEASE}-spiceai-operator`, '-n', NS]);
  assert.is(deployment.spec.template.spec.containers[0].image, `spiceai-operator:${appVersion}`);
  assert.is(deployment.spec.replicas, 2);
  assert.is(deployment.status.readyReplicas, 2);
  const pdb = await eventually('the PodDisruptionBudget to count the replicas', () => {
    const p = kubectlJson(['get', 'poddisruptionbudget', `${RELEASE}-spiceai-operator`, '-n', NS]);
    return p.status?.currentHealthy === 2 && p;
  });
  assert.is(pdb.status.disruptionsAllowed, 1);
  for (const crd of CRDS) {
    const meta = kubectlJson(['get', 'crd', crd]).metadata;
    assert.is(meta.annotations['meta.helm.sh/release-name'], RELEASE);
    assert.is(meta.annotations['helm.sh/resource-policy'], 'keep');
  }
  const status = helmKube('status', RELEASE, '-n', NS, '-o', 'json');
  assert.is(JSON.parse(status.out).info.status, 'deployed');
});

test('helm upgrade changes the running configuration and keeps the release', () => {
  const upgraded = helmKube(
    'upgrade',
    RELEASE,
    CHART_DIR,
    '--namespace',
    NS,
    '--reuse-values',
    '--set',
    'replicaCount=3',
    '--set',
    'logLevel=debug',
    '--set-string',
    'podAnnotations.example\\.com/rev=2',
    '--wait=watcher',
    '--timeout=3m',
  );
  assert.is(upgraded.code, 0, upgraded.err);
  const deployment = kubectlJson(['get', 'deployment', `${RELEASE}-spiceai-operator`, '-n', NS]);
  assert.is(deployment.spec.replicas, 3);
  assert.is(deployment.status.readyReplicas, 3);
  const c = deployment.spec.template.spec.containers[0];
  assert.ok(c.args.includes('--log-level=debug'), c.args.join(' '));
  assert.ok(c.args.includes('--namespaces=chart-install-no-pods'), 'reused values stay');
  assert.is(deployment.spec.template.metadata.annotations['example.com/rev'], '2');
  const history = JSON.parse(helmKube('history', RELEASE, '-n', NS, '-o', 'json').out);
  assert.equal(
    history.map((h: any) => h.status),
    ['superseded', 'deployed'],
  );
});

test('helm uninstall removes the release and keeps the CRDs (and so every SpicepodSet)', async () => {
  const r = helmKube('uninstall', RELEASE, '--namespace', NS, '--wait=watcher', '--timeout=3m');
  assert.is(r.code, 0, r.err);
  for (const [kind, name, ns] of [
    ['deployment', `${RELEASE}-spiceai-operator`, NS],
    ['serviceaccount', `${RELEASE}-spiceai-operator`, NS],
    ['poddisruptionbudget', `${RELEASE}-spiceai-operator`, NS],
    ['clusterrole', `${RELEASE}-spiceai-operator`, undefined],
    ['mutatingwebhookconfiguration', `${RELEASE}-spiceai-operator-sidecar-injector`, undefined],
  ] as [string, string, string | undefined][]) {
    await eventually(`${kind} ${name} to be gone`, () => kubectl(['get', kind, name, ...(ns ? ['-n', ns] : [])]).code !== 0);
  }
  for (const crd of CRDS) assert.is(kubectl(['get', 'crd', crd]).code, 0, `${crd} kept`);
});

test.after(() => {
  helmKube('uninstall', RELEASE, '--namespace', NS);
  kubectl(['delete', 'namespace', NS, '--wait=false']);
});

test.run();
