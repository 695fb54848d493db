// The OTLP push of the operator's own metrics, configured the way every
// OpenTelemetry SDK is: by the standard environment variables
// (opentelemetry-specification, "OTLP Exporter Configuration" and
// "Environment Variable Specification"). Each variable is read here and only
// here; a value we cannot honour is refused at start with a message that
// names the variable, never ignored.
import { hostname } from 'node:os';

/** What the product documents as the operator's service name (facts §10: "the service name is spice-k8s-operator"). */
export const DEFAULT_SERVICE_NAME = 'spice-k8s-operator';
/** The protocols we speak: OTLP over HTTP, with a protobuf or a JSON body. gRPC is refused. */
export const OTLP_PROTOCOLS = ['http/protobuf', 'http/json'] as const;
export type OtlpProtocol = (typeof OTLP_PROTOCOLS)[number];
export const OTLP_COMPRESSIONS = ['none', 'gzip'] as const;
export type OtlpCompression = (typeof OTLP_COMPRESSIONS)[number];
/** The specification's defaults: 10 s per request, one export a minute. */
export const DEFAULT_TIMEOUT_MS = 10_000;
export const DEFAULT_INTERVAL_MS = 60_000;
/** The path a base OTEL_EXPORTER_OTLP_ENDPOINT gets for metrics. */
export const METRICS_PATH = 'v1/metrics';

export interface OtlpConfig {
  /** Where each export is POSTed (the whole URL). */
  url: string;
  protocol: OtlpProtocol;
  compression: OtlpCompression;
  /** Sent with every export (may hold credentials: never logged). */
  headers: Record<string, string>;
  timeoutMs: number;
  intervalMs: number;
  /** The resource's attributes, service.name among them. */
  resource: Record<string, string>;
}

/** A variable whose value we cannot honour; the message names it. */
export class OtlpConfigError extends Error {}

type Env = Record<string, string | undefined>;

const refuse = (name: string, value: string, expected: string) => new OtlpConfigError(`${name}=${JSON.stringify(value)}: ${expected}`);

/** The signal-specific variable when set (non-empty), else the general one: the specification's precedence. */
function pick(env: Env, general: string, metrics: string): { name: string; value: string } | undefined {
  for (const name of [metrics, general]) {
    const value = env[name]?.trim();
    if (value) return { name, value };
  }
  return undefined;
}

function endpointOf(env: Env): string | undefined {
  const given = pick(env, 'OTEL_EXPORTER_OTLP_ENDPOINT', 'OTEL_EXPORTER_OTLP_METRICS_ENDPOINT');
  if (!given) return undefined;
  let url: URL;
  try {
    url = new URL(given.value);
  } catch {
    throw refuse(given.name, given.value, 'expected an http:// or https:// URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw refuse(given.name, given.value, `expected an http:// or https:// URL (OTLP over HTTP), not ${url.protocol}`);
  // The signal-specific URL is used as it is; the general one is a base the signal's path is appended to.
  if (given.name === 'OTEL_EXPORTER_OTLP_ENDPOINT') url.pathname = `${url.pathname.replace(/\/?$/, '/')}${METRICS_PATH}`;
  return url.href;
}

function protocolOf(env: Env): OtlpProtocol {
  const given = pick(env, 'OTEL_EXPORTER_OTLP_PROTOCOL', 'OTEL_EXPORTER_OTLP_METRICS_PROTOCOL');
  if (!given) return 'http/protobuf';
  if ((OTLP_PROTOCOLS as readonly string[]).includes(given.value)) return given.value as OtlpProtocol;
  if (given.value === 'grpc')
    throw refuse(
      given.name,
      given.value,
      `gRPC is not supported: use http/protobuf (or http/json) and the receiver's OTLP/HTTP port (4318 on a Collector)`,
    );
  throw refuse(given.name, given.value, `expected one of ${OTLP_PROTOCOLS.join(', ')}`);
}

function compressionOf(env: Env): OtlpCompression {
  const given = pick(env, 'OTEL_EXPORTER_OTLP_COMPRESSION', 'OTEL_EXPORTER_OTLP_METRICS_COMPRESSION');
  if (!given) return 'none';
  if ((OTLP_COMPRESSIONS as readonly string[]).includes(given.value)) return given.value as OtlpCompression;
  throw refuse(given.name, given.value, `expected one of ${OTLP_COMPRESSIONS.join(', ')}`);
}

/** A whole number of milliseconds above 0. */
function millis(env: Env, name: string, fallback: number): number {
  const value = env[name]?.trim();
  if (!value) return fallback;
  if (!/^\d+$/.test(value) || Number(value) <= 0 || !Number.isSafeInteger(Number(value)))
    throw refuse(name, value, 'expected a whole number of milliseconds above 0');
  return Number(value);
}

function timeoutOf(env: Env): number {
  const given = pick(env, 'OTEL_EXPORTER_OTLP_TIMEOUT', 'OTEL_EXPORTER_OTLP_METRICS_TIMEOUT');
  return given ? millis({ [given.name]: given.value }, given.name, DEFAULT_TIMEOUT_MS) : DEFAULT_TIMEOUT_MS;
}

// An HTTP header name is a token (RFC 9110 §5.6.2).
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/**
 * `key1=value1,key2=value2` (the W3C Baggage format without properties, values percent-encoded),
 * the format of OTEL_EXPORTER_OTLP_HEADERS and OTEL_RESOURCE_ATTRIBUTES.
 */
export function parseKeyValues(name: string, value: string, keyIsHeader: boolean): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of value.split(',')) {
    if (!item.trim()) continue;
    const eq = item.indexOf('=');
    const key = eq > 0 ? item.slice(0, eq).trim() : '';
    if (!key) throw refuse(name, value, `expected key=value[,key=value...], got ${JSON.stringify(item.trim())}`);
    if (keyIsHeader && !TOKEN.test(key)) throw refuse(name, value, `${JSON.stringify(key)} is not an HTTP header name`);
    let decoded: string;
    try {
      decoded = decodeURIComponent(item.slice(eq + 1).trim());
    } catch {
      throw refuse(name, value, `the value of ${key} is not valid percent-encoding`);
    }
    if (keyIsHeader && /[\r\n\0]/.test(decoded)) throw refuse(name, value, `the value of ${key} holds a line break or NUL`);
    out[keyIsHeader ? key.toLowerCase() : key] = decoded;
  }
  return out;
}

