// Pushes the operator's own metrics over OTLP/HTTP (OTEL_EXPORTER_OTLP_*,
// shim/otlp-config.ts): every OTEL_METRIC_EXPORT_INTERVAL, what the
// Prometheus registry holds is encoded by the official
// @opentelemetry/otlp-transformer and POSTed to the receiver, and once more
// when the operator stops, so the last counts arrive too.
//
// A push that fails (unreachable, refused, timed out) is logged and counted
// in spiceai_operator_otlp_exports_total{result="failure"}; it never throws
// and never waits for anything but itself. It is not retried: every push
// carries cumulative values, so the next one carries all that this one would
// have. Pushes never overlap: an interval that comes while one is in flight
// is skipped.
import { gzipSync } from 'node:zlib';
import { JsonMetricsSerializer, ProtobufMetricsSerializer } from '@opentelemetry/otlp-transformer';
import type { Registry } from 'prom-client';
import { realClock, sleep, type Clock } from './clock.ts';
import type { Logger } from './log.ts';
import type { OtlpConfig } from './otlp-config.ts';
import { toResourceMetrics } from './otlp-metrics.ts';

export type OtlpExportResult = 'success' | 'failure';

export interface OtlpExportOptions {
  config: OtlpConfig;
  registry: Registry;
  log: Logger;
  /** Counts each push by result (OperatorMetrics.onOtlpExport). */
  onExport?: (result: OtlpExportResult) => void;
  clock?: Clock;
}

export interface RunningOtlpExport {
  /** One push now; resolves to its result (never rejects). */
  exportNow(): Promise<OtlpExportResult>;
  /** Stops the interval, waits for a push in flight, then pushes a last time. */
  stop(): Promise<void>;
}

const CONTENT_TYPES = { 'http/protobuf': 'application/x-protobuf', 'http/json': 'application/json' } as const;

type Serializer = typeof JsonMetricsSerializer | typeof ProtobufMetricsSerializer;

/** The registry's metrics as one OTLP request body (gzipped when asked); the names of metrics with no OTLP form. */
async function encodedMetrics(
  o: OtlpExportOptions,
  serializer: Serializer,
  times: { startMs: number; nowMs: number },
): Promise<{ body: Uint8Array; skipped: string[] }> {
  const { metrics, skipped } = toResourceMetrics((await o.registry.getMetricsAsJSON()) as Parameters<typeof toResourceMetrics>[0], {
    resource: o.config.resource,
    ...times,
  });
  const encoded = serializer.serializeRequest(metrics);
  if (!encoded) throw new Error('the OTLP serializer produced nothing');
  return { body: o.config.compression === 'gzip' ? gzipSync(encoded) : encoded, skipped };
}

/** POSTs one body; throws on an HTTP error; returns the data points the receiver said it rejected (partial_success). */
async function post(config: OtlpConfig, serializer: Serializer, body: Uint8Array): Promise<number> {
  const response = await fetch(config.url, {
    method: 'POST',
    headers: {
      ...config.headers,
      'content-type': CONTENT_TYPES[config.protocol],
      ...(config.compression === 'gzip' ? { 'content-encoding': 'gzip' } : {}),
    },
    body,
    signal: AbortSignal.timeout(config.timeoutMs),
  });
  const answer = new Uint8Array(await response.arrayBuffer());
  if (!response.ok) {
    throw new Error(`HTTP ${response.status}${answer.length ? `: ${new TextDecoder().decode(answer.slice(0, 200)).trim()}` : ''}`);
  }
  // A receiver may keep part of a push and say how much it dropped (ExportMetricsServiceResponse.partial_success).
  return answer.length ? Number(safely(() => serializer.deserializeResponse(answer))?.partialSuccess?.rejectedDataPoints ?? 0) : 0;
}

/** Why a push failed, for the log: a timeout names the variable that sets it; otherwise the error and its cause. */
function failureMessage(error: unknown, config: OtlpConfig): string {
  if ((error as Error).name === 'TimeoutError') return `no answer within ${config.timeoutMs} ms (OTEL_EXPORTER_OTLP_TIMEOUT)`;
  const cause = (error as { cause?: unknown }).cause;
  return `${(error as Error).message}${cause instanceof Error ? `: ${cause.message}` : ''}`;
}

export function startOtlpExport(o: OtlpExportOptions): RunningOtlpExport {
  const clock = o.clock ?? realClock;
  const { config } = o;
  const serializer = config.protocol === 'http/json' ? JsonMetricsSerializer : ProtobufMetricsSerializer;
  // Counting began about now: the start time of every cumulative point, so a receiver sees a restart as a reset.
  const startMs = clock.now();
  const skippedLogged = new Set<string>();

  async function push(): Promise<OtlpExportResult> {
    try {
      const { body, skipped } = await encodedMetrics(o, serializer, { startMs, nowMs: clock.now() });
      for (const name of skipped.filter((n) => !skippedLogged.has(n))) {
        skippedLogged.add(name);
        o.log.debug('metric not pushed over OTLP: summaries have no OTLP counterpart here', { metric: name });
      }
      const rejected = await post(config, serializer, body);
      if (rejected > 0) o.log.warn('OTLP receiver rejected part of a push', { url: config.url, rejectedDataPoints: rejected });
      o.onExport?.('success');
      return 'success';
    } catch (error) {
      o.log.warn('OTLP push failed; the next one carries the same totals', { url: config.url, error: failureMessage(error, config) });
      o.onExport?.('failure');
      return 'failure';
    }
  }

  let inFlight: Promise<OtlpExportResult> | undefined;
  const exportNow = () => (inFlight ??= push().finally(() => (inFlight = undefined)));
  const stopping = new AbortController();
  const loop = (async () => {
    for (;;) {
      await sleep(clock, config.intervalMs, stopping.signal);
      if (stopping.signal.aborted) return;
      await exportNow();
    }
  })();
  o.log.info('pushing metrics over OTLP', {
    url: config.url,
    protocol: config.protocol,
    intervalMs: config.intervalMs,
    serviceName: config.resource['service.name'],
  });

  return {
    exportNow,
    async stop() {
      stopping.abort();
      await loop;
      await inFlight;
      await exportNow();
    },
  };
}

function safely<T>(f: () => T): T | undefined {
  try {
    return f();
  } catch {
    return undefined;
  }
}
