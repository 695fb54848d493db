// The OTEL_* variables of the OTLP push (shim/otlp-config.ts), read as the
// OpenTelemetry specification says ("OTLP Exporter Configuration",
// "Environment Variable Specification"); each bad value refused with a
// message naming its variable.
import { hostname } from 'node:os';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  DEFAULT_INTERVAL_MS,
  DEFAULT_SERVICE_NAME,
  DEFAULT_TIMEOUT_MS,
  otlpConfigFromEnv,
  OtlpConfigError,
} from '../../shim/otlp-config.ts';

const BASE = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector.monitoring:4318' };

function refused(env: Record<string, string>, variable: string, detail?: RegExp) {
  try {
    otlpConfigFromEnv(env);
  } catch (error) {
    assert.instance(error, OtlpConfigError);
    const message = (error as Error).message;
    assert.ok(message.startsWith(`${variable}=`), `the message names ${variable}: ${message}`);
    if (detail) assert.match(message, detail);
    return;
  }
  assert.unreachable(`${JSON.stringify(env)} was accepted`);
}

test('no endpoint: no push, whatever else is set', () => {
  assert.is(otlpConfigFromEnv({}), undefined);
  assert.is(otlpConfigFromEnv({ OTEL_SERVICE_NAME: 'x', OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' }), undefined);
  assert.is(otlpConfigFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: '  ' }), undefined);
});

test("defaults: http/protobuf, no compression, 10 s timeout, a push a minute, the product's service name", () => {
  const c = otlpConfigFromEnv(BASE)!;
  assert.equal(c, {
    url: 'http://collector.monitoring:4318/v1/metrics',
    protocol: 'http/protobuf',
    compression: 'none',
    headers: {},
    timeoutMs: DEFAULT_TIMEOUT_MS,
    intervalMs: DEFAULT_INTERVAL_MS,
    resource: { 'service.instance.id': hostname(), 'service.name': DEFAULT_SERVICE_NAME },
  });
  assert.is(DEFAULT_SERVICE_NAME, 'spice-k8s-operator');
  assert.is(DEFAULT_TIMEOUT_MS, 10_000);
  assert.is(DEFAULT_INTERVAL_MS, 60_000);
});

test('OTEL_EXPORTER_OTLP_ENDPOINT is a base: v1/metrics is appended after a slash; the metrics endpoint is used as it is and wins', () => {
  assert.is(otlpConfigFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'https://otel.example:4318/' })!.url, 'https://otel.example:4318/v1/metrics');
  assert.is(otlpConfigFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://gw:8080/otlp' })!.url, 'http://gw:8080/otlp/v1/metrics');
  assert.is(otlpConfigFromEnv({ OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'http://gw:8080/custom/path' })!.url, 'http://gw:8080/custom/path');
  assert.is(otlpConfigFromEnv({ ...BASE, OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'http://other:4318/m' })!.url, 'http://other:4318/m');
  refused({ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' }, 'OTEL_EXPORTER_OTLP_ENDPOINT', /http:\/\/ or https:\/\//);
  refused({ OTEL_EXPORTER_OTLP_ENDPOINT: 'not a url' }, 'OTEL_EXPORTER_OTLP_ENDPOINT');
  refused({ OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'grpc://collector:4317' }, 'OTEL_EXPORTER_OTLP_METRICS_ENDPOINT');
});

test('protocol: http/protobuf or http/json; the metrics variable wins; grpc and others refused', () => {
  assert.is(otlpConfigFromEnv({ ...BASE, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' })!.protocol, 'http/json');
  assert.is(
    otlpConfigFromEnv({ ...BASE, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: 'http/protobuf' })!
      .protocol,
    'http/protobuf',
  );
  refused({ ...BASE, OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }, 'OTEL_EXPORTER_OTLP_PROTOCOL', /gRPC is not supported: use http\/protobuf/);
  refused({ ...BASE, OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: 'http' }, 'OTEL_EXPORTER_OTLP_METRICS_PROTOCOL', /http\/protobuf, http\/json/);
});

test('headers: key=value pairs, percent-decoded, names lower-cased; the metrics variable wins key by key', () => {
  const c = otlpConfigFromEnv({
    ...BASE,
    OTEL_EXPORTER_OTLP_HEADERS: 'Authorization=Bearer%20abc, x-tenant = a , x-both=general',
    OTEL_EXPORTER_OTLP_METRICS_HEADERS: 'x-both=metrics',
  })!;
  assert.equal(c.headers, { authorization: 'Bearer abc', 'x-tenant': 'a', 'x-both': 'metrics' });
  refused({ ...BASE, OTEL_EXPORTER_OTLP_HEADERS: 'novalue' }, 'OTEL_EXPORTER_OTLP_HEADERS', /key=value/);
  refused({ ...BASE, OTEL_EXPORTER_OTLP_HEADERS: 'bad name=1' }, 'OTEL_EXPORTER_OTLP_HEADERS', /not an HTTP header name/);
  refused({ ...BASE, OTEL_EXPORTER_OTLP_METRICS_HEADERS: 'a=%zz' }, 'OTEL_EXPORTER_OTLP_METRICS_HEADERS', /percent-encoding/);
  refused({ ...BASE, OTEL_EXPORTER_OTLP_HEADERS: 'a=x%0D%0Ay' }, 'OTEL_EXPORTER_OTLP_HEADERS', /line break/);
});

test('timeout and interval: whole milliseconds above 0', () => {
  const c = otlpConfigFromEnv({ ...BASE, OTEL_EXPORTER_OTLP_TIMEOUT: '2500', OTEL_METRIC_EXPORT_INTERVAL: '15000' })!;
  assert.is(c.timeoutMs, 2500);
  assert.is(c.intervalMs, 15000);
  assert.is(otlpConfigFromEnv({ ...BASE, OTEL_EXPORTER_OTLP_TIMEOUT: '2500', OTEL_EXPORTER_OTLP_METRICS_TIMEOUT: '700' })!.timeoutMs, 700);
  for (const bad of ['0', '-1', '1.5', '10s', 'abc']) {
    refused({ ...BASE, OTEL_EXPORTER_OTLP_TIMEOUT: bad }, 'OTEL_EXPORTER_OTLP_TIMEOUT', /whole number of milliseconds/);
    refused({ ...BASE, OTEL_EXPORTER_OTLP_METRICS_TIMEOUT: bad }, 'OTEL_EXPORTER_OTLP_METRICS_TIMEOUT');
    refused({ ...BASE, OTEL_METRIC_EXPORT_INTERVAL: bad }, 'OTEL_METRIC_EXPORT_INTERVAL', /whole number of milliseconds/);
  }
});

test('compression: none or gzip', () => {
  assert.is(otlpConfigFromEnv({ ...BASE, OTEL_EXPORTER_OTLP_COMPRESSION: 'gzip' })!.compression, 'gzip');
  assert.is(
    otlpConfigFromEnv({ ...BASE, OTEL_EXPORTER_OTLP_COMPRESSION: 'gzip', OTEL_EXPORTER_OTLP_METRICS_COMPRESSION: 'none' })!.compression,
    'none',
  );
  refused({ ...BASE, OTEL_EXPORTER_OTLP_COMPRESSION: 'zstd' }, 'OTEL_EXPORTER_OTLP_COMPRESSION', /none, gzip/);
});

test('resource: OTEL_RESOURCE_ATTRIBUTES, with OTEL_SERVICE_NAME winning over its service.name', () => {
  const c = otlpConfigFromEnv({
    ...BASE,
    OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment=prod,k8s.pod.name=op-1,service.instance.id=op-1,team=a%2Cb',
  })!;
  assert.equal(c.resource, {
    'service.instance.id': 'op-1',
    'deployment.environment': 'prod',
    'k8s.pod.name': 'op-1',
    team: 'a,b',
    'service.name': DEFAULT_SERVICE_NAME,
  });
  assert.is(otlpConfigFromEnv({ ...BASE, OTEL_RESOURCE_ATTRIBUTES: 'service.name=from-attrs' })!.resource['service.name'], 'from-attrs');
  assert.is(
    otlpConfigFromEnv({ ...BASE, OTEL_RESOURCE_ATTRIBUTES: 'service.name=from-attrs', OTEL_SERVICE_NAME: 'ops' })!.resource['service.name'],
    'ops',
  );
  refused({ ...BASE, OTEL_RESOURCE_ATTRIBUTES: 'a=1,=2' }, 'OTEL_RESOURCE_ATTRIBUTES', /key=value/);
});

test('off switches: OTEL_SDK_DISABLED=true and OTEL_METRICS_EXPORTER without otlp; other values refused', () => {
  assert.is(otlpConfigFromEnv({ ...BASE, OTEL_SDK_DISABLED: 'true' }), undefined);
  assert.ok(otlpConfigFromEnv({ ...BASE, OTEL_SDK_DISABLED: 'false' }));
  assert.is(otlpConfigFromEnv({ ...BASE, OTEL_METRICS_EXPORTER: 'none' }), undefined);
  assert.is(otlpConfigFromEnv({ ...BASE, OTEL_METRICS_EXPORTER: 'prometheus' }), undefined);
  assert.ok(otlpConfigFromEnv({ ...BASE, OTEL_METRICS_EXPORTER: 'otlp,prometheus' }));
  refused({ ...BASE, OTEL_METRICS_EXPORTER: 'console' }, 'OTEL_METRICS_EXPORTER', /console is not one/);
  refused({ ...BASE, OTEL_SDK_DISABLED: 'yes' }, 'OTEL_SDK_DISABLED', /true or false/);
});

test('TLS file variables are refused, naming what to do instead', () => {
  refused({ ...BASE, OTEL_EXPORTER_OTLP_CERTIFICATE: '/etc/ca.pem' }, 'OTEL_EXPORTER_OTLP_CERTIFICATE', /NODE_EXTRA_CA_CERTS/);
  refused({ ...BASE, OTEL_EXPORTER_OTLP_METRICS_CLIENT_KEY: '/k' }, 'OTEL_EXPORTER_OTLP_METRICS_CLIENT_KEY', /not supported/);
});

test.run();
