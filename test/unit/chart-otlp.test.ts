// The chart's telemetry.otlp values, its probes and its logLevel, rendered by
// the real helm; the OTEL_* variables it renders are judged by the operator's
// own reading of them (shim/otlp-config.ts), the way the container gets them.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseAllDocuments } from 'yaml';
import { LEVELS } from '../../shim/log.ts';
import { otlpConfigFromEnv } from '../../shim/otlp-config.ts';
import { CHART_DIR, helm } from '../harness/chart.ts';

function render(values: string[] = []): Record<string, any>[] {
  const r = helm(['template', 'r', CHART_DIR, '--namespace', 'ops', ...values.flatMap((v) => ['--set', v])]);
  assert.is(r.code, 0, r.err);
  return parseAllDocuments(r.out)
    .map((d) => d.toJSON())
    .filter(Boolean);
}
const refused = (values: string[]) => {
  const r = helm(['template', 'r', CHART_DIR, '--namespace', 'ops', ...values.flatMap((v) => ['--set', v])]);
  assert.is.not(r.code, 0, `${values.join(' ')} rendered`);
  return r.err;
};
const container = (docs: Record<string, any>[]) => docs.find((d) => d.kind === 'Deployment')!.spec.template.spec.containers[0];

/** The container's environment as the kubelet makes it: plain values, $(VAR) of earlier ones expanded; Secret and field refs by name. */
function environment(c: any, pod = 'r-spiceai-operator-7d9f-abcde', secrets: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const e of c.env ?? []) {
    if (e.valueFrom?.fieldRef?.fieldPath === 'metadata.name') env[e.name] = pod;
    else if (e.valueFrom?.secretKeyRef) env[e.name] = secrets[`${e.valueFrom.secretKeyRef.name}/${e.valueFrom.secretKeyRef.key}`] ?? '';
    else env[e.name] = String(e.value).replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (whole, name) => env[name] ?? whole);
  }
  return env;
}

const OTLP = ['telemetry.otlp.enabled=true', 'telemetry.otlp.endpoint=http://otel-collector.monitoring:4318'];

test('off by default: no OTEL_* variable, no push', () => {
  const c = container(render());
  assert.not.ok((c.env ?? []).some((e: any) => e.name.startsWith('OTEL_')));
  assert.is(otlpConfigFromEnv(environment(c)), undefined);
});

test('enabled: the operator reads the rendered variables as the values say', () => {
  const c = container(
    render([
      ...OTLP,
      'telemetry.otlp.protocol=http/json',
      'telemetry.otlp.headers.x-scope-orgid=team-a',
      'telemetry.otlp.headers.authorization=Bearer abc',
      'telemetry.otlp.headersSecret.name=otlp-auth',
      'telemetry.otlp.interval=30s',
      'telemetry.otlp.timeout=2500ms',
      'telemetry.otlp.serviceName=spice-ops',
      'telemetry.otlp.resourceAttributes.deployment\\.environment=prod',
    ]),
  );
  const env = environment(c, 'r-spiceai-operator-7d9f-abcde', { 'otlp-auth/headers': 'x-scope-orgid=from-secret,x-api-key=k%2C1' });
  const config = otlpConfigFromEnv(env)!;
  assert.equal(config, {
    url: 'http://otel-collector.monitoring:4318/v1/metrics',
    protocol: 'http/json',
    compression: 'none',
    // The Secret's headers win name by name.
    headers: { authorization: 'Bearer abc', 'x-scope-orgid': 'from-secret', 'x-api-key': 'k,1' },
    timeoutMs: 2500,
    intervalMs: 30_000,
    resource: {
      'service.instance.id': config.resource['service.instance.id'],
      'k8s.namespace.name': 'ops',
      'k8s.pod.name': 'r-spiceai-operator-7d9f-abcde',
      'deployment.environment': 'prod',
      'service.name': 'spice-ops',
    },
  });
  const secretRef = c.env.find((e: any) => e.name === 'OTEL_EXPORTER_OTLP_METRICS_HEADERS');
  assert.equal(secretRef.valueFrom, { secretKeyRef: { name: 'otlp-auth', key: 'headers' } });
});

