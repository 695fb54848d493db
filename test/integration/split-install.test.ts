// The chart installed split with the real helm (handlers.workloads.mode=hook),
// and the operator acting with exactly the release's ServiceAccount and RBAC.
// kwok pods run no containers, so the hook Deployment's pods cannot serve:
// the test runs the same `serve` process on loopback with the Deployment's own
// arguments and the Secret the operator issued, mounted as files, and points
// the operator at it (--handler-url, which only says where to dial). A
// SpicepodSet converges through the hook; the Secret holds a certificate for
// the hook Service's DNS names signed by the operator's CA, which `serve`
// accepts, and a caller without the operator CA's client certificate is
// refused. The NetworkPolicies are judged by cyclonus.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { createCA, issueLeaf, parseCertificate, verifyIssuedBy } from '../../core/pki/index.ts';
import { CHART_DIR, helm, serviceAccountKubeconfig } from '../harness/chart.ts';
import { eventually, freshNamespace, kubectl, kubectlJson, kubectlOk, testKubeconfig } from '../harness/kube.ts';
import { evaluate } from '../harness/netpol.ts';
import { startOperator, type OperatorProcess } from '../harness/operator.ts';
import { rawRequest, startNodeHook, type HookServer } from '../hooks/servers.ts';

const RELEASE = 'split';
const NS = `split-install-${Math.random().toString(36).slice(2, 7)}`;
const OPERATOR = `${RELEASE}-spiceai-operator`;
const HOOK = `${OPERATOR}-workloads-hook`;
const SPLIT = [
  '--set',
  'handlers.workloads.mode=hook',
  '--set',
  'handlers.pki.mode=off',
  '--set',
  'handlers.cluster.mode=off',
  '--set',
  'handlers.pod-monitor.mode=off',
  '--set',
  'crds.enabled=false',
];
const tmp = mkdtempSync(join(tmpdir(), 'split-install-'));
const helmKube = (...args: string[]) => helm([...args, '--kubeconfig', testKubeconfig()]);
let setNs = '';
let operator: OperatorProcess | undefined;
let hook: HookServer | undefined;
let port = 0;

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
const secretText = (name: string): Record<string, string> =>
  Object.fromEntries(
    Object.entries(kubectlJson(['get', 'secret', name, '-n', NS]).data as Record<string, string>).map(([k, v]) => [
      k,
      Buffer.from(v, 'base64').toString('utf8'),
    ]),
  );

test.before(() => {
  const r = spawnSync(
    process.execPath,
    [new URL('../../bin/spiceai-operator.mjs', import.meta.url).pathname, 'crd', '--apply', '--kubeconfig', testKubeconfig()],
    { encoding: 'utf8' },
  );
  assert.is(r.status, 0, r.stderr);
  setNs = freshNamespace('split-sets');
});

test.after(async () => {
  await operator?.kill();
  await hook?.stop();
  helmKube('uninstall', RELEASE, '--namespace', NS);
  kubectl(['delete', 'namespace', NS, '--wait=false']);
  if (setNs) kubectl(['delete', 'namespace', setNs, '--wait=false']);
});

test('helm installs the split release: the hook Deployment and Service, no ServiceAccount token, the operator told to call the hook', () => {
  // The webhook is kept to a namespace where no Pod is created (its Service leads nowhere here).
  const installed = helmKube(
    'install',
    RELEASE,
    CHART_DIR,
    '--namespace',
    NS,
    '--create-namespace',
    '--set',
    'namespaces={split-no-pods}',
    ...SPLIT,
  );
  assert.is(installed.code, 0, installed.err);
  const pod = kubectlJson(['get', 'deployment', HOOK, '-n', NS]).spec.template.spec;
  assert.is(pod.automountServiceAccountToken, false);
  assert.equal(pod.containers[0].args.slice(0, 2), ['serve', 'workloads']);
  assert.is(kubectlJson(['get', 'service', HOOK, '-n', NS]).spec.ports[0].port, 443);
  const args: string[] = kubectlJson(['get', 'deployment', OPERATOR, '-n', NS]).spec.template.spec.containers[0].args;
  assert.ok(args.includes('--handlers=workloads,network-policy'), args.join(' '));
  assert.ok(args.includes(`--handler-service=workloads=${HOOK}`), args.join(' '));
  // With autoscaling, the HorizontalPodAutoscaler (and the Deployment without replicas) is accepted too.
  const scaled = helm([
    'template',
    RELEASE,
    CHART_DIR,
    '--namespace',
    NS,
    ...SPLIT,
    '--set',
    'handlers.workloads.autoscaling.enabled=true',
    '--show-only',
    'templates/hooks.yaml',
  ]);
  assert.is(scaled.code, 0, scaled.err);
  assert.match(scaled.out, /kind: HorizontalPodAutoscaler/);
  const dry = kubectl(['apply', '--server-side', '--force-conflicts', '--dry-run=server', '-f', '-'], scaled.out);
  assert.is(dry.code, 0, dry.err);
});

