// The chart's split install (handlers.<name>.mode), rendered by the real helm:
// the default renders exactly what it did before (no hook, no --handlers);
// `hook` renders a Deployment, Service and optional HorizontalPodAutoscaler
// running `serve <name>` with the Secret the operator issues (run
// --handler-service, read back with the operator's own flag parser), no
// ServiceAccount token, and NetworkPolicies that let the operator in; `off`
// leaves the handler out of --handlers.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseAllDocuments } from 'yaml';
import { parseHookFlags } from '../../shim/cli/hook-flags.ts';
import { hookSecretName } from '../../shim/hook-tls.ts';
import { HANDLER_NAMES } from '../../shim/handler-names.ts';
import { CHART_DIR, helm } from '../harness/chart.ts';

const NS = 'ops';
function render(sets: string[] = []): Record<string, any>[] {
  const r = helm(['template', 'r', CHART_DIR, '--namespace', NS, ...sets.flatMap((v) => ['--set', v])]);
  assert.is(r.code, 0, r.err);
  return parseAllDocuments(r.out)
    .map((d) => d.toJSON())
    .filter(Boolean);
}
const find = (docs: any[], kind: string, name: string) => docs.find((d) => d.kind === kind && d.metadata.name === name);
const operatorArgs = (docs: any[]): string[] => find(docs, 'Deployment', 'r-spiceai-operator').spec.template.spec.containers[0].args;
const flagValues = (args: string[], flag: string) => args.filter((a) => a.startsWith(`--${flag}=`)).map((a) => a.slice(flag.length + 3));
const matches = (selector: Record<string, string>, labels: Record<string, string>) =>
  Object.entries(selector).every(([k, v]) => labels[k] === v);

const SPLIT = [
  'handlers.workloads.mode=hook',
  'handlers.workloads.replicas=3',
  'handlers.workloads.resources.requests.cpu=200m',
  'handlers.pki.mode=hook',
  'handlers.pki.autoscaling.enabled=true',
  'handlers.pki.autoscaling.maxReplicas=6',
  'handlers.pod-monitor.mode=off',
];

test('by default every handler runs in the operator: no hook objects, no --handlers or --handler-service', () => {
  const docs = render();
  assert.not.ok(docs.some((d) => d.metadata.labels?.['app.kubernetes.io/component'] === 'hook' || d.kind === 'HorizontalPodAutoscaler'));
  assert.not.ok(
    operatorArgs(docs).some((a) => a.startsWith('--handlers') || a.startsWith('--handler-')),
    operatorArgs(docs).join(' '),
  );
});