test('defaults when enabled: http/protobuf, a push a minute, 10 s, the product service name', () => {
  const config = otlpConfigFromEnv(environment(container(render(OTLP))))!;
  assert.is(config.protocol, 'http/protobuf');
  assert.is(config.intervalMs, 60_000);
  assert.is(config.timeoutMs, 10_000);
  assert.is(config.resource['service.name'], 'spice-k8s-operator');
  assert.equal(config.headers, {});
  assert.is(
    container(render(OTLP)).env.find((e: any) => e.name === 'OTEL_EXPORTER_OTLP_METRICS_HEADERS'),
    undefined,
    'no Secret unless named',
  );
  assert.is(otlpConfigFromEnv(environment(container(render([...OTLP, 'telemetry.otlp.interval=2m']))))!.intervalMs, 120_000);
});

test('bad values are refused at render time, naming the value', () => {
  assert.match(refused(['telemetry.otlp.enabled=true']), /telemetry\.otlp\.endpoint/);
  assert.match(refused([...OTLP, 'telemetry.otlp.protocol=grpc']), /protocol/);
  assert.match(refused([...OTLP, 'telemetry.otlp.interval=60']), /interval/);
  assert.match(refused([...OTLP, 'telemetry.otlp.timeout=1h']), /timeout/);
  assert.match(refused(['telemetry.otlp.endpoint=otel:4318']), /endpoint/);
  assert.match(refused([...OTLP, 'telemetry.otlp.headers.x-a=1\\,2']), /headers/);
  assert.match(refused([...OTLP, 'telemetry.otlp.resourceAttributes.a=b\\,c']), /resourceAttributes/);
});

test('with networkPolicy.enabled, the operator may reach the OTLP port and DNS; without OTLP, neither', () => {
  const egress = (values: string[]) =>
    render(['networkPolicy.enabled=true', ...values]).find((d) => d.kind === 'NetworkPolicy')!.spec.egress as any[];
  // After the API server's rule and spiced's (the first two), to any address.
  const ports = (rules: any[]) => rules.slice(2).flatMap((r) => (r.to ? [] : r.ports.map((p: any) => `${p.port}/${p.protocol}`)));
  assert.equal(ports(egress(OTLP)), ['4318/TCP', '53/UDP', '53/TCP']);
  assert.equal(ports(egress(['telemetry.otlp.enabled=true', 'telemetry.otlp.endpoint=https://otlp.vendor.example/prefix'])), [
    '443/TCP',
    '53/UDP',
    '53/TCP',
  ]);
  assert.equal(ports(egress([])), []);
});

test('probes on --health-probe-bind-address (port 8081): /healthz and /readyz, not the status API', () => {
  const c = container(render());
  assert.ok(c.args.includes('--health-probe-bind-address=0.0.0.0:8081'));
  assert.equal(c.livenessProbe.httpGet, { path: '/healthz', port: 'probes' });
  assert.equal(c.readinessProbe.httpGet, { path: '/readyz', port: 'probes' });
  assert.ok(c.ports.some((p: any) => p.name === 'probes' && p.containerPort === 8081));
  const policy = render(['networkPolicy.enabled=true']).find((d) => d.kind === 'NetworkPolicy')!;
  assert.ok(
    policy.spec.ingress.some((r: any) => !r.from && r.ports.some((p: any) => p.port === 'probes')),
    "the kubelet's probes come from the node",
  );
});

test("logLevel: each of the operator's levels maps to --log-level; others refused", () => {
  for (const level of LEVELS) assert.ok(container(render([`logLevel=${level}`])).args.includes(`--log-level=${level}`), level);
  assert.match(refused(['logLevel=trace']), /logLevel/);
});

test.run();