test("the operator, with the release's RBAC, issues the hook's certificate from its own CA; a SpicepodSet converges through the hook", async () => {
  const deployed: string[] = kubectlJson(['get', 'deployment', OPERATOR, '-n', NS]).spec.template.spec.containers[0].args;
  // The chart's flags, but the addresses (the harness binds loopback) and the watched namespaces.
  const args = deployed.filter((a) => a !== 'run' && !/^--(http|metrics|webhook)-endpoint=|^--namespaces=/.test(a));
  port = await freePort();
  const kubeconfig = serviceAccountKubeconfig(testKubeconfig(), NS, OPERATOR, tmp);
  // The Service's address leads nowhere here: dial the same server on loopback (its address is in the certificate too).
  operator = await startOperator([
    ...args,
    '--namespaces',
    setNs,
    '--kubeconfig',
    kubeconfig,
    '--handler-url',
    `workloads=https://127.0.0.1:${port}`,
  ]);
  await operator.waitForLog((l) => l.msg === 'hook certificates current', 120_000);

  const secret = secretText(`${HOOK}-tls`);
  assert.equal(Object.keys(secret).sort(), ['ca.crt', 'tls.crt', 'tls.key'], 'no CA key in a Secret the hook pods mount');
  const ca = secretText(`${OPERATOR}-webhook-tls`);
  assert.is(secret['ca.crt'], ca['ca.crt'], "the operator's own CA (the webhook's)");
  assert.ok(await verifyIssuedBy(secret['tls.crt']!, ca['ca.crt']!));
  const info = await parseCertificate(secret['tls.crt']!);
  for (const name of [HOOK, `${HOOK}.${NS}`, `${HOOK}.${NS}.svc`, `${HOOK}.${NS}.svc.cluster.local`])
    assert.ok(info.dnsNames.includes(name), `${name} in ${info.dnsNames}`);

  // The hook Deployment's own arguments, with the Secret mounted as files (as the kubelet does) and a loopback address.
  for (const [key, text] of Object.entries(secret)) writeFileSync(join(tmp, key), text, { mode: 0o600 });
  const hookArgs: string[] = kubectlJson(['get', 'deployment', HOOK, '-n', NS]).spec.template.spec.containers[0].args;
  const flags = hookArgs.slice(2).map((a) => a.replace('=/tls/', `=${tmp}/`).replace(/^--listen=.*/, `--listen=127.0.0.1:${port}`));
  hook = await startNodeHook('workloads', flags);

  const set = parse(readFileSync(new URL('../../examples/spicepodset-minimal.yaml', import.meta.url), 'utf8'));
  set.metadata.namespace = setNs;
  kubectlOk(['apply', '--server-side', '--field-manager', 'split-install-test', '-f', '-'], stringify(set));
  await eventually(
    'the SpicepodSet to converge through the hook',
    () => {
      const s = kubectlJson(['get', 'spicepodset', 'my-spicepod', '-n', setNs]);
      const hookFailed = (s.status?.conditions ?? []).some((c: any) => c.type === 'WorkloadsHookReady');
      const d = kubectl(['get', 'deployment', 'my-spicepod', '-n', setNs, '-o', 'json']);
      return (d.code === 0 && s.status?.observedGeneration === s.metadata.generation && !hookFailed) || undefined;
    },
    180_000,
    1000,
  );
  const metrics = await (await fetch(`http://127.0.0.1:${operator.metricsPort}/metrics`)).text();
  const ok = metrics
    .split('\n')
    .find(
      (l) =>
        l.startsWith('spiceai_operator_hook_request_duration_seconds_count{') &&
        l.includes('handler="workloads"') &&
        l.includes('code="200"'),
    );
  assert.ok(
    ok && Number(ok.split(' ').pop()) > 0,
    `calls answered 200 by the hook:\n${metrics
      .split('\n')
      .filter((l) => l.includes('hook_request'))
      .join('\n')}`,
  );
  assert.not.ok(
    operator.logs.some((l) => l.level === 'error' && /hook certificate/.test(l.msg)),
    'no certificate errors',
  );
});