test('a split install: the operator runs what is not off and calls each hook by the Service the chart renders, with the Secret it mounts', () => {
  const docs = render(SPLIT);
  const args = operatorArgs(docs);
  assert.equal(flagValues(args, 'handlers'), ['workloads,network-policy,cluster,pki'], 'pod-monitor is off');
  assert.equal(flagValues(args, 'handler-workers'), ['16'], 'hooked handlers reconcile handlerWorkers objects at once');
  // What `run` makes of the chart's flags: its own parser.
  const hooks = parseHookFlags(
    { 'handler-timeout-seconds': '10', 'handler-service': flagValues(args, 'handler-service') },
    flagValues(args, 'handlers')[0]!.split(','),
    NS,
  );
  assert.equal(Object.keys(hooks).sort(), ['pki', 'workloads']);
  for (const [handler, hook] of Object.entries(hooks)) {
    const name = `r-spiceai-operator-${handler}-hook`;
    assert.is(hook.service, name);
    assert.is(hook.url, `https://${name}.${NS}.svc`);
    const service = find(docs, 'Service', name);
    assert.equal(
      service.spec.ports,
      [{ name: 'https', port: 443, targetPort: 'https', protocol: 'TCP' }],
      'the operator dials port 443 of the Service',
    );
    const deployment = find(docs, 'Deployment', name);
    const pod = deployment.spec.template.spec;
    const c = pod.containers[0];
    assert.equal(c.args, [
      'serve',
      handler,
      '--listen=0.0.0.0:8443',
      '--tls-cert=/tls/tls.crt',
      '--tls-key=/tls/tls.key',
      '--client-ca=/tls/ca.crt',
    ]);
    assert.equal(c.ports, [{ name: 'https', containerPort: 8443, protocol: 'TCP' }]);
    assert.is(pod.automountServiceAccountToken, false, 'a hook has no API server credentials');
    assert.is(pod.serviceAccountName, undefined);
    assert.equal(pod.volumes, [{ name: 'tls', secret: { secretName: hookSecretName(name) } }], 'the Secret the operator issues');
    assert.equal(c.volumeMounts, [{ name: 'tls', mountPath: '/tls', readOnly: true }]);
    assert.ok(c.readinessProbe.tcpSocket && !c.readinessProbe.httpGet, 'a TCP probe: an HTTPS one has no client certificate');
    assert.is(c.image, find(docs, 'Deployment', 'r-spiceai-operator').spec.template.spec.containers[0].image);
    assert.is(c.securityContext.readOnlyRootFilesystem, true);
    const labels = deployment.spec.template.metadata.labels;
    assert.ok(matches(service.spec.selector, labels) && matches(deployment.spec.selector.matchLabels, labels));
    // The operator's Services, PodDisruptionBudget and Deployment never select hook pods, nor the reverse.
    for (const s of docs.filter((d) => d.kind === 'Service' && !d.metadata.name.endsWith('-hook')))
      assert.not.ok(matches(s.spec.selector, labels), s.metadata.name);
    const operatorLabels = find(docs, 'Deployment', 'r-spiceai-operator').spec.template.metadata.labels;
    assert.not.ok(matches(service.spec.selector, operatorLabels));
  }
  const workloads = find(docs, 'Deployment', 'r-spiceai-operator-workloads-hook');
  assert.is(workloads.spec.replicas, 3);
  assert.equal(workloads.spec.template.spec.containers[0].resources, { requests: { cpu: '200m', memory: '96Mi' } });
  const pki = find(docs, 'Deployment', 'r-spiceai-operator-pki-hook');
  assert.is(pki.spec.replicas, undefined, 'the autoscaler sets the replicas');
  const hpa = find(docs, 'HorizontalPodAutoscaler', 'r-spiceai-operator-pki-hook');
  assert.equal(hpa.spec.scaleTargetRef, { apiVersion: 'apps/v1', kind: 'Deployment', name: 'r-spiceai-operator-pki-hook' });
  assert.is(hpa.spec.minReplicas, 2);
  assert.is(hpa.spec.maxReplicas, 6);
  assert.equal(hpa.spec.metrics, [
    { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } },
  ]);
  assert.not.ok(find(docs, 'HorizontalPodAutoscaler', 'r-spiceai-operator-workloads-hook'));
  const lint = helm(['lint', '--strict', CHART_DIR, ...SPLIT.flatMap((v) => ['--set', v])]);
  assert.is(lint.code, 0, lint.out + lint.err);
});

test("hook pods are scheduled like the operator's, and a drain leaves one serving (PodDisruptionBudget, as the operator's)", () => {
  const docs = render([
    ...SPLIT,
    'handlers.cluster.mode=hook',
    'handlers.cluster.replicas=1',
    'nodeSelector.pool=system',
    'tolerations[0].key=dedicated',
    'tolerations[0].operator=Exists',
    'tolerations[0].effect=NoSchedule',
    'priorityClassName=system-cluster-critical',
  ]);
  const operatorPod = find(docs, 'Deployment', 'r-spiceai-operator').spec.template.spec;
  for (const handler of ['workloads', 'pki', 'cluster']) {
    const name = `r-spiceai-operator-${handler}-hook`;
    const deployment = find(docs, 'Deployment', name);
    const pod = deployment.spec.template.spec;
    assert.equal(pod.nodeSelector, { pool: 'system' }, handler);
    assert.equal(pod.tolerations, operatorPod.tolerations, handler);
    assert.is(pod.priorityClassName, 'system-cluster-critical', handler);
    const pdb = find(docs, 'PodDisruptionBudget', name);
    if (handler === 'cluster') {
      assert.not.ok(pdb, 'one replica: a PodDisruptionBudget would block every drain');
      continue;
    }
    // workloads: 3 replicas; pki: an autoscaler with at least 2.
    assert.equal(pdb.spec, { minAvailable: 1, selector: { matchLabels: deployment.spec.selector.matchLabels } }, handler);
  }
  assert.not.ok(
    render(['handlers.workloads.mode=hook', 'podDisruptionBudget.enabled=false']).some((d) => d.kind === 'PodDisruptionBudget'),
  );
  const defaults = render(['handlers.workloads.mode=hook']);
  assert.not.ok(
    find(defaults, 'Deployment', 'r-spiceai-operator-workloads-hook').spec.template.spec.nodeSelector,
    'nothing set: no nodeSelector',
  );
});

