// What the Prometheus registry holds, as OpenTelemetry metric data
// (@opentelemetry/sdk-metrics' ResourceMetrics, which the official
// @opentelemetry/otlp-transformer encodes as OTLP). The mapping is the one
// the OpenTelemetry specification gives for Prometheus data
// (specification/compatibility/prometheus_and_openmetrics.md):
//   counter   -> Sum, monotonic, cumulative (start time: when the process began counting)
//   gauge     -> Gauge
//   histogram -> Histogram, cumulative, explicit bounds from the `le` labels and
//                per-bucket (not cumulative) counts, sum and count
// Names, help texts and labels stay as /metrics exports them, so a Collector
// that re-exports to Prometheus gives the series their usual names. Summaries
// (none today) have no counterpart in the SDK's data model and are left out.
import { ValueType, type Attributes, type HrTime } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { AggregationTemporality, DataPointType, type MetricData, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import type { MetricObjectWithValues, MetricValue } from 'prom-client';

/** The instrumentation scope of every metric we push. */
export const OTLP_SCOPE = 'spiceai-operator';

type Family = MetricObjectWithValues<MetricValue<string>> & { values: (MetricValue<string> & { metricName?: string })[] };

export const hrTime = (ms: number): HrTime => [Math.floor(ms / 1000), Math.round((ms % 1000) * 1e6)];

const attributesOf = (labels: Record<string, string | number | undefined>, without?: string): Attributes => {
  const out: Attributes = {};
  for (const [key, value] of Object.entries(labels)) if (key !== without && value !== undefined) out[key] = String(value);
  return out;
};

const descriptor = (f: Family) => ({ name: f.name, description: f.help, unit: '', valueType: ValueType.DOUBLE });

/** One histogram family's series: prom-client's _bucket/_sum/_count samples grouped by their labels without `le`. */
function histogramPoints(f: Family, start: HrTime, end: HrTime) {
  const series = new Map<string, { attributes: Attributes; buckets: [number, number][]; sum: number; count: number }>();
  for (const v of f.values) {
    const attributes = attributesOf(v.labels, 'le');
    const key = JSON.stringify(Object.entries(attributes).sort(([a], [b]) => (a < b ? -1 : 1)));
    let s = series.get(key);
    if (!s) series.set(key, (s = { attributes, buckets: [], sum: 0, count: 0 }));
    if (v.metricName === `${f.name}_bucket`) s.buckets.push([v.labels.le === '+Inf' ? Infinity : Number(v.labels.le), v.value]);
    else if (v.metricName === `${f.name}_sum`) s.sum = v.value;
    else if (v.metricName === `${f.name}_count`) s.count = v.value;
  }
  return [...series.values()].map((s) => {
    const sorted = s.buckets.sort(([a], [b]) => a - b);
    const boundaries = sorted.filter(([le]) => le !== Infinity).map(([le]) => le);
    // Prometheus buckets are cumulative (<= le); OTLP's hold what falls in each (the last: above every bound).
    const cumulative = [...boundaries.map((b) => sorted.find(([le]) => le === b)![1]), s.count];
    const counts = cumulative.map((c, i) => c - (i ? cumulative[i - 1] : 0));
    return {
      attributes: s.attributes,
      startTime: start,
      endTime: end,
      value: { buckets: { boundaries, counts }, sum: s.sum, count: s.count },
    };
  });
}

function toMetricData(f: Family, start: HrTime, end: HrTime): MetricData | undefined {
  const singular = () => f.values.map((v) => ({ attributes: attributesOf(v.labels), startTime: start, endTime: end, value: v.value }));
  switch (String(f.type)) {
    case 'counter':
      return {
        descriptor: descriptor(f),
        aggregationTemporality: AggregationTemporality.CUMULATIVE,
        dataPointType: DataPointType.SUM,
        isMonotonic: true,
        dataPoints: singular(),
      };
    case 'gauge':
      return {
        descriptor: descriptor(f),
        aggregationTemporality: AggregationTemporality.CUMULATIVE,
        dataPointType: DataPointType.GAUGE,
        dataPoints: singular(),
      };
    case 'histogram':
      return {
        descriptor: descriptor(f),
        aggregationTemporality: AggregationTemporality.CUMULATIVE,
        dataPointType: DataPointType.HISTOGRAM,
        dataPoints: histogramPoints(f, start, end),
      };
    default:
      return undefined;
  }
}

/**
 * The registry's families (registry.getMetricsAsJSON()) as one ResourceMetrics. `startMs`: when
 * counting began (the cumulative points' start time); `nowMs`: the collection time.
 */
export function toResourceMetrics(
  families: Family[],
  o: { resource: Record<string, string>; startMs: number; nowMs: number },
): { metrics: ResourceMetrics; skipped: string[] } {
  const start = hrTime(o.startMs);
  const end = hrTime(o.nowMs);
  const metrics: MetricData[] = [];
  const skipped: string[] = [];
  for (const f of families) {
    const data = toMetricData(f, start, end);
    if (data) metrics.push(data);
    else skipped.push(f.name);
  }
  return { metrics: { resource: resourceFromAttributes(o.resource), scopeMetrics: [{ scope: { name: OTLP_SCOPE }, metrics }] }, skipped };
}