test("serve accepts only a client certificate of the operator's CA, and its certificate names the hook Service", async () => {
  assert.ok(hook, 'the hook runs');
  const secret = secretText(`${HOOK}-tls`);
  const ca = secretText(`${OPERATOR}-webhook-tls`);
  const url = `https://127.0.0.1:${port}`;
  // A client of the operator's CA (issued here from the CA key an admin can read), dialling by the Service's DNS name.
  const client = await issueLeaf({
    ca: { certPem: ca['ca.crt']!, keyPem: ca['ca.key']! },
    commonName: 'test-client',
    dnsNames: ['test-client'],
    ipAddresses: [],
    validityDays: 1,
  });
  const servername = `${HOOK}.${NS}.svc`;
  const accepted = await rawRequest(url, 'GET', '/healthz', {}, undefined, {
    ca: secret['ca.crt'],
    cert: client.certPem,
    key: client.keyPem,
    servername,
  } as never);
  assert.is(accepted.status, 200);
  assert.is(JSON.parse(accepted.body.toString()).handler, 'workloads');
  const stranger = await createCA({ commonName: 'stranger', validityDays: 1 });
  const strangerClient = await issueLeaf({
    ca: stranger,
    commonName: 'intruder',
    dnsNames: ['intruder'],
    ipAddresses: [],
    validityDays: 1,
  });
  for (const [what, tls] of [
    ['no client certificate', { ca: secret['ca.crt'], servername }],
    ['a client certificate of another CA', { ca: secret['ca.crt'], cert: strangerClient.certPem, key: strangerClient.keyPem, servername }],
  ] as const) {
    const refused = await rawRequest(url, 'GET', '/healthz', {}, undefined, tls as never).then(
      (r) => `answered ${r.status}`,
      (e: Error) => e.message,
    );
    assert.not.match(refused, /^answered/, `${what}: ${refused}`);
  }
  // The certificate does not pass for another name.
  const wrongName = await rawRequest(url, 'GET', '/healthz', {}, undefined, {
    ca: secret['ca.crt'],
    cert: client.certPem,
    key: client.keyPem,
    servername: `other.${NS}.svc`,
  } as never).then(
    (r) => `answered ${r.status}`,
    (e: Error) => e.message,
  );
  assert.match(wrongName, /altnames|does not match/i);
});

test("the release's NetworkPolicies let the operator reach the hook and nobody else (cyclonus judges)", () => {
  const r = helm(['template', RELEASE, CHART_DIR, '--namespace', NS, ...SPLIT, '--set', 'networkPolicy.enabled=true']);
  assert.is(r.code, 0, r.err);
  const docs = parseAllDocuments(r.out)
    .map((d) => d.toJS())
    .filter(Boolean) as any[];
  const labelsOf = (name: string) => docs.find((d) => d.kind === 'Deployment' && d.metadata.name === name).spec.template.metadata.labels;
  const { results } = evaluate({
    policies: docs.filter((d) => d.kind === 'NetworkPolicy'),
    namespaces: { [NS]: { 'kubernetes.io/metadata.name': NS }, team: { 'kubernetes.io/metadata.name': 'team' } },
    pods: [
      {
        id: 'operator',
        namespace: NS,
        labels: labelsOf(OPERATOR),
        ip: '10.0.0.10',
        ports: [
          { name: 'http', containerPort: 8090 },
          { name: 'webhook', containerPort: 8443 },
        ],
      },
      { id: 'hook', namespace: NS, labels: labelsOf(HOOK), ip: '10.0.0.11', ports: [{ name: 'https', containerPort: 8443 }] },
      { id: 'other', namespace: 'team', labels: { app: 'web' }, ip: '10.0.1.11', ports: [{ containerPort: 80 }] },
      { id: 'neighbour', namespace: NS, labels: { app: 'x' }, ip: '10.0.0.12', ports: [{ containerPort: 80 }] },
      { id: 'apiserver', ip: '172.18.0.2', ports: [{ containerPort: 6443 }] },
    ],
    queries: [
      { from: 'operator', to: 'hook', port: 8443 },
      { from: 'other', to: 'hook', port: 8443 },
      { from: 'neighbour', to: 'hook', port: 8443 },
      { from: 'hook', to: 'apiserver', port: 6443 },
      { from: 'hook', to: 'other', port: 80 },
    ],
  });
  assert.equal(Object.fromEntries(results.map((v) => [`${v.from}->${v.to}:${v.port}`, v.allowed])), {
    'operator->hook:8443': true,
    'other->hook:8443': false,
    'neighbour->hook:8443': false,
    'hook->apiserver:6443': false,
    'hook->other:80': false,
  });
});

test.run();