test("every handler can be hooked or turned off; the chart knows the operator's handlers", () => {
  const all = render(HANDLER_NAMES.map((h) => `handlers.${h}.mode=hook`));
  assert.equal(flagValues(operatorArgs(all), 'handlers'), [HANDLER_NAMES.join(',')]);
  assert.equal(
    flagValues(operatorArgs(all), 'handler-service'),
    HANDLER_NAMES.map((h) => `${h}=r-spiceai-operator-${h}-hook`),
  );
  const one = render(HANDLER_NAMES.filter((h) => h !== 'cluster').map((h) => `handlers.${h}.mode=off`));
  assert.equal(flagValues(operatorArgs(one), 'handlers'), ['cluster']);
  assert.equal(flagValues(operatorArgs(one), 'handler-service'), []);
});

test('what cannot work is refused at install time, naming it', () => {
  for (const [sets, pattern] of [
    [HANDLER_NAMES.map((h) => `handlers.${h}.mode=off`), /every handler is off/],
    [
      ['handlers.workloads.mode=hook', 'sidecarInjector.certManager.enabled=true'],
      /hook needs the operator's own CA, which sidecarInjector\.certManager\.enabled replaces/,
    ],
    [['handlers.workloads.mode=remote'], /handlers\/workloads\/mode/],
    [['handlers.workloads.replicas=0'], /handlers\/workloads\/replicas/],
    [['handlers.injection.mode=hook'], /injection/],
  ] as [string[], RegExp][]) {
    const r = helm(['template', 'x', CHART_DIR, ...sets.flatMap((v) => ['--set', v])]);
    assert.is.not(r.code, 0, sets.join());
    assert.match(r.err, pattern, `${sets.join()}: ${r.err}`);
  }
});

test('with networkPolicy.enabled, the operator may reach the hooks (and DNS), and the hooks take only the operator', () => {
  const docs = render([...SPLIT, 'networkPolicy.enabled=true']);
  const operator = find(docs, 'NetworkPolicy', 'r-spiceai-operator');
  const hookLabels = find(docs, 'Deployment', 'r-spiceai-operator-workloads-hook').spec.template.metadata.labels;
  const toHooks = operator.spec.egress.find((r: any) =>
    r.to?.some((p: any) => p.podSelector?.matchLabels && matches(p.podSelector.matchLabels, hookLabels)),
  );
  assert.equal(toHooks?.ports, [{ port: 8443, protocol: 'TCP' }]);
  assert.ok(operator.spec.egress.some((r: any) => !r.to && r.ports.some((p: any) => p.port === 53 && p.protocol === 'UDP')));
  const hooks = find(docs, 'NetworkPolicy', 'r-spiceai-operator-hooks');
  assert.ok(matches(hooks.spec.podSelector.matchLabels, hookLabels));
  assert.equal(hooks.spec.policyTypes, ['Ingress', 'Egress']);
  assert.is(hooks.spec.egress, undefined, 'a hook calls nothing');
  const operatorLabels = find(docs, 'Deployment', 'r-spiceai-operator').spec.template.metadata.labels;
  assert.is(hooks.spec.ingress.length, 1);
  assert.ok(matches(hooks.spec.ingress[0].from[0].podSelector.matchLabels, operatorLabels));
  assert.not.ok(
    render(['networkPolicy.enabled=true']).some((d) => d.metadata.name === 'r-spiceai-operator-hooks'),
    'no hooks, no hook policy',
  );
});

test.run();