function headersOf(env: Env): Record<string, string> {
  const out: Record<string, string> = {};
  // The signal-specific headers win key by key.
  for (const name of ['OTEL_EXPORTER_OTLP_HEADERS', 'OTEL_EXPORTER_OTLP_METRICS_HEADERS']) {
    const value = env[name];
    if (value?.trim()) Object.assign(out, parseKeyValues(name, value, true));
  }
  return out;
}

function resourceOf(env: Env): Record<string, string> {
  const given = env.OTEL_RESOURCE_ATTRIBUTES?.trim() ? parseKeyValues('OTEL_RESOURCE_ATTRIBUTES', env.OTEL_RESOURCE_ATTRIBUTES, false) : {};
  const serviceName = env.OTEL_SERVICE_NAME?.trim();
  // OTEL_SERVICE_NAME wins over a service.name in OTEL_RESOURCE_ATTRIBUTES; the instance is this pod (HOSTNAME in a pod).
  return { 'service.instance.id': hostname(), ...given, 'service.name': serviceName || given['service.name'] || DEFAULT_SERVICE_NAME };
}

/** Variables of TLS files: Node reads a CA from NODE_EXTRA_CA_CERTS; client certificates we do not send. */
const UNSUPPORTED = [
  ['OTEL_EXPORTER_OTLP_CERTIFICATE', 'set NODE_EXTRA_CA_CERTS to the CA file instead'],
  ['OTEL_EXPORTER_OTLP_METRICS_CERTIFICATE', 'set NODE_EXTRA_CA_CERTS to the CA file instead'],
  ['OTEL_EXPORTER_OTLP_CLIENT_KEY', 'client certificates are not supported'],
  ['OTEL_EXPORTER_OTLP_METRICS_CLIENT_KEY', 'client certificates are not supported'],
  ['OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE', 'client certificates are not supported'],
  ['OTEL_EXPORTER_OTLP_METRICS_CLIENT_CERTIFICATE', 'client certificates are not supported'],
] as const;

/** OTEL_METRICS_EXPORTER values we accept: otlp (push), none (no push), prometheus (/metrics, always served). */
const METRICS_EXPORTERS = ['otlp', 'none', 'prometheus'];

/**
 * The OTLP push configuration, or undefined when there is nothing to push to: no endpoint
 * (OTEL_EXPORTER_OTLP_METRICS_ENDPOINT or OTEL_EXPORTER_OTLP_ENDPOINT), OTEL_SDK_DISABLED=true, or
 * OTEL_METRICS_EXPORTER without otlp. Throws OtlpConfigError on a value we cannot honour.
 */
export function otlpConfigFromEnv(env: Env): OtlpConfig | undefined {
  const exporters = env.OTEL_METRICS_EXPORTER?.trim();
  const names = exporters ? exporters.split(',').map((s) => s.trim()) : ['otlp'];
  const unknown = names.filter((n) => !METRICS_EXPORTERS.includes(n));
  if (unknown.length)
    throw refuse(
      'OTEL_METRICS_EXPORTER',
      exporters!,
      `expected a list of ${METRICS_EXPORTERS.join(', ')} (${unknown.join(', ')} is not one)`,
    );
  const disabled = env.OTEL_SDK_DISABLED?.trim().toLowerCase();
  if (disabled && disabled !== 'true' && disabled !== 'false')
    throw refuse('OTEL_SDK_DISABLED', env.OTEL_SDK_DISABLED!, 'expected true or false');
  if (disabled === 'true' || !names.includes('otlp') || names.includes('none')) return undefined;
  const url = endpointOf(env);
  if (!url) return undefined;
  for (const [name, instead] of UNSUPPORTED) if (env[name]?.trim()) throw refuse(name, env[name]!, `not supported: ${instead}`);
  return {
    url,
    protocol: protocolOf(env),
    compression: compressionOf(env),
    headers: headersOf(env),
    timeoutMs: timeoutOf(env),
    intervalMs: millis(env, 'OTEL_METRIC_EXPORT_INTERVAL', DEFAULT_INTERVAL_MS),
    resource: resourceOf(env),
  };
}
